/**
 * One traced forward pass over a prompt, gathered into typed per-layer records: the row-per-token taps
 * (attn_norm, q, k, v, attn_out, ffn_norm, ffn_out, resid) concatenated over the forward chunks as
 * (nTokens, width), and attention maps (attention-map.ts) from attn_weights. Records are collected while the
 * pass runs (a Trace of its own, trace-collector.ts), so an over-budget attention map is summarised chunk by
 * chunk instead of first being held whole. A decoder runs in a fresh session; an encoder (BERT) runs its
 * whole text in one forward call (bidirectional: every token sees every other) and has no logits; an
 * encoder–decoder (T5) is trace-seq2seq.ts. Flash attention is off by default, so the pass that produces the
 * output is the one whose softmax weights the maps show. It does not analyse anything: the logit lens, norms,
 * sampler and interventions read its result.
 */

import type { KvDType } from "../kernels/kernels.js";
import type { FlashAttention } from "../generate/session.js";
import { createSession, flashVariant } from "../generate/session.js";
import { forward } from "../model/forward.js";
import type { Intervention } from "../model/intervention.js";
import { checkIntervention } from "../model/intervention.js";
import { createKvCache } from "../model/kv-cache.js";
import type { Model } from "../model/model.js";
import { createRunState } from "../model/run-state.js";
import { PeelError } from "../util/errors.js";
import type { AttentionMap } from "./attention-map.js";
import { checkPrompt } from "./check.js";
import { createTraceCollector, type CollectorLimits, type LayerTrace, type TraceTapName } from "./trace-collector.js";

export type { LayerTrace, TraceTapName } from "./trace-collector.js";

export const ALL_TRACE_TAPS: readonly TraceTapName[] = ["embed", "attn_norm", "q", "k", "v", "attn_weights", "cross_weights", "attn_out", "ffn_norm", "ffn_out", "resid"];
/** What the views need: embeddings, attention (and an encoder–decoder's cross-attention), the sub-block outputs and the residual stream. */
export const DEFAULT_TRACE_TAPS: readonly TraceTapName[] = ["embed", "attn_weights", "cross_weights", "attn_out", "ffn_out", "resid"];

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

export interface ForwardTrace {
  /** Which stack ran: a decoder (causal), or an encoder (bidirectional; BERT, or T5's encoder). */
  readonly stack: "decoder" | "encoder";
  readonly ids: readonly number[];
  readonly nTokens: number;
  readonly taps: readonly TraceTapName[];
  /** (nTokens, dim) the residual stream entering layer 0 (after any embedding scale and learned positions). */
  readonly embed: Float32Array | undefined;
  readonly layers: readonly LayerTrace[];
  /** (vocabSize) the model's next-token logits after the last prompt token; empty for an encoder (no head). */
  readonly logits: Float32Array;
  /** (nTokens, vocabSize) when `allLogits` was asked for. */
  readonly allLogits: Float32Array | undefined;
}

/** Checks the taps and limits every traced pass shares. */
export function checkTraceOptions(taps: readonly TraceTapName[], opts: TraceForwardOptions): CollectorLimits {
  for (const t of taps) {
    if (!ALL_TRACE_TAPS.includes(t)) {
      throw new PeelError("INVALID_ARGUMENT", `traceForward: unknown tap "${String(t)}"; taps: ${ALL_TRACE_TAPS.join(", ")} (logits are always returned)`);
    }
  }
  const budget = opts.attentionBudget ?? 2 ** 22;
  const topK = opts.attentionTopK ?? 8;
  if (!(budget >= 0) || !(Number.isInteger(topK) && topK >= 1)) {
    throw new PeelError("INVALID_ARGUMENT", `traceForward: attentionBudget must be ≥ 0 and attentionTopK an integer ≥ 1, got ${budget} and ${topK}`);
  }
  return { budget, topK };
}

/**
 * Runs `ids` through `model` with the asked-for taps; returns the records per layer. Decoders run in a fresh
 * session (in chunks of batchSize); encoders in one call over the whole text.
 */
export function traceForward(model: Model, ids: readonly number[], opts: TraceForwardOptions = {}): ForwardTrace {
  const c = model.config;
  if (c.seq2seq !== undefined) {
    throw new PeelError("UNSUPPORTED", `traceForward: "${c.architecture}" is an encoder–decoder; trace it with traceSeq2seq(model, input, output), ` +
      "which returns the encoder's and the decoder's records (self- and cross-attention)");
  }
  checkPrompt(c, ids);
  const taps = opts.taps ?? DEFAULT_TRACE_TAPS;
  const limits = checkTraceOptions(taps, opts);
  if (opts.intervention !== undefined) checkIntervention(c, opts.intervention);
  const nTokens = ids.length;
  const encoder = c.encoder !== undefined;
  const collector = createTraceCollector(c, nTokens, taps, limits, { causal: !encoder });
  const iv = opts.intervention !== undefined ? { intervention: opts.intervention } : {};
  let out: Float32Array;
  if (encoder) { // bidirectional: the whole text in one call; no head, so no logits
    const k = model.transformer.kernels;
    const state = createRunState(k, c, nTokens, nTokens);
    const cache = createKvCache(k, c, nTokens, opts.kvType ?? "F16", nTokens);
    forward(model.transformer, state, cache, ids, 0, { logits: "none", trace: collector.trace, flash: flashVariant(opts.flashAttention ?? "off", nTokens), ...iv });
    out = new Float32Array(0);
  } else {
    const session = createSession(model, {
      contextLength: nTokens, flashAttention: opts.flashAttention ?? "off", kvType: opts.kvType ?? "F16",
      batchSize: Math.min(opts.batchSize ?? 64, nTokens),
    });
    out = session.evaluate(ids, { trace: collector.trace, allLogits: opts.allLogits === true, ...iv });
  }
  const all = opts.allLogits === true && !encoder;
  const logits = encoder ? out : all ? out.slice((nTokens - 1) * c.vocabSize) : out.slice(0, c.vocabSize);
  const { embed, layers } = collector.finish();
  return { stack: encoder ? "encoder" : "decoder", ids: [...ids], nTokens, taps: [...taps], embed, layers, logits, allLogits: all ? out : undefined };
}
