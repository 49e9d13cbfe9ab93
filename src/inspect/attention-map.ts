/**
 * Attention maps: one layer's softmax weights per head, (nHeads, nTokens, nKeys) with row = query position
 * and column = key position, assembled from the `attn_weights` (or, for an encoder–decoder's decoder,
 * `cross_weights`) tap records of a traced pass (one per forward chunk, (n, nHeads, width) each). Self-
 * attention maps are square (nKeys = nTokens): causal in a decoder (0 above the diagonal), bidirectional in
 * an encoder (every key of the text). Cross-attention maps are rectangular: decoder positions × encoder
 * positions. With grouped-query attention each query head reads the keys of kv head ⌊head / (nHeads /
 * nKvHeads)⌋, as the attention kernels group them; a sliding-window layer reports its window (the weights
 * outside it are 0). A map bigger than the caller's budget is kept as each row's top-k key positions instead,
 * flagged `summarised`, never dropped. This file builds and reads maps; it does not run the model
 * (trace-forward.ts does).
 */

/** Fields every map has. */
interface AttentionMapBase {
  readonly layer: number;
  readonly nHeads: number;
  /** Query positions (rows). */
  readonly nTokens: number;
  /** Key positions (columns): nTokens for self-attention, the encoded input's length for cross-attention. */
  readonly nKeys: number;
  /** "self": a stack attending to its own tokens; "cross": a decoder attending to the encoder's output. */
  readonly source: "self" | "cross";
  /** Whether a query sees only keys up to its own position (decoders' self-attention). */
  readonly causal: boolean;
  /** Sliding window of this layer (a query at p sees keys p − window + 1..p); 0: every earlier key. */
  readonly window: number;
  /** (nHeads) the kv head each query head reads. */
  readonly kvHeadOf: readonly number[];
}

/** Every weight: (nHeads, nTokens, nKeys), 0 where masked (above a causal map's diagonal, outside a window). */
export interface FullAttentionMap extends AttentionMapBase {
  readonly kind: "full";
  readonly summarised: false;
  readonly weights: Float32Array;
}

/** Per row the k largest weights, best first: key positions and weights (nHeads, nTokens, k), −1 and 0 where a row has fewer than k keys. */
export interface TopKAttentionMap extends AttentionMapBase {
  readonly kind: "top-k";
  readonly summarised: true;
  readonly k: number;
  readonly positions: Int32Array;
  readonly weights: Float32Array;
}

export type AttentionMap = FullAttentionMap | TopKAttentionMap;

/** Query head → kv head with nKvHeads groups of nHeads / nKvHeads consecutive heads. */
export function kvHeadsOf(nHeads: number, nKvHeads: number): number[] {
  const group = nHeads / nKvHeads;
  return Array.from({ length: nHeads }, (_, h) => Math.floor(h / group));
}

export interface AttentionCollector {
  /** Adds one tap record: data (n, nHeads, width) for queries startPos..startPos + n − 1 (width ≤ nKeys: startPos + n for self-attention). */
  add(startPos: number, n: number, data: Float32Array, width?: number): void;
  finish(): AttentionMap;
}

export interface AttentionCollectorSpec {
  readonly layer: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly nTokens: number;
  readonly window: number;
  /** Key positions; default nTokens (self-attention). */
  readonly nKeys?: number;
  /** Default "self". */
  readonly source?: "self" | "cross";
  /** Default true for self-attention, false for cross-attention. */
  readonly causal?: boolean;
  /** Most floats a full map may hold; above it the map keeps each row's top `topK`. */
  readonly budget: number;
  readonly topK: number;
}

export function createAttentionCollector(spec: AttentionCollectorSpec): AttentionCollector {
  const { nHeads, nTokens } = spec;
  const nKeys = spec.nKeys ?? nTokens, source = spec.source ?? "self";
  const base = {
    layer: spec.layer, nHeads, nTokens, nKeys, source, causal: spec.causal ?? source === "self",
    window: spec.window, kvHeadOf: kvHeadsOf(nHeads, spec.nKvHeads),
  };
  const full = nHeads * nTokens * nKeys <= spec.budget;
  const k = Math.min(spec.topK, nKeys);
  const weights = new Float32Array(full ? nHeads * nTokens * nKeys : nHeads * nTokens * k);
  const positions = full ? new Int32Array(0) : new Int32Array(nHeads * nTokens * k).fill(-1);
  return {
    add(startPos, n, data, width = startPos + n) {
      for (let t = 0; t < n; t++) {
        const q = startPos + t;
        for (let h = 0; h < nHeads; h++) {
          const row = data.subarray((t * nHeads + h) * width, (t * nHeads + h + 1) * width);
          if (full) weights.set(row, (h * nTokens + q) * nKeys);
          else keepTop(row, k, positions, weights, (h * nTokens + q) * k);
        }
      }
    },
    finish(): AttentionMap {
      return full ? { ...base, kind: "full", summarised: false, weights } : { ...base, kind: "top-k", summarised: true, k, positions, weights };
    },
  };
}

/** Writes the k largest entries of row (ties: earlier position) into positions/weights at off, best first. */
function keepTop(row: Float32Array, k: number, positions: Int32Array, weights: Float32Array, off: number): void {
  let n = 0;
  for (let j = 0; j < row.length; j++) {
    const w = row[j] as number;
    if (w <= 0) continue; // masked keys (above the diagonal, outside a window) are not candidates
    if (n === k && w <= (weights[off + k - 1] as number)) continue;
    let i = n === k ? k - 1 : n++;
    while (i > 0 && w > (weights[off + i - 1] as number)) {
      weights[off + i] = weights[off + i - 1] as number;
      positions[off + i] = positions[off + i - 1] as number;
      i--;
    }
    weights[off + i] = w;
    positions[off + i] = j;
  }
}

/**
 * One query's weights over the keys, (nKeys): a view of a full map, or for a summarised map a new row
 * with its top-k weights in place and 0 elsewhere (the rest of its mass is not kept).
 */
export function attentionRow(map: AttentionMap, head: number, query: number): Float32Array {
  const n = map.nKeys;
  const r = head * map.nTokens + query;
  if (map.kind === "full") return map.weights.subarray(r * n, (r + 1) * n);
  const row = new Float32Array(n);
  for (let i = 0; i < map.k; i++) {
    const p = map.positions[r * map.k + i] as number;
    if (p >= 0) row[p] = map.weights[r * map.k + i] as number;
  }
  return row;
}
