/**
 * SentencePiece Unigram (T5, ALBERT, XLNet style): the best segmentation of one already normalized and
 * pre-tokenized stretch of text is the path through the lattice of matching pieces whose scores (log
 * probabilities) add up highest, found by Viterbi in one left-to-right pass. A character no piece starts
 * with becomes the unknown token at SentencePiece's penalty (lowest score minus 10); runs of unknowns fuse
 * into one, or become <0xXX> byte pieces with byte fallback. Ties keep the first candidate found, scanning
 * start positions left to right and, per start, shorter pieces first — the order both SentencePiece's
 * optimized encoder and Hugging Face tokenizers use.
 *
 * It does not normalize, prepend "▁" or split on whitespace (the loaders' pipelines do), does not
 * sample (no subword regularization), and does not train Unigram vocabularies.
 */

import { PeelError } from "../util/errors.js";

export interface UnigramModelSpec {
  readonly pieces: readonly string[];
  /** One score per piece (log probability; higher is better). */
  readonly scores: ArrayLike<number>;
  /** The unknown token; an input character no piece covers is an error without one. */
  readonly unkId: number | undefined;
  /** Unknown characters become their UTF-8 bytes as "<0xXX>" pieces (when all of them exist). */
  readonly byteFallback?: boolean;
  /**
   * Ids never matched against text. SentencePiece models leave out their control, unknown and byte pieces
   * (and skip unused ones); a Hugging Face tokenizer.json matches every piece, so omit this there.
   */
  readonly unmatchable?: Iterable<number>;
  /**
   * The score the unknown penalty is taken from (unk score = minScore − 10). Default: the lowest score of
   * all pieces, as HF tokenizers does; SentencePiece takes the lowest over its normal pieces only.
   */
  readonly minScore?: number;
  /**
   * Keep path scores in float32 as SentencePiece's C++ encoder does (a piece's candidate is compared in
   * double before it is stored as float; the unknown's is summed in float); default float64, as HF
   * tokenizers does. Near-equal paths can come out differently in the two, so match the reference.
   */
  readonly float32?: boolean;
}

export interface UnigramModel {
  /**
   * Appends the ids of `text`'s best segmentation to `out`; with `ends`, also the end offset (UTF-16
   * units into `text`) of each id pushed (byte-fallback ids of one character share its end).
   */
  encodeWord(text: string, out: number[], ends?: number[]): void;
}

/** The unknown-token penalty SentencePiece and HF tokenizers both use. */
export const UNK_PENALTY = 10;

/**
 * A trie over UTF-16 code units. Edges live in one open-addressing hash table keyed by (node, unit), with
 * int32 keys (a Map keyed by node * 65536 + unit would hash doubles once nodes pass 32768); child 0 means
 * "no edge" (the root is never a child). `ids` holds each node's piece id, -1 for none.
 */
interface Trie {
  readonly mask: number;
  readonly keyNode: Int32Array;
  readonly keyUnit: Uint16Array;
  readonly child: Int32Array;
  readonly ids: Int32Array;
}

const slot = (node: number, unit: number, mask: number): number => (Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b)) & mask;

function buildTrie(pieces: readonly string[], skip: ReadonlySet<number>): Trie {
  let units = 0;
  for (const p of pieces) units += p.length;
  let cap = 1024;
  while (cap < units * 2) cap *= 2;
  const mask = cap - 1;
  const keyNode = new Int32Array(cap);
  const keyUnit = new Uint16Array(cap);
  const child = new Int32Array(cap);
  const ids = new Int32Array(units + 1).fill(-1);
  let count = 1;
  for (let id = 0; id < pieces.length; id++) {
    const piece = pieces[id] ?? "";
    if (piece.length === 0 || skip.has(id)) continue;
    let node = 0;
    for (let i = 0; i < piece.length; i++) {
      const unit = piece.charCodeAt(i);
      let h = slot(node, unit, mask);
      while (child[h] !== 0 && (keyNode[h] !== node || keyUnit[h] !== unit)) h = (h + 1) & mask;
      if (child[h] === 0) {
        keyNode[h] = node;
        keyUnit[h] = unit;
        child[h] = count++;
      }
      node = child[h] ?? 0;
    }
    // A piece listed twice matches as its last id, as HF's vocabulary map (filled in order) does.
    ids[node] = id;
  }
  return { mask, keyNode, keyUnit, child, ids };
}

/** The child of `node` along `unit`, or 0. */
function step(t: Trie, node: number, unit: number): number {
  for (let h = slot(node, unit, t.mask); ; h = (h + 1) & t.mask) {
    const c = t.child[h] ?? 0;
    if (c === 0 || (t.keyNode[h] === node && t.keyUnit[h] === unit)) return c;
  }
}

/** ids of "<0x00>".."<0xFF>", or undefined when any is missing. */
function byteIdTable(pieces: readonly string[]): Int32Array | undefined {
  const table = new Int32Array(256).fill(-1);
  pieces.forEach((p, id) => {
    if (p.length === 6 && p.startsWith("<0x") && p.endsWith(">")) {
      const hex = p.slice(3, 5);
      if (/^[0-9A-F]{2}$/.test(hex)) {
        const b = parseInt(hex, 16);
        if (table[b] === -1) table[b] = id;
      }
    }
  });
  return table.includes(-1) ? undefined : table;
}

function lowestScore(scores: ArrayLike<number>, count: number): number {
  let min = Infinity;
  for (let i = 0; i < count; i++) min = Math.min(min, scores[i] ?? Infinity);
  return min;
}

const encoder = new TextEncoder();

/** What encoding needs of a model, precomputed once. */
interface Compiled {
  readonly pieces: readonly string[];
  readonly trie: Trie;
  /** The root's children in a flat table: every start position looks there first. */
  readonly rootNext: Int32Array;
  readonly scoreOf: Float64Array;
  readonly unkId: number | undefined;
  readonly unkScore: number;
  readonly byteIds: Int32Array | undefined;
  readonly round: (x: number) => number;
}

/** Per position: score, start and id of the best path ending there (scratch, grown on demand). */
interface Lattice {
  best: Float64Array;
  from: Int32Array;
  via: Int32Array;
}

/** Fills the lattice for `text`, start positions left to right, shorter pieces first (tie order). */
function viterbi(m: Compiled, lat: Lattice, text: string): void {
  const n = text.length;
  if (lat.best.length <= n) {
    const size = Math.max(n + 1, lat.best.length * 2);
    lat.best = new Float64Array(size);
    lat.from = new Int32Array(size);
    lat.via = new Int32Array(size);
  }
  const { best, from, via } = lat;
  const { trie, rootNext, scoreOf, round } = m;
  from.fill(-1, 0, n + 1);
  best[0] = 0;
  const ids = trie.ids;
  for (let start = 0; start < n; ) {
    const c = text.charCodeAt(start);
    const charLen = c >= 0xd800 && c <= 0xdbff && start + 1 < n && (text.charCodeAt(start + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    const base = best[start] ?? 0;
    let single = false;
    for (let k = start, node = 0; k < n; k++) {
      const unit = text.charCodeAt(k);
      node = node === 0 ? (rootNext[unit] ?? 0) : step(trie, node, unit);
      if (node === 0) break;
      const id = ids[node] ?? -1;
      if (id < 0) continue;
      // SentencePiece compares a piece's candidate before rounding it to float (its score is a double there).
      const cand = (scoreOf[id] ?? 0) + base;
      const end = k + 1;
      if (from[end] === -1 || cand > (best[end] ?? 0)) {
        best[end] = round(cand);
        from[end] = start;
        via[end] = id;
      }
      if (end - start === charLen) single = true;
    }
    if (!single) {
      if (m.unkId === undefined) {
        throw new PeelError("TOKENIZER", `unigram: no piece covers ${JSON.stringify(text.slice(start, start + charLen))} and the vocabulary has no unknown token`);
      }
      const end = start + charLen;
      const cand = round(m.unkScore + base);
      if (from[end] === -1 || cand > (best[end] ?? 0)) {
        best[end] = cand;
        from[end] = start;
        via[end] = m.unkId;
      }
    }
    start += charLen;
  }
}

/** Pushes one token covering text[start, end): an unknown becomes its bytes under byte fallback. */
function emit(m: Compiled, text: string, start: number, end: number, id: number, out: number[], ends: number[] | undefined): void {
  // The unknown piece's own text matched literally stays the unknown token (HF finds it in its vocabulary).
  if (id !== m.unkId || m.byteIds === undefined || text.slice(start, end) === m.pieces[id]) {
    out.push(id);
    ends?.push(end);
    return;
  }
  for (let i = start; i < end; ) {
    const len = (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    for (const b of encoder.encode(text.slice(i, i + len))) {
      out.push(m.byteIds[b] ?? id);
      ends?.push(i + len);
    }
    i += len;
  }
}

export function createUnigramModel(spec: UnigramModelSpec): UnigramModel {
  const { pieces, scores, unkId } = spec;
  if (scores.length !== pieces.length) {
    throw new PeelError("TOKENIZER", `unigram: ${pieces.length} pieces but ${scores.length} scores; every piece needs a score`);
  }
  if (unkId !== undefined && (unkId < 0 || unkId >= pieces.length)) {
    throw new PeelError("TOKENIZER", `unigram: unknown-token id ${unkId} is outside the vocabulary of ${pieces.length} pieces`);
  }
  const trie = buildTrie(pieces, new Set(spec.unmatchable ?? []));
  const rootNext = new Int32Array(65536);
  for (let unit = 0; unit < 65536; unit++) rootNext[unit] = step(trie, 0, unit);
  const round = spec.float32 === true ? Math.fround : (x: number): number => x;
  const m: Compiled = {
    pieces, trie, rootNext, unkId, round,
    scoreOf: Float64Array.from({ length: pieces.length }, (_, i) => round(scores[i] ?? 0)),
    unkScore: round((spec.minScore ?? lowestScore(scores, pieces.length)) - UNK_PENALTY),
    byteIds: spec.byteFallback === true ? byteIdTable(pieces) : undefined,
  };
  const lat: Lattice = { best: new Float64Array(64), from: new Int32Array(64), via: new Int32Array(64) };
  return {
    encodeWord(text, out, ends) {
      const n = text.length;
      if (n === 0) return;
      viterbi(m, lat, text);
      // Backtrack into a stack of (end, id) pairs, then emit left to right.
      const path: number[] = [];
      for (let end = n; end > 0; end = lat.from[end] ?? 0) path.push(end, lat.via[end] ?? 0);
      for (let i = path.length - 2; i >= 0; i -= 2) {
        const id = path[i + 1] ?? 0;
        // Without byte fallback a run of unknowns is one token (it ends where the run ends).
        if (id === unkId && m.byteIds === undefined && i >= 2 && path[i - 1] === unkId) continue;
        emit(m, text, i + 2 < path.length ? (path[i + 2] ?? 0) : 0, path[i] ?? 0, id, out, ends);
      }
    },
  };
}
