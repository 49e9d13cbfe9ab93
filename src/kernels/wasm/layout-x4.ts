/**
 * The x4 weight layouts of the wasm backend (WeightMatrix.layout): Q4_0 ("q4_0x4", relaxed build), Q8_0
 * ("q8_0x4", both builds) and Q4_K ("q4_Kx4", relaxed build) rows repacked at prepareWeight, in place, four rows
 * at a time, so that the one-token product streams four rows as one (wasm/matmul-legacy-x4.ts and
 * wasm/matmul-kquants-x4.ts have the layouts and the kernels). Only matrices
 * with rows a multiple of 4 take them (row ranges split across threads fall on multiples of 16 rows, so on
 * whole quads). The bytes are those of the GGUF rows, reordered: quad q = rows 4q..4q+3 fills the same
 * 4·rowBytes as in the file; its block b (four GGUF blocks) holds the four rows' f16 scales (8 bytes), then
 * groups of 16 bytes, group k holding row r's quant bytes 4k..4k+3 at 4r (Q4_0: 4 groups; Q8_0: 8).
 * q4_Kx4's 576-byte quad super-blocks hold the four d, the four dmin, 48 bytes of the four rows' scales and
 * minimums packed again, and 32 groups of 16 bytes (row r's quant bytes 4G..4G+3 at 4r).
 * ggufRowOfX4 reads one row back in GGUF order (embedding lookups).
 * Cost at load: the repacking runs at several GB/s but is the first code to touch the pages the loader read
 * into, and pays their first-touch faults (~0.2 s for a 143 MB Q8_0 model on the dev VM), which without it the
 * first token pays instead (measured: first token ~0.2-0.3 s without, ~25 ms with).
 */

import type { DType } from "../../tensor/dtype.js";
import type { WeightLayout, WeightMatrix } from "../kernels.js";
import type { SimdVariant } from "./module.js";
import { PeelError } from "../../util/errors.js";

/** The layout prepareWeight gives a (rows, ·) matrix of dtype on this build (repack: the backend's option). */
export function layoutFor(dtype: DType, rows: number, simd: SimdVariant, repack: boolean): WeightLayout {
  if (!repack || rows % 4 !== 0) return "gguf";
  if (dtype === "Q8_0") return "q8_0x4";
  if (simd !== "relaxed") return "gguf";
  return dtype === "Q4_0" ? "q4_0x4" : dtype === "Q4_K" ? "q4_Kx4" : dtype === "Q6_K" ? "q6_Kx4" : "gguf";
}

/** Writes row `row` of the x4-layout matrix w in GGUF order: rowBytes bytes at out[at..]. */
export function ggufRowOfX4(w: WeightMatrix, row: number, out: Uint8Array, at = 0): void {
  if (w.layout === "q4_Kx4") {
    ggufRowOfQ4Kx4(w, row, out, at);
    return;
  }
  if (w.layout === "q6_Kx4") {
    ggufRowOfQ6Kx4(w, row, out, at);
    return;
  }
  const q8 = w.layout === "q8_0x4";
  if (!q8 && w.layout !== "q4_0x4") throw new Error(`unreachable: ggufRowOfX4 of layout ${String(w.layout)}`);
  const block = q8 ? 34 : 18, quadBlock = 4 * block, groups = q8 ? 8 : 4;
  const nb = w.cols / 32, r = row & 3, data = w.data;
  const quad = (row >> 2) * nb * quadBlock;
  for (let b = 0; b < nb; b++) {
    const src = quad + b * quadBlock, dst = at + b * block;
    out[dst] = data[src + 2 * r] as number;
    out[dst + 1] = data[src + 2 * r + 1] as number;
    // byte by byte: subarray + set allocate a view per group, ~20x slower here (a prefill's lookups took ~11 ms)
    for (let k = 0; k < groups; k++) {
      const g = src + 8 + 16 * k + 4 * r, o = dst + 2 + 4 * k;
      out[o] = data[g] as number; out[o + 1] = data[g + 1] as number; out[o + 2] = data[g + 2] as number; out[o + 3] = data[g + 3] as number;
    }
  }
}

/**
 * ggufRowOfX4 for "q4_Kx4" (wasm/matmul-kquants-x4.ts): per 576-byte quad super-block, row r's d and dmin,
 * its eight 6-bit scales and minimums rebuilt from the A, B, C bytes and packed again as GGUF packs them
 * (bytes 0-3: scales 0-3 and the top bits of scales 4-7; 4-7: the same for the minimums; 8-11: the low
 * nibbles of scales and minimums 4-7), and its quant bytes from the 4-byte groups.
 */
function ggufRowOfQ4Kx4(w: WeightMatrix, row: number, out: Uint8Array, at: number): void {
  const nb = w.cols / 256, r = row & 3, data = w.data;
  const quad = (row >> 2) * nb * 576;
  const six = (src: number, v: number): number => { // 6-bit value v of the packed fields at src
    const i = v & 15, lo = v & 16 ? (data[src + 16 * (v >> 5) + i] as number) >> 4 : (data[src + 16 * (v >> 5) + i] as number) & 15;
    return lo | ((((data[src + 32 + i] as number) >> (2 * (v >> 4))) & 3) << 4);
  };
  for (let b = 0; b < nb; b++) {
    const src = quad + b * 576, dst = at + b * 144;
    out[dst] = data[src + 2 * r] as number; out[dst + 1] = data[src + 2 * r + 1] as number;
    out[dst + 2] = data[src + 8 + 2 * r] as number; out[dst + 3] = data[src + 9 + 2 * r] as number;
    const sc = (j: number) => six(src + 16, 4 * j + r), mn = (j: number) => six(src + 16, 32 + 8 * r + j);
    for (let j = 0; j < 4; j++) {
      out[dst + 4 + j] = sc(j) | ((sc(j + 4) >> 4) << 6);
      out[dst + 8 + j] = mn(j) | ((mn(j + 4) >> 4) << 6);
      out[dst + 12 + j] = (sc(j + 4) & 15) | ((mn(j + 4) & 15) << 4);
    }
    for (let g = 0; g < 32; g++) { // byte by byte, as above (a view per group is ~20x slower)
      const q = src + 64 + 16 * g + 4 * r, o = dst + 16 + 4 * g;
      out[o] = data[q] as number; out[o + 1] = data[q + 1] as number; out[o + 2] = data[q + 2] as number; out[o + 3] = data[q + 3] as number;
    }
  }
}

/**
 * ggufRowOfX4 for "q6_Kx4" (wasm/matmul-q6k-x4.ts): per 840-byte quad super-block, row r's d (at 2r; GGUF: 208),
 * its scales (pair p at 8 + 8p + 2r; GGUF: 192 + 2p), its ql and qh bytes from the 4-byte groups of the 48-byte
 * units at 72 (row r's four at 4r of each).
 */
function ggufRowOfQ6Kx4(w: WeightMatrix, row: number, out: Uint8Array, at: number): void {
  const nb = w.cols / 256, r = row & 3, data = w.data;
  const quad = (row >> 2) * nb * 840;
  const copy4 = (from: number, to: number) => {
    out[to] = data[from] as number; out[to + 1] = data[from + 1] as number; out[to + 2] = data[from + 2] as number; out[to + 3] = data[from + 3] as number;
  };
  for (let b = 0; b < nb; b++) {
    const src = quad + b * 840, dst = at + b * 210;
    out[dst + 208] = data[src + 2 * r] as number; out[dst + 209] = data[src + 2 * r + 1] as number;
    for (let p = 0; p < 8; p++) { out[dst + 192 + 2 * p] = data[src + 8 + 8 * p + 2 * r] as number; out[dst + 193 + 2 * p] = data[src + 9 + 8 * p + 2 * r] as number; }
    // unit 8h + j (48 bytes at 72): ql groups 16h + j, 16h + 8 + j, qh group 8h + j
    for (let g = 0; g < 32; g++) copy4(src + 72 + 48 * (((g >> 4) << 3) + (g & 7)) + 16 * ((g >> 3) & 1) + 4 * r, dst + 4 * g);
    for (let g = 0; g < 16; g++) copy4(src + 72 + 48 * g + 32 + 4 * r, dst + 128 + 4 * g);
  }
}

/** A weight prepared over bytes already in a backend memory (allocWeightBytes): where, its shape and layout. */
interface InPlace {
  readonly shard: number;
  readonly start: number;
  readonly end: number;
  readonly rows: number;
  readonly cols: number;
  readonly layout: WeightLayout;
}

/** What prepareWeight does with bytes already in a memory: the layout, and whether to repack (a copy, or in place). */
export interface InPlacePlan {
  readonly layout: WeightLayout;
  readonly repack: boolean;
  /** Repack a copy: the bytes also back another weight that reads them in GGUF order. */
  readonly copy: boolean;
}

/**
 * Remembers the weights prepared in place, so that repacking never reorders bytes another weight reads: the
 * same bytes with the same shape again get the same layout (no second repack), bytes overlapping a GGUF-order
 * weight are repacked in a copy, and bytes overlapping a repacked weight cannot be read in GGUF order any more
 * (an error, rather than silently wrong rows).
 */
export function createInPlaceRegistry(): { plan(shard: number, start: number, end: number, rows: number, cols: number, want: WeightLayout): InPlacePlan } {
  const placed: InPlace[] = [];
  return {
    plan(shard, start, end, rows, cols, want) {
      const same = placed.find((p) => p.shard === shard && p.start === start && p.end === end && p.rows === rows && p.cols === cols);
      if (same !== undefined) return { layout: same.layout, repack: false, copy: false };
      const overlaps = placed.filter((p) => p.shard === shard && p.start < end && start < p.end);
      const moved = overlaps.find((p) => p.layout !== "gguf");
      if (moved !== undefined) {
        throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): a ${rows}x${cols} weight over bytes ${start}..${end} overlaps a ${moved.rows}x${moved.cols} ` +
          `weight the backend repacked in place (layout "${moved.layout}"), so those bytes are no longer in GGUF order; prepare each tensor's bytes ` +
          "once with one shape, or pass a copy, or create the backend with repackWeights: false");
      }
      if (want !== "gguf" && overlaps.length > 0) return { layout: want, repack: true, copy: true };
      placed.push({ shard, start, end, rows, cols, layout: want });
      return { layout: want, repack: want !== "gguf", copy: false };
    },
  };
}
