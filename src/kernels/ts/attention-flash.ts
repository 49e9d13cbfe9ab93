/**
 * Flash attention as llama.cpp's CPU backend computes it (ggml-cpu's flash_attn_ext), so that Peel with
 * flash attention on gives llama.cpp's numbers with flash attention on. Both variants keep a running maximum
 * M, a running sum S of e^(s − M) and a running value sum, rescaled by e^(Mold − Mnew) whenever the maximum
 * grows; the output is the value sum times 1/S. No score row is stored. Where they differ is rounding:
 *  - "vec" (micro-batches of < 64 queries: decode, short prompts): q is rounded to f16 when the keys are f16
 *    (the dot product runs in the keys' type), keys are taken one at a time, and with f16 values the value sum
 *    itself is an f16 vector: after every key it is rounded to f16 (acc ← f16(acc + v·p), and ← f16(acc · ms)
 *    on a new maximum). That rounding is the measurable difference from the standard path.
 *  - "tiled" (micro-batches of ≥ 64 queries: prefill): q stays f32, keys and values are widened to f32, and
 *    keys are taken in tiles of 64 (aligned to position 0): one maximum update per tile, weights ggml_v_expf(s − M)
 *    summed in 16-lane groups into f64 per tile, q·k and the f32 value sum by fused multiply-adds in key order.
 * Scores in both: s = f32(q·k) · f32(scale), or with a soft cap c: c · tanh(f32(q·k) · f32(scale / c)).
 * Not reproduced: llama.cpp's split-KV decode path (one query, ≥ 512 cached keys), which gives each thread a
 * share of the keys with its own f16 sum and merges them in f32; Peel's "vec" keeps one sum for all keys.
 */

import { FLASH_TILE_KEYS, type AttentionShape, type FlashVariant, type KvBuffer } from "../kernels.js";
import { roundToF16 } from "../../tensor/f16.js";
import { kvAt } from "./kv-read.js";
import { expfVec, fmaF32, reduceAdd16 } from "./ggml-math.js";

const f32 = Math.fround;
/** Elements per step of ggml_vec_dot_f16 on AVX-512 (four vectors of 16 lanes). */
const GGML_F16_STEP = 64;
/** One tile's scores, then weights (reused: a kernel call allocates nothing). */
const tileScratch = new Float32Array(FLASH_TILE_KEYS);

/** out, q: (nTokens, nHeads, headDim); keys and values by position, position p in row p − kvStart. */
export function flashAttention(out: Float32Array, q: Float32Array, k: KvBuffer, v: KvBuffer, startPos: number, nTokens: number,
  shape: AttentionShape, variant: FlashVariant): void {
  const { nHeads, nKvHeads, headDim } = shape;
  const cap = shape.softcap ?? 0, window = shape.window ?? 0, kvStart = shape.kvStart ?? 0, causal = shape.causal ?? true;
  // llama.cpp folds the cap into the scale: s · (scale / c), then c · tanh
  const scale = cap > 0 ? f32(f32(shape.scale) / f32(cap)) : f32(shape.scale);
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const score = (qBase: number, j: number, kvOff: number, roundQ: boolean): number => {
    const kBase = (j - kvStart) * kvDim + kvOff;
    let dot: number;
    if (roundQ) {
      dot = dotF16InGgmlOrder(q, qBase, k, kBase, headDim);
    } else { // the tiled kernel's simd_gemm: one fused multiply-add per element, in order from 0
      dot = 0;
      for (let d = 0; d < headDim; d++) dot = fmaF32(q[qBase + d] as number, kvAt(k, kBase + d), dot);
    }
    const s = f32(f32(dot) * scale);
    return cap > 0 ? f32(f32(cap) * f32(Math.tanh(s))) : s;
  };
  const ranges = causal ? undefined : shape.keyRanges;
  for (let t = 0; t < nTokens; t++) {
    let nCtx = causal ? startPos + t + 1 : startPos + nTokens;
    let j0 = window > 0 && causal ? Math.max(0, nCtx - window) : 0;
    // a packed sequence (keyRanges) counts its positions from its first row: j runs over 0..its length
    let shift = 0;
    if (ranges !== undefined) {
      shift = ranges[2 * t] as number;
      nCtx = (ranges[2 * t + 1] as number) - shift;
      j0 = 0;
    }
    const rowOf = shift - kvStart;
    for (let h = 0; h < nHeads; h++) {
      const qBase = (t * nHeads + h) * headDim;
      const kvOff = Math.floor(h / group) * headDim;
      const acc = out.subarray(qBase, qBase + headDim); // the running value sum lives in the output row
      acc.fill(0);
      const sum = variant === "vec"
        ? vecRow(acc, j0, nCtx, (j) => score(qBase, j + shift, kvOff, k.dtype === "F16"), v, (j) => (j + rowOf) * kvDim + kvOff)
        : tiledRow(acc, j0, nCtx, (j) => score(qBase, j + shift, kvOff, false), v, (j) => (j + rowOf) * kvDim + kvOff);
      const inv = sum === 0 ? 0 : f32(1 / sum);
      for (let d = 0; d < headDim; d++) acc[d] = f32((acc[d] as number) * inv);
    }
  }
}

/** The 64 partial sums of ggml_vec_dot_f16 (reused: a kernel call allocates nothing). */
const laneSums = new Float32Array(GGML_F16_STEP);

/**
 * f16(q)·k with f16 keys, summed as llama.cpp's ggml_vec_dot_f16 sums on this x86 build (AVX-512 without
 * AVX512-FP16: four accumulators of 16 f32 lanes, GGML_F16_STEP = 64): element i of each 64-element chunk goes
 * to lane i, each product added in f32 (a product of two f16 values is exact in f32, so this equals ggml's
 * fused multiply-add); the lanes are reduced as its GGML_F32Cx16_REDUCE does (accumulator 0 + 2 and 1 + 3, then
 * the two, then _mm512_reduce_add_ps's tree: halves of 8, of 4, then pairs); elements past the last whole chunk
 * are added one at a time in f64, and the result is rounded to f32. Why this much care: the one-row kernel
 * keeps its value sum in f16, so a score one f32 ulp away from llama.cpp's can round that sum the other way,
 * and a peaked random model carries such a step into the next tokens (measured: 3.7e-3 in top-5 probability
 * with an f64 sum here, against 2e-3 for the standard path).
 */
export function dotF16InGgmlOrder(q: Float32Array, qBase: number, k: KvBuffer, kBase: number, n: number): number {
  const np = n - (n % GGML_F16_STEP);
  let sum = 0;
  if (np > 0) {
    const lanes = laneSums;
    lanes.fill(0);
    for (let i = 0; i < np; i += GGML_F16_STEP) {
      for (let l = 0; l < GGML_F16_STEP; l++) {
        lanes[l] = f32((lanes[l] as number) + roundToF16(q[qBase + i + l] as number) * kvAt(k, kBase + i + l));
      }
    }
    // accumulators 0..3 are lanes 0–15, 16–31, 32–47, 48–63: (0 + 2) + (1 + 3), lane by lane
    for (let l = 0; l < 16; l++) {
      const a = f32((lanes[l] as number) + (lanes[l + 32] as number));
      const b = f32((lanes[l + 16] as number) + (lanes[l + 48] as number));
      lanes[l] = f32(a + b);
    }
    for (let l = 0; l < 8; l++) lanes[l] = f32((lanes[l] as number) + (lanes[l + 8] as number));
    for (let l = 0; l < 4; l++) lanes[l] = f32((lanes[l] as number) + (lanes[l + 4] as number));
    sum = f32(f32((lanes[0] as number) + (lanes[2] as number)) + f32((lanes[1] as number) + (lanes[3] as number)));
  }
  for (let i = np; i < n; i++) sum += roundToF16(q[qBase + i] as number) * kvAt(k, kBase + i);
  return f32(sum);
}

/** One query row, keys j0..nCtx−1 one at a time (ggml's one-chunk kernel); returns S. */
function vecRow(acc: Float32Array, j0: number, nCtx: number, score: (j: number) => number, v: KvBuffer, vRow: (j: number) => number): number {
  const round = v.dtype === "F16" ? roundToF16 : f32;
  let m = -Infinity, sum = 0;
  for (let j = j0; j < nCtx; j++) {
    const s = score(j);
    let ms = 1, vs = 1;
    if (s > m) { // a new maximum: this key's weight is e^0 = 1 and the sums so far shrink by e^(Mold − s)
      ms = f32(Math.exp(f32(m - s))); // ggml: expf(Mold − M), the difference in f32
      m = s;
      for (let d = 0; d < acc.length; d++) acc[d] = round(f32((acc[d] as number) * ms));
    } else {
      vs = f32(Math.exp(f32(s - m)));
    }
    const base = vRow(j);
    // ggml_vec_mad_f16: a fused multiply-add in f32, then stored as f16 (v·vs is exact in a double)
    for (let d = 0; d < acc.length; d++) acc[d] = round(f32((acc[d] as number) + kvAt(v, base + d) * vs));
    sum = fmaF32(sum, ms, vs); // ggml's `S = S*ms + vs`, which the compiler fuses into one multiply-add
  }
  return sum;
}

const group16 = new Float32Array(16);

/**
 * One query row, keys in tiles of FLASH_TILE_KEYS aligned to position 0, as ggml_compute_forward_flash_attn_ext_tiled
 * computes them on AVX-512; returns S. Per tile: its maximum; on a new maximum M, ms = expf(Mold − M) scales the
 * value sum and S (f32 products); the weights are ggml_v_expf(s − M) (ggml_vec_soft_max_f32), summed in groups
 * of 16 tile slots by the 16-lane reduction into an f64 tile sum that S takes in one f32 addition; the value sum
 * takes each key's v · p as one fused multiply-add per element, keys in order (simd_gemm).
 */
function tiledRow(acc: Float32Array, j0: number, nCtx: number, score: (j: number) => number, v: KvBuffer, vRow: (j: number) => number): number {
  let m = -Infinity, sum = 0;
  const s = tileScratch;
  for (let tile = j0 - (j0 % FLASH_TILE_KEYS); tile < nCtx; tile += FLASH_TILE_KEYS) {
    const a = Math.max(tile, j0), b = Math.min(tile + FLASH_TILE_KEYS, nCtx);
    let tileMax = -Infinity;
    for (let j = a; j < b; j++) { s[j - tile] = score(j); tileMax = Math.max(tileMax, s[j - tile] as number); }
    if (tileMax > m) {
      const ms = f32(Math.exp(f32(m - tileMax)));
      for (let d = 0; d < acc.length; d++) acc[d] = f32((acc[d] as number) * ms);
      sum = f32(sum * ms);
      m = tileMax;
    }
    let tileSum = 0; // ggml_vec_soft_max_f32: 16-lane groups, each reduced in f32 and added in double
    for (let g = 0; g < FLASH_TILE_KEYS; g += 16) {
      for (let l = 0; l < 16; l++) {
        const j = tile + g + l;
        const p = j >= a && j < b ? expfVec(f32((s[g + l] as number) - m)) : 0;
        group16[l] = p;
        s[g + l] = p;
      }
      tileSum += reduceAdd16(group16, 0);
    }
    sum = f32(sum + tileSum);
    for (let j = a; j < b; j++) {
      const p = s[j - tile] as number, base = vRow(j);
      for (let d = 0; d < acc.length; d++) acc[d] = fmaF32(kvAt(v, base + d), p, acc[d] as number);
    }
  }
  return sum;
}
