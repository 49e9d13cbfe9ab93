/**
 * One traced forward pass over a prompt in a fresh session, gathered into typed per-layer records: the
 * row-per-token taps (attn_norm, q, k, v, attn_out, ffn_norm, ffn_out, resid) concatenated over the
 * forward chunks as (nTokens, width), and attention maps (attention-map.ts) from attn_weights. Records are
 * collected while the pass runs (a Trace of its own), so an over-budget attention map is summarised chunk
 * by chunk instead of first being held whole. Flash attention is off by default, so the pass that produces
 * the output is the one whose softmax weights the maps show. It does not analyse anything: the logit lens,
 * norms, sampler and interventions read its result.
 */

import type { KvDType } from "../kernels/kernels.js";
import type { FlashAttention } from "../generate/session.js";
import { createSession } from "../generate/session.js";
import type { Intervention } from "../model/intervention.js";
import { checkIntervention } from "../model/intervention.js";
import type { Model } from "../model/model.js";
import type { TapName, Trace } from "../model/trace.js";
import { PeelError } from "../util/errors.js";
import { createAttentionCollector, type AttentionCollector, type AttentionMap } from "./attention-map.js";
import { checkPrompt } from "./check.js";

/** The taps traceForward collects (the final norm and logits come from the pass itself: see ForwardTrace.logits). */
export type TraceTapName = Exclude<TapName, "output_norm" | "logits">;
type RowTap = Exclude<TraceTapName, "embed" | "attn_weights">;

export const ALL_TRACE_TAPS: readonly TraceTapName[] = ["embed", "attn_norm", "q", "k", "v", "attn_weights", "attn_out", "ffn_norm", "ffn_out", "resid"];
/** What the views need: embeddings, attention, the sub-block outputs and the residual stream. */
export const DEFAULT_TRACE_TAPS: readonly TraceTapName[] = ["embed", "attn_weights", "attn_out", "ffn_out", "resid"];

export interface TraceForwardOptions {
  readonly taps?: readonly TraceTapName[];
  /** Default "off": the maps are then the weights that produced the output (the attn_weights tap is always the standard path's). */
  readonly flashAttention?: FlashAttention;
  /** KV cache storage, default "F16" as generation uses. */
  readonly kvType?: KvDType;
  /** Tokens per forward call (default 64). */
  readonly batchSize?: number;
  /** Most floats one layer's full attention map may hold (default 2^22 = 16 MiB); larger maps are summarised. */
  readonly attentionBudget?: number;
  /** Key positions kept per row of a summarised map (default 8). */
  readonly attentionTopK?: number;
  /** Edits to the pass (model/intervention.ts): trace an ablated or patched run. */
  readonly intervention?: Intervention;
  /** Also return every position's logits (nTokens, vocabSize). */
  readonly allLogits?: boolean;
}

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
  readonly attnOut: Float32Array | undefined; // (nTokens, dim)
  readonly ffnNorm: Float32Array | undefined; // (nTokens, dim)
  readonly ffnOut: Float32Array | undefined; // (nTokens, dim)
  /** The residual stream after this layer. */
  readonly resid: Float32Array | undefined; // (nTokens, dim)
}

export interface ForwardTrace {
  readonly ids: readonly number[];
  readonly nTokens: number;
  readonly taps: readonly TraceTapName[];
  /** (nTokens, dim) the residual stream entering layer 0 (after any embedding scale and learned positions). */
  readonly embed: Float32Array | undefined;
  readonly layers: readonly LayerTrace[];
  /** (vocabSize) the model's next-token logits after the last prompt token. */
  readonly logits: Float32Array;
  /** (nTokens, vocabSize) when `allLogits` was asked for. */
  readonly allLogits: Float32Array | undefined;
}

/** Runs `ids` through a fresh session of `model` with the asked-for taps; returns the records per layer. */
export function traceForward(model: Model, ids: readonly number[], opts: TraceForwardOptions = {}): ForwardTrace {
  const c = model.config;
  if (c.seq2seq !== undefined) {
    throw new PeelError("UNSUPPORTED", `traceForward: "${c.architecture}" is an encoder–decoder; the inspector's trace covers one causal stack. ` +
      "Trace T5 through a session instead: session.encode(ids, { trace }) for the encoder, evaluate() with cross_norm/cross_weights/cross_out taps for the decoder");
  }
  checkPrompt(c, ids);
  const taps = opts.taps ?? DEFAULT_TRACE_TAPS;
  for (const t of taps) {
    if (!ALL_TRACE_TAPS.includes(t)) {
      throw new PeelError("INVALID_ARGUMENT", `traceForward: unknown tap "${String(t)}"; taps: ${ALL_TRACE_TAPS.join(", ")} (logits are always returned)`);
    }
  }
  if (opts.intervention !== undefined) checkIntervention(c, opts.intervention);
  const budget = opts.attentionBudget ?? 2 ** 22;
  const topK = opts.attentionTopK ?? 8;
  if (!(budget >= 0) || !(Number.isInteger(topK) && topK >= 1)) {
    throw new PeelError("INVALID_ARGUMENT", `traceForward: attentionBudget must be ≥ 0 and attentionTopK an integer ≥ 1, got ${budget} and ${topK}`);
  }
  const nTokens = ids.length;
  const rows = new Map<string, Float32Array>(); // `${tap}@${layer}` → (nTokens, width)
  const wanted = new Set<TapName>(taps);
  const maps: AttentionCollector[] = [];
  for (let layer = 0; layer < c.nLayers && wanted.has("attn_weights"); layer++) {
    maps.push(createAttentionCollector({
      layer, nHeads: c.nHeads, nKvHeads: c.nKvHeads, nTokens, window: c.layerWindows[layer] ?? 0, budget, topK,
    }));
  }
  const trace: Trace = {
    wants: (name) => wanted.has(name),
    record(name, layer, startPos, shape, data) {
      const n = shape[0] as number;
      if (name === "attn_weights") { (maps[layer] as AttentionCollector).add(startPos, n, data); return; }
      const width = shape.slice(1).reduce((a, b) => a * b, 1);
      const key = `${name}@${layer}`;
      let dest = rows.get(key);
      if (dest === undefined) rows.set(key, dest = new Float32Array(nTokens * width));
      dest.set(data.subarray(0, n * width), startPos * width);
    },
  };

  const session = createSession(model, {
    contextLength: nTokens, flashAttention: opts.flashAttention ?? "off", kvType: opts.kvType ?? "F16",
    batchSize: Math.min(opts.batchSize ?? 64, nTokens),
  });
  const all = opts.allLogits === true;
  const out = session.evaluate(ids, { trace, allLogits: all, ...(opts.intervention !== undefined ? { intervention: opts.intervention } : {}) });
  const logits = all ? out.slice((nTokens - 1) * c.vocabSize) : out.slice(0, c.vocabSize);

  const layers: LayerTrace[] = [];
  for (let layer = 0; layer < c.nLayers; layer++) {
    const row = (tap: RowTap) => rows.get(`${tap}@${layer}`);
    layers.push({
      layer, window: c.layerWindows[layer] ?? 0,
      attnNorm: row("attn_norm"), q: row("q"), k: row("k"), v: row("v"), attention: maps[layer]?.finish(),
      attnOut: row("attn_out"), ffnNorm: row("ffn_norm"), ffnOut: row("ffn_out"), resid: row("resid"),
    });
  }
  return { ids: [...ids], nTokens, taps: [...taps], embed: rows.get("embed@-1"), layers, logits, allLogits: all ? out : undefined };
}
