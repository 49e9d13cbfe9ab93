/**
 * The KV cache: per layer, the keys and values of the positions attention can still read, preallocated in the
 * backend's memory. F16 by default (half the memory, and what llama.cpp does). A full-attention layer holds
 * every position of the context (row = position). A sliding-window layer (window W) holds only the recent
 * rows: min(context, 2W + batch), enough for a batch of new tokens and the W − 1 positions before it. When a
 * batch would run past its end, the rows still inside the window move to the front (`makeRoom`) and the layer
 * remembers which position its row 0 holds (`start`); moving W − 1 rows once every W + batch tokens costs
 * about one row copy per token, where a ring buffer would have cost the kernels a modulo on every row.
 * Positions that fell out of the window are gone: a sliding layer cannot go back to them.
 */

import type { Kernels, KvBuffer, KvDType } from "../kernels/kernels.js";
import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";

export interface KvLayer {
  readonly k: KvBuffer;
  readonly v: KvBuffer;
  /** Attention window of this layer (0: every earlier position). */
  readonly window: number;
  /** Position held by row 0 (always 0 for a full-attention layer). */
  start: number;
}

export interface KvCache {
  readonly dtype: KvDType;
  /** Positions the cache can hold. */
  readonly seqLen: number;
  /** (nLayers) pairs of (rows, kvDim) buffers: rows = seqLen, or fewer on a sliding-window layer. */
  readonly layers: readonly KvLayer[];
  /** Encoder–decoder models: the keys and values cross-attention reads (CrossKv). */
  readonly cross?: CrossKv;
}

/**
 * Per decoder layer, the cross-attention keys and values of the encoded input, (seqLen, kvDim) each, computed
 * once per input (model/encode.ts) and read at every decoder step. F32, as llama.cpp computes them (it keeps
 * no cache for them and recomputes them from the encoder's output at every step: the same values).
 */
export interface CrossKv {
  readonly layers: readonly { readonly k: KvBuffer; readonly v: KvBuffer }[];
  /** Encoder positions they hold; 0 until an input is encoded. */
  length: number;
}

/** Rows a layer with this window keeps for a context of seqLen positions and forward calls of ≤ batch tokens. */
export function kvRows(window: number, seqLen: number, batch: number): number {
  return window > 0 ? Math.min(seqLen, 2 * window + batch) : seqLen;
}

/**
 * Bytes of a session's KV cache: keys and values of every layer, sliding layers bounded by kvRows. Also what
 * a cache of the whole context would take without that bound, so `peel info` and the inspector can show the
 * saving.
 */
export function kvCacheBytes(c: ModelConfig, seqLen: number, dtype: KvDType, batch: number): { bytes: number; unbounded: number } {
  const rowBytes = 2 * c.kvDim * (dtype === "F16" ? 2 : 4); // a key and a value
  let bytes = 0;
  for (let i = 0; i < c.nLayers; i++) bytes += kvRows(c.layerWindows[i] ?? 0, seqLen, batch) * rowBytes;
  const cross = c.seq2seq !== undefined ? c.nLayers * seqLen * 2 * c.kvDim * 4 : 0; // F32 cross-attention keys and values
  return { bytes: bytes + cross, unbounded: c.nLayers * seqLen * rowBytes + cross };
}

export function createKvCache(k: Kernels, c: ModelConfig, seqLen: number, dtype: KvDType, batch: number): KvCache {
  const layers: KvLayer[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const window = c.layerWindows[i] ?? 0;
    const rows = kvRows(window, seqLen, batch);
    layers.push({ k: k.allocKv(dtype, rows, c.kvDim), v: k.allocKv(dtype, rows, c.kvDim), window, start: 0 });
  }
  if (c.seq2seq === undefined) return { dtype, seqLen, layers };
  const cross = Array.from({ length: c.nLayers }, () => ({ k: k.allocKv("F32", seqLen, c.kvDim), v: k.allocKv("F32", seqLen, c.kvDim) }));
  return { dtype, seqLen, layers, cross: { layers: cross, length: 0 } };
}

/**
 * Before nTokens new positions from startPos go into `kv`: makes sure its rows hold every position the new
 * queries can see (from startPos − window + 1) and have room for the new ones, moving rows to the front if
 * needed. Returns the row where startPos goes. A fresh sequence (startPos 0) starts the layer over.
 */
export function makeRoom(kv: KvLayer, startPos: number, nTokens: number, k?: Pick<Kernels, "copyKvRows">): number {
  if (startPos === 0) kv.start = 0;
  const rows = kv.k.seqLen;
  const first = kv.window > 0 ? Math.max(0, startPos - kv.window + 1) : 0; // the oldest position a new query sees
  const fits = startPos + nTokens - kv.start <= rows;
  if (first < kv.start || (!fits && (kv.window === 0 || startPos + nTokens - first > rows))) {
    throw new PeelError("CONTEXT_OVERFLOW", `KV cache: positions ${startPos}..${startPos + nTokens - 1} need the rows from position ${first}, ` +
      `but this layer holds ${rows} rows from position ${kv.start}${kv.window > 0 ? ` (window ${kv.window})` : ""}`);
  }
  if (!fits) {
    if (k?.copyKvRows !== undefined) { // a cache in GPU memory moves there
      k.copyKvRows(kv.k, first - kv.start, 0, startPos - first);
      k.copyKvRows(kv.v, first - kv.start, 0, startPos - first);
    } else {
      const from = (first - kv.start) * kv.k.kvDim, to = (startPos - kv.start) * kv.k.kvDim;
      kv.k.data.copyWithin(0, from, to);
      kv.v.data.copyWithin(0, from, to);
    }
    kv.start = first;
  }
  return startPos - kv.start;
}
