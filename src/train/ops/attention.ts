/**
 * Causal self-attention over a batch of windows, all positions at once (teacher forcing):
 *   S = q·kᵀ·scale, masked above the diagonal, P = softmax(S) per row, O = P·v.
 * q (B·T, H·hd), k and v (B·T, Hkv·hd): head h reads kv head ⌊h·Hkv/H⌋ (MHA when Hkv = H, MQA when 1,
 * GQA between). P and the gathered per-head blocks are kept for the backward pass:
 *   dP = dO·vᵀ, dv += Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dq += dS·k·scale, dk += dSᵀ·q·scale.
 * Each (window, head) gathers its rows into contiguous (T, hd) blocks so the five products per head run on
 * the backend's matmul kernel (out = a·bᵀ); only the softmax and its derivative are plain loops.
 */

import type { Kernels } from "../../kernels/kernels.js";
import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

export interface AttentionDims {
  readonly batch: number;
  readonly seqLen: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
}

/** Copies head `h` of window `b` out of (B·T, nH·hd) rows into a (T, hd) block (scatterAdd puts one back). */
function gather(src: Float32Array, b: number, h: number, T: number, nH: number, hd: number): Float32Array {
  const out = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    const o = ((b * T + t) * nH + h) * hd;
    out.set(src.subarray(o, o + hd), t * hd);
  }
  return out;
}

function scatterAdd(dst: Float32Array, block: Float32Array, b: number, h: number, T: number, nH: number, hd: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const o = ((b * T + t) * nH + h) * hd;
    for (let e = 0; e < hd; e++) dst[o + e] = (dst[o + e] as number) + (block[t * hd + e] as number) * scale;
  }
}

/** Row-wise causal softmax of S (T, T) scaled by `scale`, in place; entries above the diagonal become 0. */
function causalSoftmax(S: Float32Array, T: number, scale: number): void {
  for (let i = 0; i < T; i++) {
    const o = i * T;
    let max = -Infinity;
    for (let j = 0; j <= i; j++) max = Math.max(max, (S[o + j] as number) * scale);
    let sum = 0;
    for (let j = 0; j <= i; j++) {
      const p = Math.exp((S[o + j] as number) * scale - max);
      S[o + j] = p;
      sum += p;
    }
    for (let j = 0; j <= i; j++) S[o + j] = (S[o + j] as number) / sum;
    S.fill(0, o + i + 1, o + T);
  }
}

export function causalAttention(tape: Tape, q: Value, k: Value, v: Value, d: AttentionDims): Value {
  const { batch: B, seqLen: T, nHeads: H, nKvHeads: Hkv, headDim: hd } = d;
  if (q.data.length !== B * T * H * hd || k.data.length !== B * T * Hkv * hd || v.data.length !== k.data.length || H % Hkv !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `train: attention shapes q (${q.shape.join(", ")}), k (${k.shape.join(", ")}), v (${v.shape.join(", ")}) ` +
      `do not fit batch ${B}, window ${T}, ${H} heads, ${Hkv} kv heads of ${hd}`);
  }
  const kern = tape.kernels;
  const scale = 1 / Math.sqrt(hd), group = H / Hkv;
  const heads: HeadBlocks[] = [];
  const y = tape.output(q.shape, [q, k, v]);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const qb = gather(q.data, b, h, T, H, hd), kb = gather(k.data, b, kvh, T, Hkv, hd), vb = gather(v.data, b, kvh, T, Hkv, hd);
      const P = new Float32Array(T * T);
      kern.matmulF32(P, kb, qb, T, hd, T); // S (T queries, T keys) = q · kᵀ
      causalSoftmax(P, T, scale);
      const o = new Float32Array(T * hd);
      kern.matmulF32(o, vb, P, hd, T, T, { wTransposed: true }); // O = P · v
      scatterAdd(y.data, o, b, h, T, H, hd, 1);
      heads.push({ P, q: qb, k: kb, v: vb });
    }
  }
  tape.record(y, (gy) => attentionBackward(tape, kern, q, k, v, gy, heads, d, scale));
  return y;
}

/** What the forward pass of one (window, head) keeps for the backward pass: P and the gathered q, k, v blocks. */
interface HeadBlocks {
  readonly P: Float32Array;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
}

function attentionBackward(tape: Tape, kern: Kernels, q: Value, k: Value, v: Value, gy: Float32Array, heads: HeadBlocks[], d: AttentionDims, scale: number): void {
  const { batch: B, seqLen: T, nHeads: H, nKvHeads: Hkv, headDim: hd } = d;
  const group = H / Hkv;
  const gq = q.needsGrad ? tape.grad(q) : undefined;
  const gk = k.needsGrad ? tape.grad(k) : undefined;
  const gv = v.needsGrad ? tape.grad(v) : undefined;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const { P, q: qb, k: kb, v: vb } = heads[b * H + h] as HeadBlocks;
      const dO = gather(gy, b, h, T, H, hd);
      if (gv) {
        const dv = new Float32Array(T * hd);
        kern.matmulF32(dv, dO, P, hd, T, T, { wTransposed: true, xTransposed: true }); // dv = Pᵀ · dO
        scatterAdd(gv, dv, b, kvh, T, Hkv, hd, 1);
      }
      if (!gq && !gk) continue;
      const dS = new Float32Array(T * T);
      kern.matmulF32(dS, vb, dO, T, hd, T); // dP = dO · vᵀ
      for (let i = 0; i < T; i++) { // dS = P ⊙ (dP − rowsum(dP ⊙ P)), zero above the diagonal
        const o = i * T;
        let dot = 0;
        for (let j = 0; j <= i; j++) dot += (dS[o + j] as number) * (P[o + j] as number);
        for (let j = 0; j <= i; j++) dS[o + j] = (P[o + j] as number) * ((dS[o + j] as number) - dot);
        dS.fill(0, o + i + 1, o + T);
      }
      if (gq) {
        const dq = new Float32Array(T * hd);
        kern.matmulF32(dq, kb, dS, hd, T, T, { wTransposed: true }); // dq = dS · k
        scatterAdd(gq, dq, b, h, T, H, hd, scale);
      }
      if (gk) {
        const dk = new Float32Array(T * hd);
        kern.matmulF32(dk, qb, dS, hd, T, T, { wTransposed: true, xTransposed: true }); // dk = dSᵀ · q
        scatterAdd(gk, dk, b, kvh, T, Hkv, hd, scale);
      }
    }
  }
}
