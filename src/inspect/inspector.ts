/**
 * The inspector as one object over a loaded model: every view of the web app (web/) is one call here, and
 * every result is plain JSON (numbers, strings, arrays), so the same object answers in a Worker (the static
 * app) and behind HTTP (`peel inspect`). It keeps the last traced prompt, so that switching layers in the
 * attention view or reading the lens does not rerun the model. It computes through the inspect/ functions
 * only; it draws nothing, and the UI computes nothing of its own.
 */

import type { Model } from "../model/model.js";
import { architectureChoices } from "../model/choices.js";
import { kvCacheBytes } from "../model/kv-cache.js";
import type { SamplingOptions } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import { type AttentionMap } from "./attention-map.js";
import { checkLayer } from "./check.js";
import { softmax64, topTokens } from "./distribution.js";
import { createEmbeddingSpace, type EmbeddingQuery, type EmbeddingSpace, type EmbeddingSpaceOptions } from "./embeddings.js";

type EmbeddingWords = NonNullable<EmbeddingSpaceOptions["words"]>;
import { ablate, patchResidual, type Ablation, type DistributionChange } from "./interventions.js";
import { logitLens } from "./logit-lens.js";
import { samplerSteps } from "./sampler-steps.js";
import { streamNorms } from "./stream-norms.js";
import { traceForward, type ForwardTrace } from "./trace-forward.js";
import { parameterGroups, type ParameterGroup } from "./parameters.js";
import { createTokenizerShelf, mergeRows, type MergeRows, type TokenizerLibrary } from "./tokenizer-shelf.js";
import type { Tokenizer } from "../tokenizer/types.js";

/** A token with its text, as every view lists them. */
export interface TokenView {
  readonly id: number;
  /** The decoded text (control tokens as their text). */
  readonly text: string;
  /** The raw vocabulary string (Ġ, ▁ and byte pieces as the vocabulary writes them). */
  readonly piece: string;
}

export interface ProbView extends TokenView {
  readonly prob: number;
  readonly logit?: number;
}

export interface InspectorInfo {
  readonly name: string;
  readonly source: string;
  readonly format: string;
  readonly architecture: string;
  readonly role: "decoder" | "encoder";
  readonly hyperparameters: Readonly<Record<string, number | string | boolean>>;
  /** (choice, value) rows in the seeds' words, as `peel info` prints them. */
  readonly choices: ReadonlyArray<readonly [string, string]>;
  readonly parameters: readonly ParameterGroup[];
  readonly totalParameters: number;
  readonly weightBytes: number;
  /** F16 KV cache at the full context (window-bounded where layers slide). */
  readonly kvCacheBytes: number;
  /** Per layer: its sliding window, 0 for full attention. */
  readonly windows: readonly number[];
  readonly tokenizer: { readonly kind: string; readonly vocabSize: number; readonly bosId: number | null; readonly eosId: number | null };
}

export interface TokenizeResult {
  readonly ids: readonly number[];
  readonly tokens: readonly TokenView[];
  /** [start, end) in UTF-16 units of the text, per token. */
  readonly offsets: ReadonlyArray<readonly [number, number]>;
  readonly count: number;
}

export interface LensCellView {
  readonly top: readonly ProbView[];
  readonly targetRank: number;
  readonly targetProb: number;
}

export interface AnalyzeResult {
  readonly ids: readonly number[];
  readonly tokens: readonly TokenView[];
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly windows: readonly number[];
  /** The real next-token distribution after the last token: top entries. */
  readonly next: readonly ProbView[];
  readonly lens: {
    readonly targets: readonly TokenView[];
    /** Embeddings (layer −1) then every layer; cells per position. */
    readonly layers: ReadonlyArray<{ readonly layer: number; readonly cells: readonly LensCellView[] }>;
  };
  readonly norms: {
    readonly embed: readonly number[] | null;
    readonly layers: ReadonlyArray<{ readonly layer: number; readonly attnOut: readonly number[] | null; readonly ffnOut: readonly number[] | null; readonly resid: readonly number[] | null }>;
  };
  /** Per layer, true when its attention map was summarised to each row's top keys (too large to keep). */
  readonly attentionSummarised: readonly boolean[];
  readonly forwardMs: number;
}

export interface AttentionView {
  readonly layer: number;
  readonly nHeads: number;
  readonly nTokens: number;
  readonly window: number;
  readonly kvHeadOf: readonly number[];
  readonly summarised: boolean;
  /** Full: (nHeads, nTokens, nTokens) row = query. Summarised: (nHeads, nTokens, k) with `positions`. */
  readonly weights: readonly number[];
  readonly positions: readonly number[] | null;
  readonly k: number | null;
}

export interface InspectStep {
  readonly next: readonly ProbView[];
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly before: { readonly size: number; readonly top: readonly ProbView[] }; readonly after: { readonly size: number; readonly top: readonly ProbView[] } }>;
  readonly chosen: TokenView;
  readonly endOfGeneration: boolean;
}

export interface ChangeView {
  readonly kl: number;
  readonly maxLogitChange: number;
  readonly before: readonly ProbView[];
  readonly after: readonly ProbView[];
  readonly topTokenProbAfter: number;
}

export interface Inspector {
  readonly model: Model;
  info(): InspectorInfo;
  /** Tokens of `text` by the model's tokenizer, or by another loaded one (see tokenizers()). */
  tokenize(text: string, addSpecial?: boolean, tokenizer?: string): TokenizeResult;
  /** Merge-ranked BPE, merge by merge (supported: false for other algorithms). */
  mergeTrace(text: string, tokenizer?: string): MergeRows;
  tokenizers(): { readonly loaded: readonly string[]; readonly available: readonly string[] };
  loadTokenizer(name: string): Promise<{ readonly loaded: readonly string[]; readonly available: readonly string[] }>;
  addTokenizer(name: string, tokenizer: Tokenizer): void;
  /** Traces `text` with every view's taps; keeps the trace for attention(). */
  analyze(text: string, opts?: { readonly topK?: number; readonly nextK?: number }): AnalyzeResult;
  /** One layer's map from the last analyze(). */
  attention(layer: number): AttentionView;
  /** The next-token distribution after `ids` and what each sampler stage does to it. */
  step(ids: readonly number[], sampling: SamplingOptions, topN?: number): InspectStep;
  /** Words are read "in-sentence" by default (see EmbeddingSpaceOptions). */
  neighbours(query: EmbeddingQuery, k?: number, words?: EmbeddingWords): ProbLike[];
  analogy(a: EmbeddingQuery, b: EmbeddingQuery, c: EmbeddingQuery, k?: number, words?: EmbeddingWords): { readonly excluded: readonly TokenView[]; readonly neighbours: ProbLike[] };
  project(queries: readonly EmbeddingQuery[], words?: EmbeddingWords): { readonly labels: readonly string[]; readonly points: ReadonlyArray<readonly [number, number]>; readonly variance: readonly [number, number] };
  ablate(text: string, ablations: readonly Ablation[], topK?: number): ChangeView;
  patch(text: string, sourceText: string, layer: number, pos: number, sourcePos?: number, topK?: number): ChangeView;
}

/** A neighbour: a token and its cosine similarity. */
export interface ProbLike extends TokenView {
  readonly similarity: number;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

export interface InspectorOptions {
  /** Tokenizers the playground may load by name, beside the model's own. */
  readonly tokenizerLibrary?: TokenizerLibrary;
}

export function createInspector(model: Model, opts: InspectorOptions = {}): Inspector {
  const c = model.config;
  const tok = model.tokenizer;
  const shelf = createTokenizerShelf(tok, opts.tokenizerLibrary);
  const spaces = new Map<EmbeddingWords, EmbeddingSpace>();
  let last: { text: string; trace: ForwardTrace } | undefined;

  const viewIn = (t: Tokenizer) => (id: number): TokenView => ({ id, text: decoder.decode(t.tokenBytes(id)), piece: t.piece(id) });
  const tokenView = viewIn(tok);
  const probView = (t: { id: number; prob: number; logit?: number }): ProbView => ({ ...tokenView(t.id), prob: t.prob, ...(t.logit === undefined ? {} : { logit: t.logit }) });
  const encode = (text: string): number[] => {
    if (typeof text !== "string" || text.length === 0) throw new PeelError("INVALID_ARGUMENT", "inspect: the text is empty; type a prompt");
    return model.tokenize(text);
  };
  const embeddings = (words: EmbeddingWords = "in-sentence"): EmbeddingSpace => {
    let s = spaces.get(words);
    if (s === undefined) spaces.set(words, (s = createEmbeddingSpace(model, { words })));
    return s;
  };
  const change = (d: DistributionChange): ChangeView => ({
    kl: d.kl, maxLogitChange: d.maxLogitChange, before: d.before.map(probView), after: d.after.map(probView), topTokenProbAfter: d.topTokenProbAfter,
  });
  const list = (a: Float32Array | undefined): number[] | null => (a === undefined ? null : Array.from(a));

  return {
    model,
    info() {
      const groups = parameterGroups(model);
      const weightBytes = model.info.tensors.reduce((s, t) => s + t.bytes, 0);
      const hyper: Record<string, number | string | boolean> = {};
      for (const [key, v] of Object.entries(c)) if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") hyper[key] = v;
      return {
        name: model.info.name ?? model.info.source,
        source: model.info.source,
        format: model.info.format,
        architecture: c.architecture,
        role: c.encoder === undefined ? "decoder" : "encoder",
        hyperparameters: hyper,
        choices: architectureChoices(c),
        parameters: groups,
        totalParameters: groups.reduce((s, g) => s + g.count, 0),
        weightBytes,
        kvCacheBytes: kvCacheBytes(c, c.contextLength, "F16", 64).bytes,
        windows: c.layerWindows,
        tokenizer: { kind: tok.kind, vocabSize: tok.vocabSize, bosId: tok.bosId ?? null, eosId: tok.eosId ?? null },
      };
    },

    tokenize(text, addSpecial = true, tokenizer) {
      const t = shelf.get(tokenizer);
      const enc = t.encodeWithOffsets(text, { addSpecial });
      return { ids: enc.ids, tokens: enc.ids.map(viewIn(t)), offsets: enc.offsets, count: enc.ids.length };
    },
    mergeTrace: (text, tokenizer) => mergeRows(shelf.get(tokenizer), text),
    tokenizers: () => shelf.list(),
    async loadTokenizer(name) {
      await shelf.load(name);
      return shelf.list();
    },
    addTokenizer: (name, t) => shelf.add(name, t),

    analyze(text, opts = {}) {
      const ids = encode(text);
      const t0 = performance.now();
      const trace = traceForward(model, ids);
      const forwardMs = performance.now() - t0;
      last = { text, trace };
      const lens = logitLens(model, trace, { topK: opts.topK ?? 5 });
      const norms = streamNorms(trace);
      const p = softmax64(trace.logits);
      return {
        ids,
        tokens: ids.map(tokenView),
        nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads,
        windows: trace.layers.map((l) => l.window),
        next: topTokens(trace.logits, opts.nextK ?? 20).map((t) => probView({ id: t.id, prob: p[t.id] as number, logit: trace.logits[t.id] as number })),
        lens: {
          targets: lens.targets.map(tokenView),
          layers: lens.layers.map((l) => ({
            layer: l.layer,
            cells: l.cells.map((cell) => ({ top: cell.top.map(probView), targetRank: cell.targetRank, targetProb: cell.targetProb })),
          })),
        },
        norms: {
          embed: list(norms.embed),
          layers: norms.layers.map((l) => ({ layer: l.layer, attnOut: list(l.attnOut), ffnOut: list(l.ffnOut), resid: list(l.resid) })),
        },
        attentionSummarised: trace.layers.map((l) => l.attention?.summarised ?? false),
        forwardMs,
      };
    },

    attention(layer) {
      if (last === undefined) throw new PeelError("INVALID_ARGUMENT", "inspect: no prompt has been analysed yet; call analyze first");
      checkLayer(c, layer);
      const map = last.trace.layers[layer]?.attention;
      if (map === undefined) throw new PeelError("INVALID_ARGUMENT", `inspect: layer ${layer} has no attention map in the last trace`);
      return attentionView(map);
    },

    step(ids, sampling, topN = 10) {
      const trace = traceForward(model, ids, { taps: [] });
      const steps = samplerSteps(trace.logits, sampling, topN);
      const p = softmax64(trace.logits);
      const stageView = (v: { size: number; top: readonly { id: number; prob: number }[] }) => ({ size: v.size, top: v.top.map(probView) });
      return {
        next: topTokens(trace.logits, topN).map((t) => probView({ id: t.id, prob: p[t.id] as number, logit: trace.logits[t.id] as number })),
        stages: steps.stages.map((s) => ({ stage: s.stage, before: stageView(s.before), after: stageView(s.after) })),
        chosen: tokenView(steps.chosen),
        endOfGeneration: tok.isEndOfGeneration(steps.chosen),
      };
    },

    neighbours(query, k = 10, words) {
      return embeddings(words).neighbours(query, { k }).map((n) => ({ ...tokenView(n.id), similarity: n.similarity }));
    },

    analogy(a, b, cc, k = 10, words) {
      const r = embeddings(words).analogy(a, b, cc, { k });
      return { excluded: r.excluded.map(tokenView), neighbours: r.neighbours.map((n) => ({ ...tokenView(n.id), similarity: n.similarity })) };
    },

    project(queries, words) {
      const r = embeddings(words).project(queries);
      const pts: Array<[number, number]> = [];
      for (let i = 0; i < r.labels.length; i++) pts.push([r.pca.coords[2 * i] as number, r.pca.coords[2 * i + 1] as number]);
      return { labels: r.labels, points: pts, variance: r.pca.variance };
    },

    ablate(text, ablations, topK = 10) {
      return change(ablate(model, encode(text), ablations, { topK }));
    },

    patch(text, sourceText, layer, pos, sourcePos, topK = 10) {
      const spec = { layer, pos, sourceIds: encode(sourceText), ...(sourcePos === undefined ? {} : { sourcePos }) };
      return change(patchResidual(model, encode(text), spec, { topK }));
    },
  };
}

function attentionView(map: AttentionMap): AttentionView {
  const base = { layer: map.layer, nHeads: map.nHeads, nTokens: map.nTokens, window: map.window, kvHeadOf: map.kvHeadOf };
  return map.kind === "full"
    ? { ...base, summarised: false, weights: Array.from(map.weights), positions: null, k: null }
    : { ...base, summarised: true, weights: Array.from(map.weights), positions: Array.from(map.positions), k: map.k };
}
