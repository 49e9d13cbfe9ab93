/**
 * The KV cache: per layer, the keys and values of every position seen so far, preallocated for the whole
 * context window in the backend's memory. F16 by default (half the memory, and what llama.cpp does).
 */

import type { Kernels, KvBuffer, KvDType } from "../kernels/kernels.js";
import type { ModelConfig } from "./config.js";

export interface KvCache {
  readonly dtype: KvDType;
  /** Positions the cache can hold. */
  readonly seqLen: number;
  /** (nLayers) pairs of (seqLen, kvDim) buffers. */
  readonly layers: ReadonlyArray<{ readonly k: KvBuffer; readonly v: KvBuffer }>;
}

export function createKvCache(k: Kernels, c: ModelConfig, seqLen: number, dtype: KvDType): KvCache {
  const layers = [];
  for (let i = 0; i < c.nLayers; i++) {
    layers.push({ k: k.allocKv(dtype, seqLen, c.kvDim), v: k.allocKv(dtype, seqLen, c.kvDim) });
  }
  return { dtype, seqLen, layers };
}
