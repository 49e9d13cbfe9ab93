/**
 * Causal multi-head attention over the KV cache with an online (flash-style) softmax: scores are computed a
 * chunk of CHUNK positions at a time while a running maximum and sum are kept, so no score matrix (not even
 * a score row) is stored, whatever the context length. GQA/MQA: query head h reads kv head h / (nHeads / nKvHeads).
 *  - F32 values: one pass; the value accumulator is rescaled whenever the maximum grows.
 *  - F16 values: llama.cpp (non-flash path, which the reference follows) rounds the *normalized* softmax
 *    weights to f16 before they multiply value rows, and rounding the unnormalized ones instead moves logits
 *    enough to flip 8-bit activation roundings downstream. So the first pass only gathers the maximum and
 *    sum (online), and a second pass recomputes each chunk's scores and accumulates f16(p)·v: exact weights,
 *    still no stored scores, at the price of computing q·k twice.
 * With F16 keys, q is rounded to f16 before q·k, as llama.cpp does. Query heads h0..h1 only (thread split).
 * The probability tap is served by the caller's reference path, not here.
 */

import { exp4, f16Lo, f16Hi, f16ToF32, roundF16 } from "./simd";
import { dotF32, dotF16 } from "./matmul-float";

const CHUNK: i32 = 64;

/** Floats of scratch one call needs: rounded q, the accumulator and one chunk of scores. */
export function attentionScratchFloats(headDim: i32): i32 {
  return 2 * headDim + CHUNK;
}

/** sc[0..jn) ← e^(sc − m), four lanes at a time (sc has room for whole vectors past jn). */
@inline function expChunk(sc: usize, jn: i32, m: f32): void {
  const mv = f32x4.splat(m);
  for (let j = 0; j < jn; j += 4) {
    const p = sc + (<usize>j << 2);
    v128.store(p, exp4(f32x4.sub(v128.load(p), mv)));
  }
}

/** acc (n) += p · v (n), v in f32 or f16. */
@inline function axpy(acc: usize, p: f32, v: usize, n: i32, vF16: bool): void {
  const pv = f32x4.splat(p);
  let i = 0;
  if (vF16) {
    for (; i + 8 <= n; i += 8) {
      const h = v128.load(v + (<usize>i << 1));
      const a = acc + (<usize>i << 2);
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(pv, f16Lo(h))));
      v128.store(a, f32x4.add(v128.load(a, 16), f32x4.mul(pv, f16Hi(h))), 16);
    }
    for (; i < n; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + p * f16ToF32(load<u16>(v + (<usize>i << 1))));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const a = acc + (<usize>i << 2);
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(pv, v128.load(v + (<usize>i << 2)))));
    }
    for (; i < n; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + p * load<f32>(v + (<usize>i << 2)));
    }
  }
}

@inline function scaleRow(a: usize, f: f32, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(a + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) * f);
}

/** Scores of one chunk: sc[j] = f32(q·k[j0 + j]) · scale; returns the chunk maximum. */
@inline function chunkScores(sc: usize, q: usize, k: usize, j0: i32, jn: i32, kvDim: i32, kvOff: i32, headDim: i32, scale: f64, kF16: bool): f32 {
  let m: f32 = -Infinity;
  const elem: usize = kF16 ? 2 : 4;
  for (let j = 0; j < jn; j++) {
    const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
    const dot = kF16 ? dotF16(row, q, headDim) : dotF32(row, q, headDim);
    const s = <f32>(<f64>dot * scale);
    store<f32>(sc + (<usize>j << 2), s);
    m = max(m, s);
  }
  return m;
}

/** One query head, F32 values: the one-pass online softmax. Writes acc / Σ to oh. */
function headOnePass(oh: usize, qr: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, kvOff: i32, headDim: i32,
  scale: f64, kF16: bool, acc: usize, sc: usize): void {
  memory.fill(acc, 0, <usize>headDim << 2);
  let m: f32 = -Infinity;
  let l: f64 = 0;
  for (let j0 = 0; j0 < nCtx; j0 += CHUNK) {
    const jn = min(CHUNK, nCtx - j0);
    const cm = chunkScores(sc, qr, k, j0, jn, kvDim, kvOff, headDim, scale, kF16);
    if (cm > m) {
      if (m != -Infinity) {
        const f = f32x4.extract_lane(exp4(f32x4.splat(m - cm)), 0);
        scaleRow(acc, f, headDim);
        l *= <f64>f;
      }
      m = cm;
    }
    expChunk(sc, jn, m);
    for (let j = 0; j < jn; j++) {
      const p = load<f32>(sc + (<usize>j << 2));
      l += <f64>p;
      axpy(acc, p, v + ((<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) << 2), headDim, false);
    }
  }
  const inv = <f32>(1.0 / l);
  for (let d = 0; d < headDim; d++) store<f32>(oh + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
}

/** One query head, F16 values: online maximum and sum first, then Σ f16(normalized p)·v. */
function headTwoPass(oh: usize, qr: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, kvOff: i32, headDim: i32,
  scale: f64, kF16: bool, acc: usize, sc: usize): void {
  let m: f32 = -Infinity;
  let l: f64 = 0;
  for (let j0 = 0; j0 < nCtx; j0 += CHUNK) {
    const jn = min(CHUNK, nCtx - j0);
    const cm = chunkScores(sc, qr, k, j0, jn, kvDim, kvOff, headDim, scale, kF16);
    if (cm > m) {
      if (m != -Infinity) l *= <f64>f32x4.extract_lane(exp4(f32x4.splat(m - cm)), 0);
      m = cm;
    }
    expChunk(sc, jn, m);
    for (let j = 0; j < jn; j++) l += <f64>load<f32>(sc + (<usize>j << 2));
  }
  const inv = 1.0 / l;
  memory.fill(acc, 0, <usize>headDim << 2);
  for (let j0 = 0; j0 < nCtx; j0 += CHUNK) {
    const jn = min(CHUNK, nCtx - j0);
    chunkScores(sc, qr, k, j0, jn, kvDim, kvOff, headDim, scale, kF16);
    expChunk(sc, jn, m);
    for (let j = 0; j < jn; j++) {
      const p = roundF16(<f32>(<f64>load<f32>(sc + (<usize>j << 2)) * inv));
      axpy(acc, p, v + ((<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) << 1), headDim, true);
    }
  }
  memory.copy(oh, acc, <usize>headDim << 2);
}

/**
 * out, q: (nTokens, nHeads, headDim); k, v: (seqLen, nKvHeads·headDim) f32 or f16 (kvF16 bit 0: keys, bit 1:
 * values). Token t (position startPos + t) attends to cache rows 0..startPos + t. Heads h0..h1 only.
 */
export function attention(out: usize, q: usize, k: usize, v: usize, kvF16: i32, startPos: i32, nTokens: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scale: f64, scratch: usize, h0: i32, h1: i32): void {
  const kF16 = (kvF16 & 1) != 0, vF16 = (kvF16 & 2) != 0;
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const qr = scratch, acc = scratch + (<usize>headDim << 2), sc = acc + (<usize>headDim << 2);
  for (let t = 0; t < nTokens; t++) {
    const nCtx = startPos + t + 1;
    for (let h = h0; h < h1; h++) {
      const qh = q + ((<usize>(t * nHeads + h) * <usize>headDim) << 2);
      const oh = out + ((<usize>(t * nHeads + h) * <usize>headDim) << 2);
      const kvOff = (h / group) * headDim;
      for (let d = 0; d < headDim; d++) {
        const qv = load<f32>(qh + (<usize>d << 2));
        store<f32>(qr + (<usize>d << 2), kF16 ? roundF16(qv) : qv);
      }
      if (vF16) headTwoPass(oh, qr, k, v, nCtx, kvDim, kvOff, headDim, scale, kF16, acc, sc);
      else headOnePass(oh, qr, k, v, nCtx, kvDim, kvOff, headDim, scale, kF16, acc, sc);
    }
  }
}
