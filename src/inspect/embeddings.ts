/**
 * The token-embedding table as a space to explore: cosine neighbours of a token, a word (the mean of its
 * tokens' rows when it splits into several) or any vector; `a − b + c` analogies with the input tokens left
 * out of the answers; a 2-D PCA of chosen tokens. Rows are read through the kernels (`embedRows`
 * dequantizes any storage type), a chunk at a time, so no dequantized copy of the whole table is kept:
 * only the rows' norms, computed on first use. The raw table rows, without Gemma's √dim scale or learned
 * positions: a uniform scale does not change a cosine. Words are tokenized as given, without BOS/EOS;
 * with byte-level BPE " king" (leading space, as inside a sentence) and "king" are different tokens.
 */

import type { Model } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { checkTopK } from "./check.js";
import { pca2d, type Pca2d } from "./pca.js";

/** A token id, or a word (text) whose tokens are averaged. */
export type EmbeddingQuery = number | string;

export interface Neighbour {
  readonly id: number;
  /** The token's text (control tokens included). */
  readonly text: string;
  /** Cosine similarity to the query vector, in [−1, 1]. */
  readonly similarity: number;
}

export interface NeighbourOptions {
  /** How many neighbours (default 10). */
  readonly k?: number;
  /** Token ids never returned. */
  readonly exclude?: readonly number[];
}

export interface Analogy {
  /** (dim) unit(a) − unit(b) + unit(c). */
  readonly vector: Float32Array;
  /** The tokens of a, b and c, left out of `neighbours`. */
  readonly excluded: readonly number[];
  readonly neighbours: readonly Neighbour[];
}

export interface EmbeddingProjection {
  readonly labels: readonly string[];
  readonly pca: Pca2d;
}

export interface EmbeddingSpace {
  readonly vocabSize: number;
  readonly dim: number;
  /** The tokens of `word` (no BOS/EOS); INVALID_ARGUMENT for an empty or unknown word. */
  tokensOf(word: string): number[];
  /** (dim) the query's row, or the mean of its tokens' rows. */
  vector(query: EmbeddingQuery): Float32Array;
  neighbours(query: EmbeddingQuery | Float32Array, opts?: NeighbourOptions): Neighbour[];
  /** Tokens nearest a − b + c (each term a unit vector first), the tokens of a, b and c excluded. */
  analogy(a: EmbeddingQuery, b: EmbeddingQuery, c: EmbeddingQuery, opts?: { readonly k?: number }): Analogy;
  /** 2-D PCA of the queries' vectors. */
  project(queries: readonly EmbeddingQuery[]): EmbeddingProjection;
}

/** Rows dequantized per kernels call while scanning the table. */
const CHUNK = 256;

export interface EmbeddingSpaceOptions {
  /**
   * How a word becomes tokens. "as-typed" (default): the word's own tokenization. "in-sentence": the tokens
   * it gets after another word ("a girl" minus "a"), i.e. with the leading space that byte-level BPE (Ġgirl)
   * and SentencePiece (▁girl) vocabularies store for words inside a sentence, without the caller knowing
   * which kind of vocabulary it is. Falls back to as-typed where the two tokenizations do not share a prefix.
   */
  readonly words?: "as-typed" | "in-sentence";
}

/** The tokens `word` gets after "a " in a sentence, or undefined when "a" merges with it. */
function sentenceTokens(model: Model, word: string): number[] | undefined {
  const lead = model.tokenize("a", { addSpecial: false });
  const both = model.tokenize(`a ${word.replace(/^ +/, "")}`, { addSpecial: false });
  if (both.length <= lead.length || lead.some((id, i) => both[i] !== id)) return undefined;
  return both.slice(lead.length);
}

export function createEmbeddingSpace(model: Model, opts: EmbeddingSpaceOptions = {}): EmbeddingSpace {
  const { config: c, kernels: k, weights } = model.transformer;
  const table = weights.tokenEmbd; // (vocabSize, dim)
  const dim = c.dim, vocabSize = c.vocabSize;
  const ids = new Int32Array(CHUNK);
  const rows = new Float32Array(CHUNK * dim);
  let norms: Float32Array | undefined;

  /** Calls fn(id, row) for every row of the table, a chunk at a time. */
  const scan = (fn: (id: number, row: Float32Array) => void) => {
    for (let first = 0; first < vocabSize; first += CHUNK) {
      const n = Math.min(CHUNK, vocabSize - first);
      for (let i = 0; i < n; i++) ids[i] = first + i;
      k.embedRows(rows, table, ids, n);
      for (let i = 0; i < n; i++) fn(first + i, rows.subarray(i * dim, (i + 1) * dim));
    }
  };
  const rowNorms = (): Float32Array => {
    if (norms === undefined) {
      const out = new Float32Array(vocabSize);
      scan((id, row) => { out[id] = Math.sqrt(dot(row, row)); });
      norms = out;
    }
    return norms;
  };

  const tokensOf = (word: string): number[] => {
    if (word.trim() === "") throw new PeelError("INVALID_ARGUMENT", `embeddings: the word ${JSON.stringify(word)} is empty`);
    const toks = (opts.words === "in-sentence" ? sentenceTokens(model, word) : undefined) ?? model.tokenize(word, { addSpecial: false });
    // an unknown token (e.g. SentencePiece's <unk>) decodes to nothing when special tokens are skipped
    if (toks.length === 0 || toks.some((id) => model.tokenizer.decode([id]) === "")) {
      throw new PeelError("INVALID_ARGUMENT", `embeddings: unknown word ${JSON.stringify(word)}: the tokenizer has no tokens for it`);
    }
    return toks;
  };
  const idsOf = (q: EmbeddingQuery): number[] => {
    if (typeof q === "string") return tokensOf(q);
    if (!(Number.isInteger(q) && q >= 0 && q < vocabSize)) {
      throw new PeelError("INVALID_ARGUMENT", `embeddings: token id ${q} is outside the vocabulary (0..${vocabSize - 1})`);
    }
    return [q];
  };
  const vector = (q: EmbeddingQuery): Float32Array => {
    const toks = idsOf(q);
    const buf = new Float32Array(toks.length * dim);
    k.embedRows(buf, table, toks, toks.length);
    const out = new Float32Array(dim);
    for (let t = 0; t < toks.length; t++) for (let i = 0; i < dim; i++) out[i] = (out[i] as number) + (buf[t * dim + i] as number) / toks.length;
    return out;
  };

  const neighbours = (query: EmbeddingQuery | Float32Array, opts: NeighbourOptions = {}): Neighbour[] => {
    const want = opts.k ?? 10;
    checkTopK(want, "k");
    const v = query instanceof Float32Array ? query : vector(query);
    if (v.length !== dim) throw new PeelError("INVALID_ARGUMENT", `embeddings: a query vector needs ${dim} values (dim), got ${v.length}`);
    const vNorm = Math.sqrt(dot(v, v));
    const skip = new Set(opts.exclude ?? []);
    const rn = rowNorms();
    const best: Array<{ id: number; similarity: number }> = []; // best first; k is small
    scan((id, row) => {
      if (skip.has(id)) return;
      const d = (rn[id] as number) * vNorm;
      const sim = d > 0 ? dot(v, row) / d : 0;
      if (best.length === want && sim <= (best[want - 1] as { similarity: number }).similarity) return;
      let j = best.length === want ? want - 1 : best.length;
      if (best.length === want) best.pop();
      while (j > 0 && sim > (best[j - 1] as { similarity: number }).similarity) j--;
      best.splice(j, 0, { id, similarity: sim });
    });
    return best.map((b) => ({ ...b, text: model.tokenizer.decode([b.id], { skipSpecial: false }) }));
  };

  return {
    vocabSize, dim, tokensOf, vector, neighbours,
    analogy(a, b, c2, opts = {}) {
      const [va, vb, vc] = [unit(vector(a)), unit(vector(b)), unit(vector(c2))];
      const out = new Float32Array(dim);
      for (let i = 0; i < dim; i++) out[i] = (va[i] as number) - (vb[i] as number) + (vc[i] as number);
      const excluded = [...new Set([a, b, c2].flatMap(idsOf))];
      return { vector: out, excluded, neighbours: neighbours(out, { k: opts.k ?? 10, exclude: excluded }) };
    },
    project(queries) {
      if (queries.length < 2) throw new PeelError("INVALID_ARGUMENT", `embeddings: a projection needs at least 2 tokens or words, got ${queries.length}`);
      const pts = new Float32Array(queries.length * dim);
      queries.forEach((q, i) => pts.set(vector(q), i * dim));
      const labels = queries.map((q) => (typeof q === "string" ? q : model.tokenizer.decode([q], { skipSpecial: false })));
      return { labels, pca: pca2d(pts, queries.length, dim) };
    },
  };
}

function unit(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}
