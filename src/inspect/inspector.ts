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
import { traceSeq2seq } from "./trace-seq2seq.js";
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

/** What a model is: a decoder (GPT, Llama), an encoder (BERT: embeddings, no next-token head), or an encoder–decoder (T5). */
export type ModelRole = "decoder" | "encoder" | "encoder-decoder";

/** Which attention maps a trace holds: a stack's self-attention, or a T5 decoder's cross-attention over the input. */
export interface AttentionMapKind {
  readonly stack: "decoder" | "encoder";
  readonly source: "self" | "cross";
}

export interface InspectorInfo {
  readonly name: string;
  readonly source: string;
  readonly format: string;
  readonly architecture: string;
  readonly role: ModelRole;
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
  readonly role: ModelRole;
  /** The prompt's tokens (an encoder–decoder's input, which its encoder reads). */
  readonly ids: readonly number[];
  readonly tokens: readonly TokenView[];
  /** An encoder–decoder's decoder positions: its start token, then the output (forced, or its greedy answer); else null. */
  readonly decoderTokens: readonly TokenView[] | null;
  /** The attention maps this trace holds (attention() reads one), each with its layer count and whether it is causal. */
  readonly maps: ReadonlyArray<AttentionMapKind & { readonly nLayers: number; readonly causal: boolean }>;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly windows: readonly number[];
  /** The real next-token distribution after the last token (an encoder–decoder's: after the decoder's last): top entries; empty for an encoder. */
  readonly next: readonly ProbView[];
  readonly lens: {
    readonly targets: readonly TokenView[];
    /** Embeddings (layer −1) then every layer; cells per position. Empty for encoders and encoder–decoders. */
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

export interface AttentionView extends AttentionMapKind {
  readonly layer: number;
  readonly nHeads: number;
  /** Query positions (rows). */
  readonly nTokens: number;
  /** Key positions (columns): nTokens for self-attention, the input's length for cross-attention. */
  readonly nKeys: number;
  /** Whether a query sees only earlier keys (a decoder's self-attention); false: every key (encoders, cross-attention). */
  readonly causal: boolean;
  readonly window: number;
  readonly kvHeadOf: readonly number[];
  readonly summarised: boolean;
  /** Full: (nHeads, nTokens, nKeys) row = query. Summarised: (nHeads, nTokens, k) with `positions`. */
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
  /**
   * Traces `text` with every view's taps; keeps the trace for attention(). An encoder–decoder encodes `text`
   * and decodes `output` (forced), or its own greedy answer when `output` is absent.
   */
  analyze(text: string, opts?: { readonly topK?: number; readonly nextK?: number; readonly output?: string }): AnalyzeResult;
  /** One layer's map from the last analyze(); `kind` picks the stack and source (default: the first of AnalyzeResult.maps). */
  attention(layer: number, kind?: Partial<AttentionMapKind>): AttentionView;
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
  let last: { text: string; traces: { decoder?: ForwardTrace; encoder?: ForwardTrace } } | undefined;
  const role: ModelRole = c.seq2seq !== undefined ? "encoder-decoder" : c.encoder !== undefined ? "encoder" : "decoder";
  /** step, ablate and patch read a decoder's next-token distribution: refuse the others by name. */
  const needsNextToken = (what: string): void => {
    if (role !== "decoder") {
      throw new PeelError("UNSUPPORTED", `inspect: ${what} reads a decoder's next-token distribution; "${c.architecture}" is ${role === "encoder" ? "an encoder (no next-token head)" : "an encoder–decoder"}. ` +
        "Its attention maps and norms are in the attention view (analyze, then attention)");
    }
  };

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

  /**
   * The analysis every role shares: the maps a trace holds, the norms of the stack the prompt's tokens went
   * through (an encoder–decoder's encoder), and the decoder's next-token distribution where there is one.
   * The logit lens is a decoder-only model's (filled in by analyze).
   */
  const analysis = (ids: readonly number[], enc: ForwardTrace | undefined, dec: ForwardTrace | undefined, nextK: number, forwardMs: number): AnalyzeResult => {
    const main = enc ?? dec!;
    const norms = streamNorms(main);
    const maps: Array<AnalyzeResult["maps"][number]> = [];
    if (enc !== undefined) maps.push({ stack: "encoder", source: "self", nLayers: enc.layers.length, causal: false });
    if (dec !== undefined) {
      maps.push({ stack: "decoder", source: "self", nLayers: dec.layers.length, causal: true });
      if (dec.layers[0]?.crossAttention !== undefined) maps.push({ stack: "decoder", source: "cross", nLayers: dec.layers.length, causal: false });
    }
    const logits = dec?.logits ?? new Float32Array(0);
    const p = softmax64(logits);
    return {
      role, ids, tokens: ids.map(tokenView),
      decoderTokens: role === "encoder-decoder" && dec !== undefined ? dec.ids.map(tokenView) : null,
      maps,
      nLayers: main.layers.length, nHeads: c.nHeads, nKvHeads: c.nKvHeads,
      windows: main.layers.map((l) => l.window),
      next: logits.length === 0 ? [] : topTokens(logits, nextK).map((t) => probView({ id: t.id, prob: p[t.id] as number, logit: logits[t.id] as number })),
      lens: { targets: [], layers: [] },
      norms: {
        embed: list(norms.embed),
        layers: norms.layers.map((l) => ({ layer: l.layer, attnOut: list(l.attnOut), ffnOut: list(l.ffnOut), resid: list(l.resid) })),
      },
      attentionSummarised: main.layers.map((l) => l.attention?.summarised ?? false),
      forwardMs,
    };
  };

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
        role,
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
      if (role === "encoder-decoder") {
        const output = opts.output === undefined ? {} : { output: model.tokenize(opts.output, { addSpecial: false }) };
        const t = traceSeq2seq(model, ids, output);
        last = { text, traces: { encoder: t.encoder, decoder: t.decoder } };
        return analysis(ids, t.encoder, t.decoder, opts.nextK ?? 20, performance.now() - t0);
      }
      const trace = traceForward(model, ids);
      const forwardMs = performance.now() - t0;
      last = { text, traces: role === "encoder" ? { encoder: trace } : { decoder: trace } };
      if (role === "encoder") return analysis(ids, trace, undefined, 0, forwardMs);
      const lens = logitLens(model, trace, { topK: opts.topK ?? 5 });
      return {
        ...analysis(ids, undefined, trace, opts.nextK ?? 20, forwardMs),
        lens: {
          targets: lens.targets.map(tokenView),
          layers: lens.layers.map((l) => ({
            layer: l.layer,
            cells: l.cells.map((cell) => ({ top: cell.top.map(probView), targetRank: cell.targetRank, targetProb: cell.targetProb })),
          })),
        },
      };
    },

    attention(layer, kind = {}) {
      if (last === undefined) throw new PeelError("INVALID_ARGUMENT", "inspect: no prompt has been analysed yet; call analyze first");
      const stack = kind.stack ?? (role === "decoder" ? "decoder" : "encoder");
      const source = kind.source ?? "self";
      const trace = last.traces[stack];
      if (trace === undefined) throw new PeelError("INVALID_ARGUMENT", `inspect: the last trace has no ${stack} stack ("${c.architecture}" is ${role === "encoder" ? "an encoder" : "a decoder"})`);
      if (!(Number.isInteger(layer) && layer >= 0 && layer < trace.layers.length)) {
        throw new PeelError("INVALID_ARGUMENT", `inspect: layer ${layer} is outside 0..${trace.layers.length - 1} (the ${stack} has ${trace.layers.length} layers)`);
      }
      const l = trace.layers[layer]!;
      const map = source === "cross" ? l.crossAttention : l.attention;
      if (map === undefined) throw new PeelError("INVALID_ARGUMENT", `inspect: ${stack} layer ${layer} has no ${source}-attention map in the last trace`);
      return attentionView(map, stack);
    },

    step(ids, sampling, topN = 10) {
      needsNextToken("the sampler view");
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
      needsNextToken("ablation");
      return change(ablate(model, encode(text), ablations, { topK }));
    },

    patch(text, sourceText, layer, pos, sourcePos, topK = 10) {
      needsNextToken("patching");
      const spec = { layer, pos, sourceIds: encode(sourceText), ...(sourcePos === undefined ? {} : { sourcePos }) };
      return change(patchResidual(model, encode(text), spec, { topK }));
    },
  };
}

function attentionView(map: AttentionMap, stack: "decoder" | "encoder"): AttentionView {
  const base = {
    stack, source: map.source, layer: map.layer, nHeads: map.nHeads, nTokens: map.nTokens, nKeys: map.nKeys, causal: map.causal,
    window: map.window, kvHeadOf: map.kvHeadOf,
  };
  return map.kind === "full"
    ? { ...base, summarised: false, weights: Array.from(map.weights), positions: null, k: null }
    : { ...base, summarised: true, weights: Array.from(map.weights), positions: Array.from(map.positions), k: map.k };
}
