/**
 * Prefill tiles: the quantized activation rows (activation-rounding.ts) laid out again, four tokens at a
 * time, in the order the prefill kernels read them. In a tile, each field of the four tokens sits at a
 * constant offset from one pointer; with four row pointers and lanes gathered per block, V8 recomputed the
 * pointers and spilled registers in every block of the hot loops (found by reading its machine code:
 * scripts/wasm-code.mjs). A last partial tile repeats its last token in the spare lanes.
 * - Legacy 32-element blocks (matmul-legacy.ts): per block, the four tokens' 32 quants (i8 for narrow rows,
 *   i16 otherwise), then d_x of the four (f32), s_x (f32, q8_1 rows), offset·Σq (i32, narrow Q4_0/Q5_0/Q5_1:
 *   quadOffset) and the start of the repacked quads' i16 sums (two i16 each, narrow rows; quadStart).
 * - K-quant super-blocks (matmul-kquants.ts, narrow q8_k rows): 16 groups × 4 tokens × 16 quants, then the
 *   four d (f32), then the four tokens' 16 per-group sums (i16).
 */

import { narrowActivations, q8kRowBytes, q8RowBytes } from "./activation-rounding";

const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7;

/** Bytes of the four tokens' quants of one legacy block: narrow (i8) and wide (i16) rows. */
export const NARROW_QUANTS: usize = 4 * 32, WIDE_QUANTS: usize = 4 * 64;
/** Bytes of a legacy record's fields after the quants: four d_x, four s_x, four offset sums, four quad starts (16 each). */
const META_BYTES: usize = 64;
/** Offsets of those fields after the quants. */
export const TILE_DX: usize = 0, TILE_SX: usize = 16, TILE_OFFSET: usize = 32, TILE_START: usize = 48;
/** Bytes of one legacy block's record. */
export const NARROW_TILE_BYTES: usize = NARROW_QUANTS + META_BYTES, WIDE_TILE_BYTES: usize = WIDE_QUANTS + META_BYTES;

/** K-quant tile: bytes per group of sixteen (four tokens), offsets of the d and of the sums, bytes per super-block. */
export const KTILE_GROUP: usize = 64, KTILE_D: usize = 16 * KTILE_GROUP, KTILE_BSUMS: usize = KTILE_D + 16, KTILE_BYTES: usize = KTILE_BSUMS + 128;

/** Whether products with `type` read narrow activation rows (the quantizer's rule, so both agree). */
@inline export function isNarrow(type: i32): bool {
  return narrowActivations(type) != 0;
}

/** log2 of the offset a type's unsigned quants carry (Q4_0: 8, Q5_0: 16), or 0 for none. */
@inline export function offsetShift(type: i32): i32 {
  return type == Q4_0 ? 3 : type == Q5_0 ? 4 : 0;
}

/**
 * The offset the repacked quads (matmul-legacy-quads.ts) take off each weight quant inside their i16 sums: the
 * type's own (Q4_0: 8, Q5_0: 16), and for Q5_1 an offset of 16 added back after (offset·Σq): with it, each i16
 * lane's sum over a block, Σ (q − offset)·x over 16 elements, stays within ±16·16·127 = ±32512, so one i16
 * sum per block is exact (wrapping adds, exact modulo 2^16, end in range). Q4_1 needs none (16·15·127).
 */
@inline export function quadOffset(type: i32): i32 {
  return type == Q4_0 ? 8 : type == Q5_0 || type == Q5_1 ? 16 : 0;
}

/**
 * The start of the quads' i16 sums for the narrow block at q (32 i8 quants), as two i16 in an i32: −offset times
 * the sums of the quants that meet the even i16 lanes (elements 4k, 4k + 1) and the odd ones (4k + 2, 4k + 3).
 */
@inline function quadStart(q: usize, offset: i32): i32 {
  let v = i16x8.add(i16x8.extadd_pairwise_i8x16_s(v128.load(q)), i16x8.extadd_pairwise_i8x16_s(v128.load(q, 16))); // |lane| ≤ 8·127
  v = i16x8.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  v = i16x8.add(v, i32x4.shuffle(v, v, 1, 0, 3, 2)); // |lane| ≤ 16·127
  return i32x4.extract_lane(i16x8.mul(v, i16x8.splat(<i16>-offset)), 0);
}

/** Legacy tiles of the activation rows x (q8RowBytes layout of `type`) at meta: legacyTileBytes(type, cols, nTokens) bytes. */
export function legacyTileMeta(type: i32, x: usize, meta: usize, cols: i32, nTokens: i32): void {
  const withMin = type == Q4_1 || type == Q5_1;
  const narrow = isNarrow(type);
  const offset = narrow ? quadOffset(type) : 0;
  const nb = cols >> 5;
  const xRow = <usize>q8RowBytes(cols, withMin, narrow);
  const rec = narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES, qBytes: usize = narrow ? 32 : 64;
  const dOff = narrow ? <usize>cols : <usize>cols << 1, sOff = dOff + (<usize>nb << 2), sqOff = sOff + (withMin ? <usize>nb << 2 : 0);
  const tiles = (nTokens + 3) >> 2;
  for (let t = 0; t < tiles; t++) {
    for (let j = 0; j < 4; j++) {
      const row = x + <usize>min(4 * t + j, nTokens - 1) * xRow;
      for (let b = 0; b < nb; b++) {
        const r = meta + (<usize>t * <usize>nb + <usize>b) * rec, bo = <usize>b << 2;
        for (let o: usize = 0; o < qBytes; o += 16) v128.store(r + <usize>j * qBytes + o, v128.load(row + <usize>b * qBytes + o));
        const f = r + 4 * qBytes + (<usize>j << 2);
        store<f32>(f, load<f32>(row + dOff + bo), TILE_DX);
        if (withMin) store<f32>(f, load<f32>(row + sOff + bo), TILE_SX);
        if (offset != 0) {
          store<i32>(f, load<i32>(row + sqOff + bo) * offset, TILE_OFFSET);
          store<i32>(f, quadStart(row + <usize>b * qBytes, offset), TILE_START);
        } else if (narrow) {
          store<i32>(f, 0, TILE_START);
        }
      }
    }
  }
}

/** Bytes legacyTileMeta writes for nTokens activation rows of `cols` for weights of `type`. */
export function legacyTileBytes(type: i32, cols: i32, nTokens: i32): i32 {
  return ((nTokens + 3) >> 2) * (cols >> 5) * <i32>(isNarrow(type) ? NARROW_TILE_BYTES : WIDE_TILE_BYTES);
}

/** K-quant tiles of narrow q8_k rows x (quantizeQ8K with narrow = 1) at tiles: kquantTileBytes(cols, nTokens) bytes. */
export function kquantTiles(x: usize, tiles: usize, cols: i32, nTokens: i32): void {
  const nb = cols >> 8;
  const xRow = <usize>q8kRowBytes(cols, true);
  const dOff = <usize>cols, bsOff = dOff + (<usize>nb << 2);
  for (let t = 0; t < (nTokens + 3) >> 2; t++) {
    for (let j = 0; j < 4; j++) {
      const row = x + <usize>min(4 * t + j, nTokens - 1) * xRow;
      for (let b = 0; b < nb; b++) {
        const p = tiles + (<usize>t * <usize>nb + <usize>b) * KTILE_BYTES;
        for (let g = 0; g < 16; g++) v128.store(p + <usize>g * KTILE_GROUP + (<usize>j << 4), v128.load(row + (<usize>b << 8) + (<usize>g << 4)));
        store<f32>(p + KTILE_D + (<usize>j << 2), load<f32>(row + dOff + (<usize>b << 2)));
        const bs = row + bsOff + (<usize>b << 5), q = p + KTILE_BSUMS + (<usize>j << 5);
        v128.store(q, v128.load(bs));
        v128.store(q, v128.load(bs, 16), 16);
      }
    }
  }
}

/** Bytes kquantTiles writes for nTokens narrow q8_k rows of `cols`. */
export function kquantTileBytes(cols: i32, nTokens: i32): i32 {
  return ((nTokens + 3) >> 2) * (cols >> 8) * <i32>KTILE_BYTES;
}
