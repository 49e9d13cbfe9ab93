/**
 * Mean cross-entropy of next-token logits against targets (teacher forcing: targets are the inputs shifted
 * by one). loss = mean_t (logsumexp(z_t) − z_t[target_t]); dz_t = (softmax(z_t) − onehot(target_t)) / N.
 * Sums run in doubles, so the loss of a big vocabulary does not lose digits.
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

export function crossEntropy(tape: Tape, logits: Value, targets: Int32Array): Value {
  const vocab = logits.shape[logits.shape.length - 1] as number;
  const n = logits.data.length / vocab;
  if (targets.length !== n) throw new PeelError("INVALID_ARGUMENT", `train: ${targets.length} targets for ${n} rows of logits`);
  const lse = new Float64Array(n);
  let total = 0;
  for (let t = 0; t < n; t++) {
    const target = targets[t] as number;
    if (!(target >= 0 && target < vocab)) throw new PeelError("INVALID_ARGUMENT", `train: target id ${target} at ${t} is outside the vocabulary 0..${vocab - 1}`);
    const o = t * vocab;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits.data[o + i] as number);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp((logits.data[o + i] as number) - max);
    lse[t] = max + Math.log(sum);
    total += (lse[t] as number) - (logits.data[o + target] as number);
  }
  const loss = tape.output([1], [logits]);
  loss.data[0] = total / n;
  tape.record(loss, (g) => {
    const gl = tape.grad(logits);
    const s = (g[0] as number) / n;
    for (let t = 0; t < n; t++) {
      const o = t * vocab, m = lse[t] as number;
      for (let i = 0; i < vocab; i++) gl[o + i] = (gl[o + i] as number) + Math.exp((logits.data[o + i] as number) - m) * s;
      gl[o + (targets[t] as number)] = (gl[o + (targets[t] as number)] as number) - s;
    }
  });
  return loss;
}
