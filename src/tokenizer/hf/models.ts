/**
 * The `model` section of tokenizer.json, parsed into a word model over the shared algorithms: BPE (merge
 * ranks through bpe.ts' merger; symbols are the word's code points, or byte tokens with byte_fallback, or
 * the unknown token, fused as HF does), WordPiece (greedy longest match with a continuation prefix),
 * WordLevel, and Unigram (unigram.ts). A model turns one pre-tokenized word into ids and, when asked, the
 * [start, end) units of the word each id covers. Normalizing, splitting and added tokens are elsewhere.
 */

import { PeelError } from "../../util/errors.js";
import { addMerge, createBpeMerger, createByteLevelWordEncoder, createMerges } from "../bpe.js";
import { createMarkCutter, type TextCutter } from "../pretokenize.js";
import { createUnigramModel } from "../unigram.js";
import { byteToUnicode, utf8Encode } from "../utf8.js";
import { arr, bool, int, num, obj, opt, str, typeOf, type JsonObject } from "./json.js";

export interface WordModel {
  /** Token text by id (holes are undefined). */
  readonly pieces: readonly (string | undefined)[];
  readonly idOf: ReadonlyMap<string, number>;
  readonly unkId: number | undefined;
  /** Appends the ids of `word`; with `spans`, also [start, end) pairs in units of `word`. */
  tokenize(word: string, ids: number[], spans: number[] | undefined): void;
  /**
   * Present when the model is a BPE over GPT-2's byte alphabet (all 256 byte characters are pieces, no
   * continuation prefix or word suffix): appends the ids of a word given in raw text, the same ids that
   * `tokenize` gives for its byte-alphabet form.
   */
  readonly tokenizeByteLevel?: (word: string, ids: number[]) => void;
}

const TYPES = ["BPE", "WordPiece", "WordLevel", "Unigram"] as const;

export function parseModel(v: unknown): WordModel {
  if (v === undefined || v === null) throw new PeelError("TOKENIZER", "tokenizer.json: the \"model\" section is missing; a tokenizer needs its model (BPE, WordPiece, WordLevel or Unigram)");
  const o = obj(v, "model");
  // Old files leave out model.type for BPE; HF infers it from the fields present.
  const type = o["type"] === undefined ? (o["merges"] !== undefined ? "BPE" : o["unk_id"] !== undefined ? "Unigram" : "WordPiece") : typeOf(o, "model", "model", TYPES);
  switch (type) {
    case "BPE": return bpeModel(o);
    case "WordPiece": return wordPieceModel(o);
    case "WordLevel": return wordLevelModel(o);
    case "Unigram": return unigramModel(o);
  }
}

/** A `{ token: id }` vocabulary: pieces by id, ids unique. */
function readVocab(v: unknown, path: string): { pieces: (string | undefined)[]; idOf: Map<string, number> } {
  const o = obj(v, path);
  const idOf = new Map<string, number>();
  const pieces: (string | undefined)[] = [];
  for (const [token, idv] of Object.entries(o)) {
    const id = int(idv, `${path}[${JSON.stringify(token)}]`);
    const other = pieces[id];
    if (other !== undefined) {
      throw new PeelError("TOKENIZER", `tokenizer.json: ${path} gives id ${id} to both ${JSON.stringify(other)} and ${JSON.stringify(token)}; every token needs its own id`);
    }
    pieces[id] = token;
    idOf.set(token, id);
  }
  return { pieces, idOf };
}

function unkOf(o: JsonObject, idOf: ReadonlyMap<string, number>, path: string): number | undefined {
  const unk = opt(o["unk_token"], undefined, (x, p) => str(x, p), `${path}.unk_token`);
  if (unk === undefined) return undefined;
  const id = idOf.get(unk);
  if (id === undefined) throw new PeelError("TOKENIZER", `tokenizer.json: ${path}.unk_token ${JSON.stringify(unk)} is not in the vocabulary`);
  return id;
}

function readMerge(m: unknown, i: number): [string, string] {
  if (typeof m === "string") {
    const sp = m.indexOf(" ", 1);
    if (sp < 0) throw new PeelError("TOKENIZER", `tokenizer.json: model.merges[${i}] ${JSON.stringify(m)} has no space between its two halves; expected "left right" or ["left", "right"]`);
    return [m.slice(0, sp), m.slice(sp + 1)];
  }
  const pair = arr(m, `model.merges[${i}]`);
  if (pair.length !== 2) throw new PeelError("TOKENIZER", `tokenizer.json: model.merges[${i}] should be a pair of tokens, found ${pair.length} entries`);
  return [str(pair[0], `model.merges[${i}][0]`), str(pair[1], `model.merges[${i}][1]`)];
}

function bpeModel(o: JsonObject): WordModel {
  const dropout = o["dropout"];
  if (dropout !== undefined && dropout !== null && num(dropout, "model.dropout") !== 0) {
    throw new PeelError("UNSUPPORTED", `tokenizer.json: BPE dropout ${String(dropout)} is not supported (Peel's BPE is deterministic); only null or 0`);
  }
  const { pieces, idOf } = readVocab(o["vocab"], "model.vocab");
  const unkId = unkOf(o, idOf, "model");
  const prefix = opt(o["continuing_subword_prefix"], "", str, "model.continuing_subword_prefix");
  const suffix = opt(o["end_of_word_suffix"], "", str, "model.end_of_word_suffix");
  const fuseUnk = opt(o["fuse_unk"], false, bool, "model.fuse_unk");
  const byteFallback = opt(o["byte_fallback"], false, bool, "model.byte_fallback");
  const ignoreMerges = opt(o["ignore_merges"], false, bool, "model.ignore_merges");
  const list = arr(o["merges"] ?? [], "model.merges");
  const table = createMerges(list.length, list.length);
  const mergedTexts: string[] = [];
  // HF keeps the last of duplicate merges (a map filled in order): add from the end, first insert wins.
  for (let i = list.length - 1; i >= 0; i--) {
    const [a, b] = readMerge(list[i], i);
    const l = idOf.get(a);
    const r = idOf.get(b);
    const merged = idOf.get(a + b.slice(b.startsWith(prefix) ? prefix.length : 0));
    if (l === undefined || r === undefined || merged === undefined) {
      const missing = l === undefined ? a : r === undefined ? b : a + b;
      throw new PeelError("TOKENIZER", `tokenizer.json: model.merges[${i}] ${JSON.stringify(`${a} ${b}`)} refers to ${JSON.stringify(missing)}, which is not in the vocabulary; the merges do not belong to these tokens`);
    }
    addMerge(table, l, r, i, merged);
    mergedTexts.push(a + b);
  }
  const cutter = longWordCutter(idOf, unkId, pieces, mergedTexts, prefix === "" && suffix === "" && !ignoreMerges);
  const merge = createBpeMerger(table);
  const byteLevel = prefix === "" && suffix === "" && byteToUnicode().every((ch) => idOf.has(ch))
    ? createByteLevelWordEncoder(idOf, table, ignoreMerges) : undefined;
  const byteIds = new Int32Array(256).fill(-1);
  if (byteFallback) for (let b = 0; b < 256; b++) byteIds[b] = idOf.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? -1;
  let sym = new Int32Array(64);
  const cache = new Map<string, Int32Array>();

  /** Initial symbols of a word; `lens` gets each symbol's length in word units (0 for all but the last byte of a char). */
  const symbolize = (word: string, lens: number[] | undefined): number => {
    if (sym.length < word.length * 4) sym = new Int32Array(word.length * 4);
    let n = 0;
    let unkLen = 0;
    const flushUnk = (): void => {
      if (unkLen === 0) return;
      sym[n++] = unkId as number;
      lens?.push(unkLen);
      unkLen = 0;
    };
    for (let i = 0; i < word.length; ) {
      const c = word.charCodeAt(i);
      const len = c >= 0xd800 && c <= 0xdbff && i + 1 < word.length ? 2 : 1;
      const ch = word.slice(i, i + len);
      const s = (i > 0 ? prefix + ch : ch) + (i + len === word.length ? suffix : "");
      i += len;
      const id = idOf.get(s);
      if (id !== undefined) { flushUnk(); sym[n++] = id; lens?.push(len); continue; }
      if (byteFallback) {
        const bytes = utf8Encode(s);
        if (bytes.every((b) => (byteIds[b] as number) >= 0)) {
          flushUnk();
          bytes.forEach((b, k) => { sym[n++] = byteIds[b] as number; lens?.push(k === bytes.length - 1 ? len : 0); });
          continue;
        }
      }
      if (unkId === undefined) continue; // HF drops a character it cannot represent
      if (!fuseUnk) flushUnk();
      unkLen += len;
    }
    flushUnk();
    return n;
  };

  const cached = (word: string): Int32Array => {
    let got = cache.get(word);
    if (got === undefined) {
      got = compute(word);
      if (word.length <= LONG_WORD) {
        if (cache.size >= 1 << 16) cache.clear();
        cache.set(word, got);
      }
    }
    return got;
  };
  const compute = (word: string): Int32Array => {
    if (ignoreMerges) {
      const whole = idOf.get(word);
      if (whole !== undefined) return Int32Array.of(whole);
    }
    const count = symbolize(word, undefined); // may grow `sym`: read it after
    return sym.slice(0, merge(sym, count));
  };

  return {
    pieces, idOf, unkId,
    ...(byteLevel ? { tokenizeByteLevel: (word: string, ids: number[]) => byteLevel.encodeWord(word, ids) } : {}),
    tokenize(word, ids, spans) {
      if (spans || !cutter || word.length <= LONG_WORD) {
        const got = cached(word);
        for (let i = 0; i < got.length; i++) ids.push(got[i] as number);
        if (spans) bpeSpans(word, got, spans, { pieces, prefix, symbolize, sym: () => sym });
        return;
      }
      cutter(word, (part) => {
        const got = cached(part);
        for (let i = 0; i < got.length; i++) ids.push(got[i] as number);
      });
    },
  };
}

const LONG_WORD = 64;

/**
 * A SentencePiece-style BPE sees a whole normalized text as one word: cutting it before each ▁ (see
 * createMarkCutter) lets the word cache work. Only without a continuation prefix, word suffix or
 * ignore_merges (those look at word boundaries), with ▁ a piece, and when no merge that spans a cut holds
 * byte-fallback or unknown pieces (their text is not the text they cover).
 */
function longWordCutter(idOf: ReadonlyMap<string, number>, unkId: number | undefined, pieces: readonly (string | undefined)[], mergedTexts: readonly string[], plain: boolean): TextCutter | undefined {
  const mark = "\u2581";
  const unk = unkId === undefined ? undefined : pieces[unkId];
  if (!plain || !idOf.has(mark) || unk?.endsWith(mark)) return undefined;
  return createMarkCutter(mergedTexts, mark, (p) => p.includes("<0x") || (unk !== undefined && unk.length > 0 && p.includes(unk)));
}

/**
 * Word units covered by each merged token: merged tokens are runs of the initial symbols, and a run's text
 * (pieces concatenated, the continuation prefix dropped from all but its first) is its token's text, so
 * runs are found by length. A token made only of leading bytes of a character spans the whole character.
 */
function bpeSpans(word: string, got: Int32Array, spans: number[], m: BpeParts): void {
  if (got.length === 1) { spans.push(0, word.length); return; }
  const lens: number[] = [];
  const n = m.symbolize(word, lens);
  const init = m.sym().slice(0, n);
  let k = 0;
  let pos = 0;
  for (let t = 0; t < got.length; t++) {
    const target = (m.pieces[got[t] as number] ?? "").length;
    const start = pos;
    let acc = 0;
    for (let count = 0; k < n && (count === 0 || acc < target); count++, k++) {
      acc += (m.pieces[init[k] as number] ?? "").length - (count > 0 ? m.prefix.length : 0);
      pos += lens[k] as number;
    }
    let end = pos;
    if (end === start) { let j = k; while (j < n && lens[j] === 0) j++; end = start + (lens[j] ?? 0); }
    spans.push(start, end);
  }
}

interface BpeParts {
  readonly pieces: readonly (string | undefined)[];
  readonly prefix: string;
  symbolize(word: string, lens: number[] | undefined): number;
  sym(): Int32Array;
}

function wordPieceModel(o: JsonObject): WordModel {
  const { pieces, idOf } = readVocab(o["vocab"], "model.vocab");
  const unkId = unkOf(o, idOf, "model");
  if (unkId === undefined) throw new PeelError("TOKENIZER", "tokenizer.json: a WordPiece model needs model.unk_token");
  const prefix = opt(o["continuing_subword_prefix"], "##", str, "model.continuing_subword_prefix");
  const maxChars = opt(o["max_input_chars_per_word"], 100, int, "model.max_input_chars_per_word");
  return {
    pieces, idOf, unkId,
    tokenize(word, ids, spans) {
      if ([...word].length > maxChars) { ids.push(unkId); spans?.push(0, word.length); return; }
      const mark = ids.length;
      const spanMark = spans?.length ?? 0;
      for (let start = 0; start < word.length; ) {
        let end = word.length;
        let found = -1;
        while (start < end) {
          const sub = start > 0 ? prefix + word.slice(start, end) : word.slice(start, end);
          const id = idOf.get(sub);
          if (id !== undefined) { found = id; break; }
          const c = word.charCodeAt(end - 1);
          end -= c >= 0xdc00 && c <= 0xdfff && end - 2 >= start ? 2 : 1;
        }
        if (found < 0) {
          ids.length = mark;
          if (spans) spans.length = spanMark;
          ids.push(unkId);
          spans?.push(0, word.length);
          return;
        }
        ids.push(found);
        spans?.push(start, end);
        start = end;
      }
    },
  };
}

function wordLevelModel(o: JsonObject): WordModel {
  const { pieces, idOf } = readVocab(o["vocab"], "model.vocab");
  const unkId = unkOf(o, idOf, "model");
  return {
    pieces, idOf, unkId,
    tokenize(word, ids, spans) {
      const id = idOf.get(word) ?? unkId;
      if (id === undefined) throw new PeelError("TOKENIZER", `tokenizer.json: WordLevel has no token ${JSON.stringify(word)} and no unk_token`);
      ids.push(id);
      spans?.push(0, word.length);
    },
  };
}

function unigramModel(o: JsonObject): WordModel {
  const list = arr(o["vocab"], "model.vocab");
  const pieces: string[] = [];
  const scores = new Float64Array(list.length);
  const idOf = new Map<string, number>();
  list.forEach((entry, i) => {
    const pair = arr(entry, `model.vocab[${i}]`);
    const piece = str(pair[0], `model.vocab[${i}][0]`);
    if (idOf.has(piece)) throw new PeelError("TOKENIZER", `tokenizer.json: model.vocab lists ${JSON.stringify(piece)} twice (ids ${idOf.get(piece)} and ${i}); every piece must be unique`);
    pieces.push(piece);
    scores[i] = num(pair[1], `model.vocab[${i}][1]`);
    idOf.set(piece, i);
  });
  const unkId = opt(o["unk_id"], undefined, (x, p) => int(x, p), "model.unk_id");
  if (unkId !== undefined && unkId >= pieces.length) throw new PeelError("TOKENIZER", `tokenizer.json: model.unk_id ${unkId} is outside the vocabulary of ${pieces.length} pieces`);
  const byteFallback = opt(o["byte_fallback"], false, bool, "model.byte_fallback");
  const model = createUnigramModel({ pieces, scores, unkId, byteFallback });
  const isByte = (id: number): boolean => /^<0x[0-9A-F]{2}>$/.test(pieces[id] ?? "");
  return {
    pieces, idOf, unkId,
    tokenize(word, ids, spans) {
      if (!spans) { model.encodeWord(word, ids); return; }
      const ends: number[] = [];
      const before = ids.length;
      model.encodeWord(word, ids, ends);
      // HF gives every byte-fallback id of one unknown run the span of the whole run
      const fallback = (i: number): boolean => {
        const id = ids[before + i] as number;
        const end = ends[i] as number;
        // a byte piece matched as literal text ("<0x0A>" typed in) is not a fallback byte
        return byteFallback && isByte(id) && word.slice(end - 6, end) !== pieces[id];
      };
      let prev = 0;
      for (let i = 0; i < ends.length; ) {
        let j = i + 1;
        if (fallback(i)) while (j < ends.length && fallback(j)) j++;
        const end = ends[j - 1] as number;
        for (let k = i; k < j; k++) spans.push(prev, end);
        prev = end;
        i = j;
      }
    },
  };
}
