/**
 * Reference matrix products over weights in any storage type: each weight row is dequantized once into
 * scratch and dotted with every token's activation row (already rounded as llama.cpp would, see
 * activation-rounding.ts). Readable, not fast: the wasm backend does the same math on packed blocks.
 */

import type { WeightMatrix } from "../kernels.js";
import { DTYPES } from "../../tensor/dtype.js";
import { dequantizeRow } from "../../formats/gguf/dequant/index.js";
import { activationRoundingFor, roundActivations } from "./activation-rounding.js";

/** Growable scratch owned by one backend instance; grows only when a larger model shows up. */
export interface MatmulScratch {
  row: Float32Array;
  x: Float32Array;
}

function ensure(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(n);
}

/** out (nTokens, rows) = x (nTokens, cols) · wᵀ */
export function matmul(scratch: MatmulScratch, out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number): void {
  const { rows, cols, dtype } = w;
  scratch.row = ensure(scratch.row, cols);
  scratch.x = ensure(scratch.x, nTokens * cols);
  const row = scratch.row;
  const xr = scratch.x;
  const mode = activationRoundingFor(dtype);
  for (let t = 0; t < nTokens; t++) {
    roundActivations(mode, xr.subarray(t * cols, (t + 1) * cols), x.subarray(t * cols, (t + 1) * cols), cols);
  }
  const rowBytes = (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
  for (let r = 0; r < rows; r++) {
    dequantizeRow(dtype, w.data, r * rowBytes, row, 0, cols);
    for (let t = 0; t < nTokens; t++) {
      const base = t * cols;
      let sum = 0;
      for (let i = 0; i < cols; i++) sum += (row[i] as number) * (xr[base + i] as number);
      out[t * rows + r] = sum;
    }
  }
}

/** out (nTokens, cols) = the rows of `table` named by ids, dequantized exactly (like ggml get_rows). */
export function embedRows(out: Float32Array, table: WeightMatrix, ids: ArrayLike<number>, nTokens: number): void {
  const { cols, dtype } = table;
  const rowBytes = (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
  for (let t = 0; t < nTokens; t++) {
    const id = ids[t] as number;
    dequantizeRow(dtype, table.data, id * rowBytes, out, t * cols, cols);
  }
}
