/**
 * linear: y (N, out) = x (N, in) · Wᵀ, W (out, in) — the layout of inference weight matrices.
 * All three products go through the one kernel the backends make fast, out = a · bᵀ (matmulF32), with
 * operands marked as held transposed (the backend transposes them in its own memory; the products are the
 * cubic part):
 *   dx (N, in)   = dy · W    = dy · (Wᵀ)ᵀ
 *   dW (out, in) = dyᵀ · x   = (dyᵀ) · (xᵀ)ᵀ
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

export function linear(tape: Tape, x: Value, w: Value): Value {
  const [outDim, inDim] = w.shape as [number, number];
  const n = x.data.length / inDim;
  if (w.shape.length !== 2 || !Number.isInteger(n) || x.shape[x.shape.length - 1] !== inDim) {
    throw new PeelError("INVALID_ARGUMENT", `train: linear of x (${x.shape.join(", ")}) by W (${w.shape.join(", ")}): the last dims differ`);
  }
  const y = tape.output([...x.shape.slice(0, -1), outDim], [x, w]);
  const k = tape.kernels;
  k.matmulF32(y.data, w.data, x.data, outDim, inDim, n);
  tape.record(y, (gy) => {
    if (x.needsGrad) {
      const gx = new Float32Array(n * inDim);
      k.matmulF32(gx, w.data, gy, inDim, outDim, n, { wTransposed: true });
      tape.addGrad(x, gx);
    }
    if (w.needsGrad) {
      const gw = new Float32Array(outDim * inDim);
      k.matmulF32(gw, x.data, gy, inDim, n, outDim, { wTransposed: true, xTransposed: true });
      tape.addGrad(w, gw);
    }
  });
  return y;
}
