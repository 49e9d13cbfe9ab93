/**
 * Mean cross-entropy of next-token logits against targets (teacher forcing: targets are the inputs shifted
 * by one). loss = mean_t (logsumexp(z_t) − z_t[target_t]); dz_t = (softmax(z_t) − onehot(target_t)) / N.
 * The softmax is the backend's kernel (its sum runs in doubles, so a big vocabulary does not lose digits).
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

export function crossEntropy(tape: Tape, logits: Value, targets: Int32Array): Value {
  const vocab = logits.shape[logits.shape.length - 1] as number;
  const n = logits.data.length / vocab;
  if (targets.length !== n) throw new PeelError("INVALID_ARGUMENT", `train: ${targets.length} targets for ${n} rows of logits`);
  // softmax rows (the backend's kernel, sums in doubles) are kept for the backward pass: dz = (p − onehot) / N
  const probs = Float32Array.from(logits.data);
  let total = 0;
  for (let t = 0; t < n; t++) {
    const target = targets[t] as number;
    if (!(target >= 0 && target < vocab)) throw new PeelError("INVALID_ARGUMENT", `train: target id ${target} at ${t} is outside the vocabulary 0..${vocab - 1}`);
    const row = probs.subarray(t * vocab, (t + 1) * vocab);
    tape.kernels.softmax(row, vocab);
    // −log p: p ≥ ~1e-38 unless the target's logit is ~87 below the best; clamp so the loss stays finite
    total -= Math.log(Math.max(row[target] as number, 1e-38));
  }
  const loss = tape.output([1], [logits]);
  loss.data[0] = total / n;
  tape.record(loss, (g) => {
    const gl = tape.grad(logits);
    const s = (g[0] as number) / n;
    for (let i = 0; i < gl.length; i++) gl[i] = (gl[i] as number) + (probs[i] as number) * s;
    for (let t = 0; t < n; t++) gl[t * vocab + (targets[t] as number)] = (gl[t * vocab + (targets[t] as number)] as number) - s;
  });
  return loss;
}
