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
      for (let j = j0; j < nCtx; j++) {
        let dot = 0;
        const kBase = (j - kvStart) * kvDim + kvOff;
        for (let d = 0; d < headDim; d++) {
          const qv = q[qBase + d] as number;
          dot += (roundQ ? roundToF16(qv) : qv) * kvAt(k, kBase + d);
        }
        let raw = Math.fround(dot);
        if (cap > 0) raw = Math.fround(Math.fround(Math.tanh(Math.fround(raw * invCap))) * capF);
        if (bias !== undefined) raw = Math.fround(raw + (bias.table[h * biasRow + Math.min(span, Math.max(-span, j - pos)) + span] as number));
        const s = Math.fround(raw * scale);
        scratch[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = j0; j < nCtx; j++) {
        const e = Math.fround(Math.exp((scratch[j] as number) - max));
        scratch[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = j0; j < nCtx; j++) scratch[j] = Math.fround((scratch[j] as number) * inv);
      if (probs) {
        const pBase = (t * nHeads + h) * total;
        for (let j = 0; j < total; j++) probs[pBase + j] = j >= j0 && j < nCtx ? (scratch[j] as number) : 0;
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
