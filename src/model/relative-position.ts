/**
 * T5's relative-position buckets: a key at distance d = key − query from its query falls into one of
 * `nBuckets` buckets (half per direction when bidirectional; only d ≤ 0 in a causal decoder), exact for small
 * distances and logarithmically wider up to `maxDistance`, beyond which every distance shares the last bucket.
 * Each bucket has a learned bias per head; `positionBiasTable` spreads them over distances −maxDistance..
 * maxDistance once per model, so attention adds a bias by lookup (kernels.ts AttentionShape.positionBias).
 * The arithmetic follows llama.cpp's llama_relative_position_bucket step by step (a float log of the ratio, a
 * double log of the range, a float floor), so that bucket edges fall where llama.cpp puts them.
 */

import type { PositionBias } from "./weights.js";

/** The bucket of a key at distance d = key − query. */
export function relativeBucket(d: number, nBuckets: number, bidirectional: boolean, maxDistance: number): number {
  let n = nBuckets;
  if (bidirectional) n >>= 1;
  const maxExact = n >> 1;
  let bucket = 0;
  let dist: number;
  if (bidirectional) {
    if (d > 0) bucket += n; // keys after the query use the upper half
    dist = Math.abs(d);
  } else {
    dist = -Math.min(d, 0); // a causal decoder sees only keys at or before its query
  }
  if (dist < maxExact) return bucket + dist;
  // logf(float(dist / maxExact)) · (n − maxExact) in float, / log(maxDistance / maxExact) in double, floorf
  const logRatio = Math.fround(Math.log(Math.fround(dist / maxExact)));
  const scaled = Math.fround(logRatio * Math.fround(n - maxExact));
  const large = Math.floor(Math.fround(maxExact + scaled / Math.log(maxDistance / maxExact)));
  return bucket + Math.min(large, n - 1);
}

/**
 * Per head, the bias of every distance −maxDistance..maxDistance, from a (nBuckets, nHeads) bias tensor
 * (GGUF `attn_rel_b`, one row of head values per bucket).
 */
export function positionBiasTable(relBias: Float32Array, nHeads: number, nBuckets: number, bidirectional: boolean, maxDistance: number): PositionBias {
  const span = maxDistance;
  const width = 2 * span + 1;
  const table = new Float32Array(nHeads * width);
  for (let d = -span; d <= span; d++) {
    const b = relativeBucket(d, nBuckets, bidirectional, maxDistance);
    for (let h = 0; h < nHeads; h++) table[h * width + d + span] = relBias[b * nHeads + h] as number;
  }
  return { table, span };
}
