/**
 * The Trace a traced pass runs with: it copies the row-per-token taps of one stack into (nTokens, width)
 * arrays across forward chunks and feeds attention weights (self, and a T5 decoder's cross-attention) to
 * attention-map.ts collectors as they arrive, then hands back per-layer records. Shared by traceForward
 * (decoders, encoders) and traceSeq2seq (T5's two stacks). It runs nothing itself.
 */

import type { ModelConfig } from "../model/config.js";
import type { TapName, Trace } from "../model/trace.js";
import { createAttentionCollector, type AttentionCollector, type AttentionMap } from "./attention-map.js";

/** The taps traceForward collects (the final norm and logits come from the pass itself: see ForwardTrace.logits). */
export type TraceTapName = Exclude<TapName, "output_norm" | "logits" | "cross_norm" | "cross_out">;

/** One layer's records; a field is undefined when its tap was not asked for. Rows: (nTokens, width). */
export interface LayerTrace {
  readonly layer: number;
  /** Sliding window of this layer, 0 for full attention. */
  readonly window: number;
  readonly attnNorm: Float32Array | undefined; // (nTokens, dim)
  readonly q: Float32Array | undefined; // (nTokens, nHeads·headDim)
  readonly k: Float32Array | undefined; // (nTokens, kvDim)
  readonly v: Float32Array | undefined; // (nTokens, kvDim)
  readonly attention: AttentionMap | undefined;
  /** An encoder–decoder's decoder layer: its cross-attention over the encoded input, (nHeads, nTokens, nInput). */
  readonly crossAttention: AttentionMap | undefined;
  readonly attnOut: Float32Array | undefined; // (nTokens, dim)
  readonly ffnNorm: Float32Array | undefined; // (nTokens, dim)
  readonly ffnOut: Float32Array | undefined; // (nTokens, dim)
  /** The residual stream after this layer. */
  readonly resid: Float32Array | undefined; // (nTokens, dim)
}


type RowTap = Exclude<TraceTapName, "embed" | "attn_weights" | "cross_weights">;

export interface CollectorLimits {
  /** Most floats one layer's full map may hold; larger maps keep each row's top `topK` keys. */
  readonly budget: number;
  readonly topK: number;
}

export interface TraceCollector {
  readonly trace: Trace;
  finish(): { readonly embed: Float32Array | undefined; readonly layers: LayerTrace[] };
}

/**
 * A collector for one stack of config `c` over nTokens positions: self-attention maps causal or not, and,
 * with `crossKeys` (the encoded input's length), cross-attention maps of nTokens × crossKeys.
 */
export function createTraceCollector(c: ModelConfig, nTokens: number, taps: readonly TraceTapName[], limits: CollectorLimits,
  opts: { readonly causal: boolean; readonly crossKeys?: number }): TraceCollector {
  const rows = new Map<string, Float32Array>(); // `${tap}@${layer}` → (nTokens, width)
  const wanted = new Set<TapName>(taps);
  const mapsOf = (source: "self" | "cross", on: boolean): AttentionCollector[] => (on ? Array.from({ length: c.nLayers }, (_, layer) =>
    createAttentionCollector({
      layer, nHeads: c.nHeads, nKvHeads: c.nKvHeads, nTokens, window: source === "self" ? c.layerWindows[layer] ?? 0 : 0, ...limits,
      source, causal: source === "self" && opts.causal, ...(source === "cross" ? { nKeys: opts.crossKeys } : {}),
    })) : []);
  const self = mapsOf("self", wanted.has("attn_weights"));
  const cross = mapsOf("cross", wanted.has("cross_weights") && opts.crossKeys !== undefined);
  const trace: Trace = {
    wants: (name) => wanted.has(name) && (name !== "cross_weights" || cross.length > 0),
    record(name, layer, startPos, shape, data) {
      const n = shape[0] as number;
      if (name === "attn_weights") { (self[layer] as AttentionCollector).add(startPos, n, data, shape[2]); return; }
      if (name === "cross_weights") { (cross[layer] as AttentionCollector).add(startPos, n, data, shape[2]); return; }
      const width = shape.slice(1).reduce((a, b) => a * b, 1);
      const key = `${name}@${layer}`;
      let dest = rows.get(key);
      if (dest === undefined) rows.set(key, dest = new Float32Array(nTokens * width));
      dest.set(data.subarray(0, n * width), startPos * width);
    },
  };
  return {
    trace,
    finish() {
      const layers: LayerTrace[] = [];
      for (let layer = 0; layer < c.nLayers; layer++) {
        const row = (tap: RowTap) => rows.get(`${tap}@${layer}`);
        layers.push({
          layer, window: c.layerWindows[layer] ?? 0,
          attnNorm: row("attn_norm"), q: row("q"), k: row("k"), v: row("v"),
          attention: self[layer]?.finish(), crossAttention: cross[layer]?.finish(),
          attnOut: row("attn_out"), ffnNorm: row("ffn_norm"), ffnOut: row("ffn_out"), resid: row("resid"),
        });
      }
      return { embed: rows.get("embed@-1"), layers };
    },
  };
}
