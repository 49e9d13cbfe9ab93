/**
 * Causal experiments on the next-token distribution: ablate (zero, or scale) one attention head's
 * contribution or one layer's feed-forward output, or patch one position's residual stream at one layer
 * with the one a second prompt produces there (activation patching), and report how the distribution after
 * the prompt's last token changes: KL divergence, the top tokens before and after, the largest logit change.
 * The edits themselves are model/intervention.ts's, applied inside the forward pass; this file picks them,
 * runs the passes (fresh session state, flash attention off by default as traceForward) and compares.
 */

import type { KvDType } from "../kernels/kernels.js";
import { createSession, type FlashAttention, type Session } from "../generate/session.js";
import type { Intervention } from "../model/intervention.js";
import type { Model } from "../model/model.js";
import { checkDecoder, checkHead, checkLayer, checkPosition, checkPrompt, checkTopK } from "./check.js";
import { klDivergence, softmax64, topTokens, type TokenProb } from "./distribution.js";
import { traceForward } from "./trace-forward.js";

/** Scale one query head's attention output (before Wo) or one layer's feed-forward output; scale defaults to 0 (ablation). */
export type Ablation =
  | { readonly kind: "head"; readonly layer: number; readonly head: number; readonly scale?: number }
  | { readonly kind: "mlp"; readonly layer: number; readonly scale?: number };

export interface InterventionRunOptions {
  /** Tokens listed before and after (default 10). */
  readonly topK?: number;
  readonly flashAttention?: FlashAttention;
  readonly kvType?: KvDType;
}

export interface DistributionChange {
  /** KL(before ‖ after) in nats: 0 when nothing changed. */
  readonly kl: number;
  /** Largest |after − before| over the logits. */
  readonly maxLogitChange: number;
  readonly before: readonly TokenProb[];
  readonly after: readonly TokenProb[];
  /** The probability the original top token keeps after the edit. */
  readonly topTokenProbAfter: number;
  /** (vocabSize) each, for further reading. */
  readonly logitsBefore: Float32Array;
  readonly logitsAfter: Float32Array;
}

/** Compares two next-token logit vectors (vocabSize). */
export function compareLogits(before: Float32Array, after: Float32Array, topK = 10): DistributionChange {
  checkTopK(topK);
  const p = softmax64(before), q = softmax64(after);
  let maxLogitChange = 0;
  for (let i = 0; i < before.length; i++) maxLogitChange = Math.max(maxLogitChange, Math.abs((after[i] as number) - (before[i] as number)));
  const top = topTokens(before, topK, before.length, undefined, p);
  return {
    kl: klDivergence(p, q), maxLogitChange, before: top, after: topTokens(after, topK, after.length, undefined, q),
    topTokenProbAfter: q[(top[0] as TokenProb).id] as number, logitsBefore: before, logitsAfter: after,
  };
}

function sessionFor(model: Model, n: number, opts: InterventionRunOptions): Session {
  return createSession(model, { contextLength: n, batchSize: Math.min(64, n), flashAttention: opts.flashAttention ?? "off", kvType: opts.kvType ?? "F16" });
}

/** Next-token logits (vocabSize) after `ids`, with an optional intervention; a new array. */
function nextLogits(s: Session, ids: readonly number[], iv: Intervention | undefined): Float32Array {
  s.reset();
  return s.evaluate(ids, iv !== undefined ? { intervention: iv } : {}).slice();
}

/** Runs `ids` plain and with the ablations, comparing the next-token distributions. */
export function ablate(model: Model, ids: readonly number[], ablations: Ablation | readonly Ablation[], opts: InterventionRunOptions = {}): DistributionChange {
  const c = model.config;
  checkDecoder(c, "ablate");
  checkPrompt(c, ids);
  const list: readonly Ablation[] = Array.isArray(ablations) ? ablations : [ablations as Ablation];
  const heads: Array<{ layer: number; head: number; scale: number }> = [];
  const mlp: Array<{ layer: number; scale: number }> = [];
  for (const a of list) {
    checkLayer(c, a.layer);
    if (a.kind === "head") {
      checkHead(c, a.head);
      heads.push({ layer: a.layer, head: a.head, scale: a.scale ?? 0 });
    } else {
      mlp.push({ layer: a.layer, scale: a.scale ?? 0 });
    }
  }
  const s = sessionFor(model, ids.length, opts);
  const before = nextLogits(s, ids, undefined);
  return compareLogits(before, nextLogits(s, ids, { heads, mlp }), opts.topK ?? 10);
}

export interface ResidPatchSpec {
  /** The layer after which the stream is patched. */
  readonly layer: number;
  /** The position in `ids` whose stream is replaced. */
  readonly pos: number;
  /** The second prompt, whose stream supplies the values. */
  readonly sourceIds: readonly number[];
  /** The position in sourceIds to copy from (default: `pos`). */
  readonly sourcePos?: number;
}

/** Activation patching: `ids`' stream at (layer, pos) replaced by sourceIds' at (layer, sourcePos). */
export function patchResidual(model: Model, ids: readonly number[], patch: ResidPatchSpec, opts: InterventionRunOptions = {}): DistributionChange {
  const c = model.config;
  checkDecoder(c, "patchResidual");
  checkPrompt(c, ids);
  checkPrompt(c, patch.sourceIds, "source prompt");
  checkLayer(c, patch.layer);
  checkPosition(patch.pos, ids.length);
  const from = patch.sourcePos ?? patch.pos;
  checkPosition(from, patch.sourceIds.length, "source prompt");
  const src = traceForward(model, patch.sourceIds, {
    taps: ["resid"], flashAttention: opts.flashAttention ?? "off", kvType: opts.kvType ?? "F16",
  });
  const resid = src.layers[patch.layer]?.resid as Float32Array;
  const values = resid.slice(from * c.dim, (from + 1) * c.dim);
  const s = sessionFor(model, ids.length, opts);
  const before = nextLogits(s, ids, undefined);
  return compareLogits(before, nextLogits(s, ids, { resid: [{ layer: patch.layer, pos: patch.pos, values }] }), opts.topK ?? 10);
}
