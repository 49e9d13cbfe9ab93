/**
 * The JS half of the wasm matrix products: picks the activation rounding llama.cpp pairs with the weight type
 * (activation-rounding.ts of the reference), runs the wasm quantizer once per call, then the wasm kernel over
 * a range of weight rows. Split in two (prepare, then rows) so a thread pool can hand row ranges to workers
 * after the activations are quantized once.
 */

import type { DType } from "../../tensor/dtype.js";
import type { WeightLayout } from "../kernels.js";
import { DTYPES } from "../../tensor/dtype.js";
import { activationRoundingFor } from "../ts/activation-rounding.js";
import type { ScratchSlots } from "./heap.js";
import type { WasmExports } from "./module.js";

/** Weight types the wasm backend multiplies. */
export const WASM_WEIGHT_TYPES: readonly DType[] = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
  "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "IQ4_NL"];

/** One product, ready to run over any row range: pointers into wasm memory and the shape. */
export interface MatmulCall {
  readonly dtype: DType;
  readonly out: number;
  readonly w: number;
  /**
   * The weight's block order (WeightMatrix.layout): "q4_0x4" / "q8_0x4" run matmulQ4x4 / matmulQ8x4
   * (wasm/matmul-legacy-x4.ts), "q4_Kx4" / "q6_Kx4" matmulQ4Kx4 / matmulQ6Kx4 (wasm/matmul-kx4.ts, bodies in matmul-kquants-x4.ts,
   * matmul-q6k-x4.ts).
   */
  readonly layout: WeightLayout;
  /** Activations as the kernel reads them (rounded or packed 8-bit rows). */
  readonly x: number;
  readonly rows: number;
  readonly cols: number;
  readonly nTokens: number;
  /**
   * Per-thread scratch of rowScratchBytes (0: none): Q2_K/Q3_K/IQ4_XS's float accumulators, the legacy types'
   * prefill chunk of repacked weight rows or decode block sums (64 bytes), or F16/BF16 prefill's chunk of weight
   * rows widened to f32. A thread pool gives each
   * worker its own.
   */
  readonly rowScratch: number;
  readonly rowScratchBytes: number;
  /**
   * Several tokens: the activation rows' prefill tiles (legacyTileMeta; kquadTiles where Q4_K/Q5_K/Q6_K run on
   * quads, kquantTiles for the other narrow q8_k rows); else 0.
   */
  readonly meta: number;
}

/** Per-token activation work before a product, splittable by tokens (quantizers) or tiles of four tokens. */
export const ACTIVATION_JOB = { quantizeQ8: 0, quantizeQ8K: 1, legacyTiles: 2, kquantTiles: 3, kquadTiles: 4, wideQuadTiles: 5 } as const;

/**
 * Runs activation job `job` (ACTIVATION_JOB) with arguments `args` over items 0..total-1 (tokens or tiles),
 * all at once or split across threads: prepareMatmul's callers pass the thread pool's version.
 */
export type ActivationSplit = (job: number, total: number, args: ArrayLike<number>) => void;

/**
 * Items start..end of activation job `job` (arguments as prepareMatmul passes them): each item's rows are
 * independent, so a split gives the bytes a single call would.
 */
export function runActivationRange(ex: WasmExports, job: number, a: ArrayLike<number>, start: number, end: number): void {
  const n = (i: number) => a[i] as number;
  switch (job) {
    case ACTIVATION_JOB.quantizeQ8: // x, out, cols, withSum, narrow, rowBytes
      ex.quantizeQ8(n(0) + start * n(2) * 4, n(1) + start * n(5), n(2), end - start, n(3), n(4));
      return;
    case ACTIVATION_JOB.quantizeQ8K: // x, out, cols, narrow, rowBytes
      ex.quantizeQ8K(n(0) + start * n(2) * 4, n(1) + start * n(4), n(2), end - start, n(3));
      return;
    case ACTIVATION_JOB.legacyTiles: // type, x, tiles, cols, nTokens, rowBytes, tileBytes (items: tiles)
      ex.legacyTileMeta(n(0), n(1) + 4 * start * n(5), n(2) + start * n(6), n(3), Math.min(n(4), 4 * end) - 4 * start);
      return;
    case ACTIVATION_JOB.kquantTiles: // x, tiles, cols, nTokens, rowBytes, tileBytes (items: tiles)
      ex.kquantTiles(n(0) + 4 * start * n(4), n(1) + start * n(5), n(2), Math.min(n(3), 4 * end) - 4 * start);
      return;
    case ACTIVATION_JOB.kquadTiles: // as kquantTiles
      ex.kquadTiles(n(0) + 4 * start * n(4), n(1) + start * n(5), n(2), Math.min(n(3), 4 * end) - 4 * start);
      return;
    case ACTIVATION_JOB.wideQuadTiles: // as kquantTiles, then the weights' ggml type
      ex.wideQuadTiles(n(6), n(0) + 4 * start * n(4), n(1) + start * n(5), n(2), Math.min(n(3), 4 * end) - 4 * start);
      return;
    default:
      throw new Error(`unreachable: activation job ${job}`);
  }
}

/** ActivationSplit that runs every item on the calling thread. */
export function serialActivations(ex: WasmExports): ActivationSplit {
  return (job, total, args) => runActivationRange(ex, job, args, 0, total);
}

/** Types whose kernel (wasm/matmul-lowbit.ts) keeps its f32 accumulators in per-thread scratch. */
const LOWBIT_TYPES: readonly DType[] = ["Q2_K", "Q3_K", "IQ4_XS"];
/** Bytes of their scratch below wideQuadMinTokens (LOWBIT_SCRATCH_BYTES in wasm/matmul-lowbit.ts; quads: wideQuadScratchBytes). */
const LOWBIT_SCRATCH_BYTES = 352;
/**
 * The activation tiles and per-thread scratch of a K-quant prefill: the kernels on rows repacked four at a time
 * (Q2_K, Q3_K, IQ4_XS: wasm/matmul-lowbit-quads.ts, in the relaxed build from wideQuadMinTokens tokens on and
 * for Q2_K there on 8-bit dots over kquadTiles, wasm/matmul-q2k-quads.ts;
 * Q4_K/Q5_K/Q6_K with narrow activation rows from kquadMinTokens tokens on: wasm/matmul-kquant-quads.ts), each with its own tile layout and a chunk of
 * repacked rows in scratch; the row kernels' kquantTiles for the other narrow rows; none for the baseline
 * build's Q4_K/Q5_K/Q6_K.
 */
function kquantPrefill(ex: WasmExports, dtype: DType, narrow: boolean, nTokens: number, layout: WeightLayout): { job: number; tileBytes: (cols: number, n: number) => number; scratchBytes: (cols: number) => number } | undefined {
  const lowBit = dtype === "Q2_K" || dtype === "Q3_K" || dtype === "IQ4_XS";
  if (lowBit && nTokens >= ex.wideQuadMinTokens(DTYPES[dtype].ggmlId)) {
    // the relaxed build's Q2_K quads run on 8-bit dots over the narrow rows' quad tiles (wasm/matmul-q2k-quads.ts)
    if (dtype === "Q2_K" && narrow) return { job: ACTIVATION_JOB.kquadTiles, tileBytes: ex.kquadTileBytes, scratchBytes: ex.q2kQuadScratchBytes };
    return { job: ACTIVATION_JOB.wideQuadTiles, tileBytes: ex.wideQuadTileBytes, scratchBytes: ex.wideQuadScratchBytes };
  }
  if (!narrow) return undefined;
  const minQuad = ex.kquadMinTokens(DTYPES[dtype].ggmlId); // 0: not on quads
  // q4_Kx4 and q6_Kx4 build their quads' records at every batch (wasm/matmul-kx4.ts: no row kernel reads those layouts)
  if (layout === "q4_Kx4" || layout === "q6_Kx4" || (minQuad > 0 && nTokens >= minQuad)) return { job: ACTIVATION_JOB.kquadTiles, tileBytes: ex.kquadTileBytes, scratchBytes: ex.kquadScratchBytes };
  return { job: ACTIVATION_JOB.kquantTiles, tileBytes: ex.kquantTileBytes, scratchBytes: () => 0 };
}

/** ggml's 32-element block types (wasm/matmul-legacy.ts). */
const LEGACY_TYPES: readonly DType[] = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"];

/**
 * Rounds or quantizes x (nTokens, cols) at xPtr as llama.cpp would for `dtype` weights, into scratch, and
 * lays out prefill tiles; `split` runs the per-token parts (default: on this thread).
 */
export function prepareMatmul(ex: WasmExports, scratch: ScratchSlots, dtype: DType, out: number, w: number, xPtr: number,
  rows: number, cols: number, nTokens: number, split: ActivationSplit = serialActivations(ex), layout: WeightLayout = "gguf"): MatmulCall {
  const mode = activationRoundingFor(dtype);
  let x = xPtr;
  let rowScratch = 0, rowScratchBytes = 0, meta = 0;
  switch (mode) {
    case "none": break;
    case "f16": case "bf16":
      x = scratch.get("x-rounded", nTokens * cols * 4);
      (mode === "f16" ? ex.roundRowsF16 : ex.roundRowsBF16)(xPtr, x, nTokens * cols);
      if (nTokens >= 4) { // prefill tiles read weight rows widened to f32 once per chunk
        rowScratchBytes = ex.matmulFloatScratchBytes(cols);
        rowScratch = scratch.get("w-row", rowScratchBytes);
      }
      break;
    case "q8_0": case "q8_1": {
      const withSum = mode === "q8_1" ? 1 : 0;
      const narrow = ex.narrowActivations(DTYPES[dtype].ggmlId); // the layout this build's kernel for dtype reads
      const rowBytes = ex.q8RowBytes(cols, withSum, narrow);
      x = scratch.get("x-q8", nTokens * rowBytes);
      split(ACTIVATION_JOB.quantizeQ8, nTokens, [xPtr, x, cols, withSum, narrow, rowBytes]);
      if (nTokens === 1 && LEGACY_TYPES.includes(dtype)) { // the decode kernel's 64 bytes of block sums
        rowScratchBytes = 64;
        rowScratch = scratch.get("w-row", rowScratchBytes);
      }
      if (nTokens > 1 && LEGACY_TYPES.includes(dtype)) {
        const type = DTYPES[dtype].ggmlId, tiles = Math.ceil(nTokens / 4);
        meta = scratch.get("x-meta", ex.legacyTileBytes(type, cols, nTokens));
        split(ACTIVATION_JOB.legacyTiles, tiles, [type, x, meta, cols, nTokens, rowBytes, ex.legacyTileBytes(type, cols, 4)]);
        rowScratchBytes = ex.legacyScratchBytes(type, cols); // a chunk of weight rows repacked four by four
        rowScratch = scratch.get("w-row", rowScratchBytes);
      }
      break;
    }
    case "q8_k": {
      const narrow = ex.narrowActivations(DTYPES[dtype].ggmlId);
      const rowBytes = ex.q8kRowBytes(cols, narrow);
      x = scratch.get("x-q8k", nTokens * rowBytes);
      split(ACTIVATION_JOB.quantizeQ8K, nTokens, [xPtr, x, cols, narrow, rowBytes]);
      // Q2_K/Q3_K/IQ4_XS: their accumulators and decode scales; Q4_K/Q5_K/Q6_K: 48 bytes of per-token sums
      // (prefill) or scales and a running sum (decode; matmul-kquants.ts); q6_Kx4: those 48, then (decode) 64 of
      // step sums (wasm/matmul-q6k-x4.ts), or (prefill) the quads' scratch
      rowScratchBytes = LOWBIT_TYPES.includes(dtype) ? LOWBIT_SCRATCH_BYTES : layout === "q6_Kx4" ? ex.q6Kx4ScratchBytes(cols, nTokens) : 48;
      const plan = nTokens > 1 ? kquantPrefill(ex, dtype, narrow !== 0, nTokens, layout) : undefined;
      if (plan !== undefined) { // prefill tiles: each super-block's fields of four tokens side by side
        meta = scratch.get("x-meta", plan.tileBytes(cols, nTokens));
        split(plan.job, Math.ceil(nTokens / 4), [x, meta, cols, nTokens, rowBytes, plan.tileBytes(cols, 4), DTYPES[dtype].ggmlId]);
        rowScratchBytes = Math.max(rowScratchBytes, plan.scratchBytes(cols));
      }
      rowScratch = scratch.get("w-row", rowScratchBytes);
      break;
    }
  }
  return { dtype, out, w, layout, x, rows, cols, nTokens, rowScratch, rowScratchBytes, meta };
}

/** Runs the product for weight rows rowStart..rowEnd (all tokens). */
export function runMatmulRows(ex: WasmExports, c: MatmulCall, rowStart: number, rowEnd: number): void {
  switch (c.dtype) {
    case "F32": ex.matmulF32(c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd); return;
    case "F16": ex.matmulF16(c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.rowScratch); return;
    case "BF16": ex.matmulBF16(c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.rowScratch); return;
    case "Q4_0": case "Q8_0": case "Q4_1": case "Q5_0": case "Q5_1": case "IQ4_NL":
      if (c.layout !== "gguf") { // Q4_0 / Q8_0 repacked at prepareWeight (layout-x4.ts)
        (c.layout === "q4_0x4" ? ex.matmulQ4x4 : ex.matmulQ8x4)(c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.meta, c.rowScratch);
        return;
      }
      ex.matmulLegacy(DTYPES[c.dtype].ggmlId, c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.meta, c.rowScratch);
      return;
    case "Q2_K": case "Q3_K": case "IQ4_XS":
      ex.matmulLowBit(DTYPES[c.dtype].ggmlId, c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.meta, c.rowScratch);
      return;
    case "Q4_K": case "Q5_K": case "Q6_K":
      if (c.layout !== "gguf") { // Q4_K / Q6_K repacked at prepareWeight (layout-x4.ts)
        (c.layout === "q4_Kx4" ? ex.matmulQ4Kx4 : ex.matmulQ6Kx4)(c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.meta, c.rowScratch);
        return;
      }
      ex.matmulKQuant(DTYPES[c.dtype].ggmlId, c.out, c.w, c.x, c.rows, c.cols, c.nTokens, rowStart, rowEnd, c.meta, c.rowScratch);
      return;
    case "Q8_1": case "Q8_K":
      throw new Error(`unreachable: ${c.dtype} weights are rejected by prepareWeight`);
  }
}
