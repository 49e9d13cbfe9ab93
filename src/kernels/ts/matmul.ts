/**
 * Reference matrix products over weights in any storage type: each weight row is dequantized once into
 * scratch and dotted with every token's activation row (already rounded as llama.cpp would, see
 * activation-rounding.ts). Readable, not fast: the wasm backend does the same math on packed blocks.
 */

import { PeelError } from "../../util/errors.js";
import { requireGgufLayout, type MatmulF32Layout, type WeightMatrix } from "../kernels.js";
import { DTYPES } from "../../tensor/dtype.js";
import { f16ToF32 } from "../../tensor/f16.js";
import { dequantizeRow } from "../../formats/gguf/dequant/index.js";
import { dotF16Tiled, dotF16Vec, usesTiledF16 } from "./ggml-f16-dot.js";
import { activationRoundingFor, roundActivations } from "./activation-rounding.js";

/** Growable scratch owned by one backend instance; grows only when a larger model shows up. */
export interface MatmulScratch {
  row: Float32Array;
  x: Float32Array;
  /** (nTokens, cols/32) Q8_1 s corrections, for weights with a block minimum (Q4_1, Q5_1). */
  sCorr: Float32Array;
}

function ensure(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(n);
}

/** out (nTokens, rows) = x (nTokens, cols) · wᵀ */
export function matmul(scratch: MatmulScratch, out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number): void {
  requireGgufLayout(w, "kernels(ts): matmul");
  const { rows, cols, dtype } = w;
  scratch.row = ensure(scratch.row, cols);
  scratch.x = ensure(scratch.x, nTokens * cols);
  const row = scratch.row;
  const xr = scratch.x;
  const mode = activationRoundingFor(dtype);
  const nBlocks = cols / 32;
  const withMin = mode === "q8_1";
  if (withMin) scratch.sCorr = ensure(scratch.sCorr, nTokens * nBlocks);
  for (let t = 0; t < nTokens; t++) {
    roundActivations(mode, xr.subarray(t * cols, (t + 1) * cols), x.subarray(t * cols, (t + 1) * cols), cols,
      withMin ? scratch.sCorr.subarray(t * nBlocks, (t + 1) * nBlocks) : undefined);
  }
  const info = DTYPES[dtype];
  const rowBytes = (cols / info.blockElems) * info.blockBytes;
  if (dtype === "F16") { // f16 × f16 in llama.cpp's own order of additions (ggml-f16-dot.ts)
    const dot = usesTiledF16(nTokens, cols, rows) ? dotF16Tiled : dotF16Vec;
    for (let r = 0; r < rows; r++) {
      dequantizeRow(dtype, w.data, r * rowBytes, row, 0, cols);
      for (let t = 0; t < nTokens; t++) out[t * rows + r] = dot(row, 0, xr, t * cols, cols);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    dequantizeRow(dtype, w.data, r * rowBytes, row, 0, cols);
    for (let t = 0; t < nTokens; t++) {
      const base = t * cols;
      let sum = 0;
      for (let i = 0; i < cols; i++) sum += (row[i] as number) * (xr[base + i] as number);
      if (withMin) sum += minCorrection(w.data, r * rowBytes, info.blockBytes, scratch.sCorr, t * nBlocks, nBlocks);
      out[t * rows + r] = sum;
    }
  }
}

/** Σ over blocks of (block minimum m, the f16 at bytes 2-3 of a Q4_1/Q5_1 block) × the block's s correction. */
function minCorrection(data: Uint8Array, rowOffset: number, blockBytes: number, sCorr: Float32Array, corrOffset: number, nBlocks: number): number {
  let sum = 0;
  for (let b = 0; b < nBlocks; b++) {
    const o = rowOffset + b * blockBytes;
    sum += f16ToF32((data[o + 2] as number) | ((data[o + 3] as number) << 8)) * (sCorr[corrOffset + b] as number);
  }
  return sum;
}

/** out (nTokens, cols) = the rows of `table` named by ids, dequantized exactly (like ggml get_rows). */
export function embedRows(out: Float32Array, table: WeightMatrix, ids: ArrayLike<number>, nTokens: number): void {
  requireGgufLayout(table, "kernels(ts): embedRows");
  const { cols, dtype } = table;
  const rowBytes = (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
  for (let t = 0; t < nTokens; t++) {
    const id = ids[t] as number;
    dequantizeRow(dtype, table.data, id * rowBytes, out, t * cols, cols);
  }
}

/**
 * out (nTokens, rows) = x (nTokens, cols) · wᵀ over plain f32 arrays (training's products). Four weight
 * rows per pass over a token row so each x element is loaded once per four products; sums in doubles.
 */
export function matmulF32(out: Float32Array, wIn: Float32Array, xIn: Float32Array, rows: number, cols: number, nTokens: number, layout?: MatmulF32Layout): void {
  if (wIn.length < rows * cols || xIn.length < nTokens * cols || out.length < nTokens * rows) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(ts): matmulF32 of ${nTokens}x${cols} by (${rows}x${cols})ᵀ got arrays of ${xIn.length}, ${wIn.length} and ${out.length} elements`);
  }
  const w = layout?.wTransposed === true ? transposeF32(wIn, cols, rows) : wIn;
  const x = layout?.xTransposed === true ? transposeF32(xIn, cols, nTokens) : xIn;
  for (let t = 0; t < nTokens; t++) {
    const xo = t * cols, oo = t * rows;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const w0 = r * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < cols; i++) {
        const xi = x[xo + i] as number;
        s0 += (w[w0 + i] as number) * xi;
        s1 += (w[w1 + i] as number) * xi;
        s2 += (w[w2 + i] as number) * xi;
        s3 += (w[w3 + i] as number) * xi;
      }
      out[oo + r] = s0; out[oo + r + 1] = s1; out[oo + r + 2] = s2; out[oo + r + 3] = s3;
    }
    for (; r < rows; r++) {
      const wo = r * cols;
      let s = 0;
      for (let i = 0; i < cols; i++) s += (w[wo + i] as number) * (x[xo + i] as number);
      out[oo + r] = s;
    }
  }
}

/** (rows, cols) → (cols, rows). */
export function transposeF32(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c] as number;
  return t;
}
