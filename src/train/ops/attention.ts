/**
 * Causal self-attention over a batch of windows, all positions at once (teacher forcing):
 *   S = q·kᵀ·scale, masked above the diagonal, P = softmax(S) per row, O = P·v.
 * q (B·T, H·hd), k and v (B·T, Hkv·hd): head h reads kv head ⌊h·Hkv/H⌋ (MHA when Hkv = H, MQA when 1,
 * GQA between). P is kept for the backward pass:
 *   dP = dO·vᵀ, dv += Pᵀ·dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dq += dS·k·scale, dk += dSᵀ·q·scale.
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

export interface AttentionDims {
  readonly batch: number;
  readonly seqLen: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
}

export function causalAttention(tape: Tape, q: Value, k: Value, v: Value, d: AttentionDims): Value {
  const { batch: B, seqLen: T, nHeads: H, nKvHeads: Hkv, headDim: hd } = d;
  if (q.data.length !== B * T * H * hd || k.data.length !== B * T * Hkv * hd || v.data.length !== k.data.length || H % Hkv !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `train: attention shapes q (${q.shape.join(", ")}), k (${k.shape.join(", ")}), v (${v.shape.join(", ")}) ` +
      `do not fit batch ${B}, window ${T}, ${H} heads, ${Hkv} kv heads of ${hd}`);
  }
  const scale = 1 / Math.sqrt(hd);
  const qs = H * hd, ks = Hkv * hd, group = H / Hkv;
  const P = new Float32Array(B * H * T * T);
  const y = tape.output(q.shape, [q, k, v]);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = (b * T + i) * qs + h * hd, po = ((b * H + h) * T + i) * T;
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          const ko = (b * T + j) * ks + kvh * hd;
          let s = 0;
          for (let e = 0; e < hd; e++) s += (q.data[qo + e] as number) * (k.data[ko + e] as number);
          s *= scale;
          P[po + j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) { const p = Math.exp((P[po + j] as number) - max); P[po + j] = p; sum += p; }
        for (let j = 0; j <= i; j++) {
          const p = (P[po + j] as number) / sum;
          P[po + j] = p;
          const vo = (b * T + j) * ks + kvh * hd;
          for (let e = 0; e < hd; e++) y.data[qo + e] = (y.data[qo + e] as number) + p * (v.data[vo + e] as number);
        }
      }
    }
  }
  tape.record(y, (gy) => attentionBackward(tape, q, k, v, gy, P, d, scale));
  return y;
}

function attentionBackward(tape: Tape, q: Value, k: Value, v: Value, gy: Float32Array, P: Float32Array, d: AttentionDims, scale: number): void {
  const { batch: B, seqLen: T, nHeads: H, nKvHeads: Hkv, headDim: hd } = d;
  const qs = H * hd, ks = Hkv * hd, group = H / Hkv;
  const gq = q.needsGrad ? tape.grad(q) : new Float32Array(q.data.length);
  const gk = k.needsGrad ? tape.grad(k) : new Float32Array(k.data.length);
  const gv = v.needsGrad ? tape.grad(v) : new Float32Array(v.data.length);
  const dP = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = (b * T + i) * qs + h * hd, po = ((b * H + h) * T + i) * T;
        let rowDot = 0;
        for (let j = 0; j <= i; j++) {
          const vo = (b * T + j) * ks + kvh * hd, p = P[po + j] as number;
          let s = 0;
          for (let e = 0; e < hd; e++) {
            const g = gy[qo + e] as number;
            s += g * (v.data[vo + e] as number);
            gv[vo + e] = (gv[vo + e] as number) + p * g;
          }
          dP[j] = s;
          rowDot += s * p;
        }
        for (let j = 0; j <= i; j++) {
          const ds = (P[po + j] as number) * ((dP[j] as number) - rowDot) * scale;
          if (ds === 0) continue;
          const ko = (b * T + j) * ks + kvh * hd;
          for (let e = 0; e < hd; e++) {
            gq[qo + e] = (gq[qo + e] as number) + ds * (k.data[ko + e] as number);
            gk[ko + e] = (gk[ko + e] as number) + ds * (q.data[qo + e] as number);
          }
        }
      }
    }
  }
}
