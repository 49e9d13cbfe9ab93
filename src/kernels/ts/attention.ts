/**
 * Causal multi-head attention over a KV cache (MHA, GQA and MQA: query head h reads kv head
 * h / (nHeads / nKvHeads)). Scores, softmax and the weighted sum of values, one query row at a time.
 * With an F16 cache it rounds q and the softmax weights to f16 before the dot products, as llama.cpp's
 * CPU path does when it multiplies f32 activations by f16 cache rows. It keeps one score row in scratch
 * (startPos + nTokens floats), never the full (nTokens × seqLen) matrix unless the caller taps it.
 * Flash attention (shape.flash) is attention-flash.ts; this file dispatches to it.
 */

import type { AttentionShape, KvBuffer } from "../kernels.js";
import { f32ToF16, roundToF16 } from "../../tensor/f16.js";
import { flashAttention } from "./attention-flash.js";
import { kvAt } from "./kv-read.js";
import { dotF16Tiled, dotF16Vec } from "./ggml-f16-dot.js";
import { expfVec, reduceAdd16 } from "./ggml-math.js";


/** dst rows row.. ← src (nTokens, kvDim), converted to the cache's storage type. */
export function storeKv(dst: KvBuffer, src: Float32Array, row: number, nTokens: number): void {
  const n = nTokens * dst.kvDim;
  const off = row * dst.kvDim;
  if (dst.dtype === "F32") {
    (dst.data as Float32Array).set(src.subarray(0, n), off);
    return;
  }
  const data = dst.data as Uint16Array;
  for (let i = 0; i < n; i++) data[off + i] = f32ToF16(src[i] as number);
}

/** q rounded to f16, one head (grown once for a larger head). */
let qRow = new Float32Array(128);
let kBuf = new Float32Array(128);

/** One f16 key row widened to f32 (a view into reused scratch). */
function kRow(k: KvBuffer, base: number, n: number): Float32Array {
  if (kBuf.length < n) kBuf = new Float32Array(n);
  for (let d = 0; d < n; d++) kBuf[d] = kvAt(k, base + d);
  return kBuf;
}

function dotF64(a: Float32Array, b: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

const KQV_LANES_VEC = 64, KQV_LANES_TILED = 16;
const kqvLanes = new Float32Array(KQV_LANES_VEC);

/**
 * Σ_j p[j] · v(j) over cache rows j0..nCtx−1 as llama.cpp's kq·v product sums its padded row of n_kv weights
 * (masked ones are 0 and add nothing): position j goes to lane j mod 64 (one query token, ggml_vec_dot_f16)
 * or j mod 16 (two or more, tinyBLAS), lanes reduced as there. llama.cpp's lanes follow its cache cells, which
 * are the positions in a full cache of one sequence; exact when n_kv is a multiple of 64, which it is for
 * contexts that are (llama.cpp pads n_kv to 256 within the context). Lanes by position, not by Peel's cache row,
 * keep a window-bounded cache's results equal to a full cache's (llama.cpp's sliding-window cells are its own).
 */
function kqvDot(p: Float32Array, v: (j: number) => number, j0: number, nCtx: number, tiled: boolean): number {
  const nl = tiled ? KQV_LANES_TILED : KQV_LANES_VEC;
  const lanes = kqvLanes;
  lanes.fill(0);
  for (let j = j0; j < nCtx; j++) {
    const l = j % nl;
    lanes[l] = Math.fround((lanes[l] as number) + (p[j] as number) * v(j));
  }
  const f = Math.fround;
  if (!tiled) for (let l = 0; l < 16; l++) lanes[l] = f(f((lanes[l] as number) + (lanes[l + 32] as number)) + f((lanes[l + 16] as number) + (lanes[l + 48] as number)));
  for (let l = 0; l < 8; l++) lanes[l] = f((lanes[l] as number) + (lanes[l + 8] as number));
  for (let l = 0; l < 4; l++) lanes[l] = f((lanes[l] as number) + (lanes[l + 4] as number));
  return f(f((lanes[0] as number) + (lanes[2] as number)) + f((lanes[1] as number) + (lanes[3] as number)));
}

const chunk = new Float32Array(16);

/**
 * scratch[j0..nCtx) ← softmax as ggml_soft_max's f32 kernel on AVX-512 computes it over its padded row of cache
 * rows (masked ones are e^−∞ = 0): ggml_v_expf in groups of 16 positions aligned to position 0, each group summed by the
 * 16-lane reduction and added to an f64 total, then every weight times f32(1 / total).
 */
function softmaxGgml(scratch: Float32Array, j0: number, nCtx: number, max: number): void {
  let sum = 0;
  for (let c = j0 - (j0 % 16); c < nCtx; c += 16) {
    for (let l = 0; l < 16; l++) {
      const j = c + l, inside = j >= j0 && j < nCtx;
      const e = inside ? expfVec(Math.fround((scratch[j] as number) - max)) : 0;
      chunk[l] = e;
      if (inside) scratch[j] = e;
    }
    sum += reduceAdd16(chunk, 0);
  }
  const inv = Math.fround(1 / sum);
  for (let j = j0; j < nCtx; j++) scratch[j] = Math.fround((scratch[j] as number) * inv);
}

export function attention(out: Float32Array, q: Float32Array, k: KvBuffer, v: KvBuffer, startPos: number, nTokens: number,
  shape: AttentionShape, scratch: Float32Array, probs?: Float32Array): void {
  if (shape.flash !== undefined) {
    flashAttention(out, q, k, v, startPos, nTokens, shape, shape.flash);
    // the tap shows the softmax weights, which flash attention never forms: the standard path computes them
    const { flash: _, ...standard } = shape;
    if (probs) attention(new Float32Array(out.length), q, k, v, startPos, nTokens, standard, scratch, probs);
    return;
  }
  const { nHeads, nKvHeads, headDim, scale } = shape;
  const cap = shape.softcap ?? 0, window = shape.window ?? 0, kvStart = shape.kvStart ?? 0, causal = shape.causal ?? true;
  const invCap = Math.fround(1 / cap), capF = Math.fround(cap);
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const roundQ = k.dtype === "F16";
  const roundP = v.dtype === "F16";
  const total = causal ? startPos + nTokens : shape.keys ?? startPos + nTokens; // width of a probs row
  const bias = shape.positionBias, span = bias?.span ?? 0, biasRow = 2 * span + 1;
  // llama.cpp's order of additions for f16 caches (causal decoder attention, the graph's mul_mats): one query
  // token takes ggml_vec_dot_f16, two or more tinyBLAS (ggml-f16-dot.ts)
  const ggmlOrder = causal && bias === undefined;
  const tiled = nTokens >= 2;
  const kqDot = tiled && headDim % 16 === 0 ? dotF16Tiled : dotF16Vec;
  if (roundQ && qRow.length < headDim) qRow = new Float32Array(headDim);
  const ranges = causal ? undefined : shape.keyRanges;
  for (let t = 0; t < nTokens; t++) {
    const pos = startPos + t;
    // causal: this token sees cache rows 0..its own position, and with a window only its last `window` rows;
    // packed sequences (keyRanges): only its own sequence's rows
    const nCtx = ranges !== undefined ? (ranges[2 * t + 1] as number) : causal ? pos + 1 : total;
    const j0 = ranges !== undefined ? (ranges[2 * t] as number) : window > 0 && causal ? Math.max(0, nCtx - window) : 0;
    for (let h = 0; h < nHeads; h++) {
      const qBase = (t * nHeads + h) * headDim;
      const kvOff = Math.floor(h / group) * headDim;
      let max = -Infinity;
      if (roundQ) for (let d = 0; d < headDim; d++) qRow[d] = roundToF16(q[qBase + d] as number);
      for (let j = j0; j < nCtx; j++) {
        const kBase = (j - kvStart) * kvDim + kvOff;
        let dot = 0;
        if (roundQ) {
          dot = ggmlOrder ? kqDot(kRow(k, kBase, headDim), 0, qRow, 0, headDim) : dotF64(qRow, kRow(k, kBase, headDim), headDim);
        } else {
          for (let d = 0; d < headDim; d++) dot += (q[qBase + d] as number) * kvAt(k, kBase + d);
        }
        let raw = Math.fround(dot);
        if (cap > 0) raw = Math.fround(Math.fround(Math.tanh(Math.fround(raw * invCap))) * capF);
        if (bias !== undefined) raw = Math.fround(raw + (bias.table[h * biasRow + Math.min(span, Math.max(-span, j - pos)) + span] as number));
        const s = Math.fround(raw * scale);
        scratch[j] = s;
        if (s > max) max = s;
      }
      if (ggmlOrder) {
        softmaxGgml(scratch, j0, nCtx, max);
      } else {
        let sum = 0;
        for (let j = j0; j < nCtx; j++) {
          const e = Math.fround(Math.exp((scratch[j] as number) - max));
          scratch[j] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let j = j0; j < nCtx; j++) scratch[j] = Math.fround((scratch[j] as number) * inv);
      }
      if (probs) {
        const pBase = (t * nHeads + h) * total;
        for (let j = 0; j < total; j++) probs[pBase + j] = j >= j0 && j < nCtx ? (scratch[j] as number) : 0;
      }
      if (roundP && ggmlOrder) { // llama.cpp: f16(p) · f16 values, summed over cache rows in its lanes (ggml-f16-dot.ts)
        for (let j = j0; j < nCtx; j++) scratch[j] = roundToF16(scratch[j] as number);
        for (let d = 0; d < headDim; d++) {
          out[qBase + d] = kqvDot(scratch, (j) => kvAt(v, (j - kvStart) * kvDim + kvOff + d), j0, nCtx, tiled);
        }
        continue;
      }
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = j0; j < nCtx; j++) {
          const p = scratch[j] as number;
          acc += (roundP ? roundToF16(p) : p) * kvAt(v, (j - kvStart) * kvDim + kvOff + d);
        }
        out[qBase + d] = acc;
      }
    }
  }
}
