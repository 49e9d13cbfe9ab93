/**
 * Pooling: an encoder's last-layer token vectors (nTokens, dim) → one vector per text, as llama.cpp pools
 * them (build_pooling): the mean of every token's vector, the first token's ([CLS]), the last token's, or,
 * with "none", every token's vector kept (nTokens · dim values). Then optional L2 normalisation. Plain math
 * on small arrays: the forward pass is where the time goes.
 */

import type { PoolingKind } from "../model/config.js";

/** (nTokens, dim) → the pooled vector (dim), or a copy of every row for "none". */
export function pool(x: Float32Array, nTokens: number, dim: number, pooling: PoolingKind): Float32Array {
  switch (pooling) {
    case "none": return x.slice(0, nTokens * dim);
    case "cls": return x.slice(0, dim);
    case "last": return x.slice((nTokens - 1) * dim, nTokens * dim);
    case "mean": {
      // llama.cpp multiplies by a column of f32(1/n) (a matrix product), so each term is x·f32(1/n)
      const inv = Math.fround(1 / nTokens);
      const out = new Float32Array(dim);
      for (let d = 0; d < dim; d++) {
        let s = 0;
        for (let t = 0; t < nTokens; t++) s += (x[t * dim + d] as number) * inv;
        out[d] = s;
      }
      return out;
    }
  }
}

/** v ← v / ‖v‖₂ in place (a zero vector stays zero); returns v. */
export function normalizeL2(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
  return v;
}

/** Cosine similarity of two equal-length vectors (0 when either is zero). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] as number;
    ab += x * y; aa += x * x; bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
