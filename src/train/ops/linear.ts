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
      addInto(tape.grad(x), gx);
    }
    if (w.needsGrad) {
      const gw = new Float32Array(outDim * inDim);
      k.matmulF32(gw, x.data, gy, inDim, n, outDim, { wTransposed: true, xTransposed: true });
      addInto(tape.grad(w), gw);
    }
  });
  return y;
}

/** (rows, cols) → (cols, rows), in blocks so both sides stay in cache. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) t[c * rows + r] = a[r * cols + c] as number;
    }
  }
  return t;
}

export function addInto(acc: Float32Array, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) acc[i] = (acc[i] as number) + (x[i] as number);
}
