/**
 * RoPE for a batch of windows: x (B·T, H, hd) rotated by window position t. The forward is the inference
 * kernel; a rotation's transpose is the rotation by −θ, so the backward is the same kernel at negated positions.
 */

import type { RopeSpec } from "../../kernels/kernels.js";
import type { Tape, Value } from "../autograd/tape.js";

export function rope(tape: Tape, x: Value, seqLen: number, nHeads: number, headDim: number, spec: RopeSpec): Value {
  const n = x.data.length / (nHeads * headDim);
  const positions = new Int32Array(n);
  for (let r = 0; r < n; r++) positions[r] = r % seqLen;
  const y = tape.output(x.shape, [x]);
  y.data.set(x.data);
  tape.kernels.rope(y.data, positions, n, nHeads, headDim, spec);
  tape.record(y, (g) => {
    const back = Float32Array.from(g);
    for (let r = 0; r < n; r++) positions[r] = -(r % seqLen);
    tape.kernels.rope(back, positions, n, nHeads, headDim, spec);
    tape.addGrad(x, back);
  });
  return y;
}
