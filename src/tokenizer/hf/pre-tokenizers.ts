/**
 * Hugging Face pre-tokenizers, parsed from tokenizer.json: ByteLevel (optional GPT-2 regex and prefix
 * space, then the byte alphabet), Split (regex or string; Isolated, Removed, MergedWithPrevious,
 * MergedWithNext, Contiguous; invert), Metaspace, Digits, Punctuation, Whitespace, WhitespaceSplit,
 * CharDelimiterSplit, BertPreTokenizer and Sequence. Each maps a list of `Split`s (a piece of normalized
 * text and where its units sit in the normalized string) to a finer list; empty pieces are dropped.
 * Each also has an untracked form for plain `encode` (`words`: the words as strings, handed one by one to
 * a callback, no alignment objects), and when the last step is ByteLevel, `rawWords`: the same words
 * before the byte-alphabet mapping, for a model that maps bytes itself (models.ts' byte-level fast path).
 * The model that turns splits into ids is elsewhere (models.ts).
 */

import { PeelError } from "../../util/errors.js";
import { byteToUnicode, utf8Encode } from "../utf8.js";
import { charLen, matchRanges, type Aligned } from "./aligned.js";
import { arr, bool, obj, opt, pattern, str, typeOf, type JsonObject } from "./json.js";
import { isWhitespace } from "./normalizers.js";
import { compileOnig, literalRegex } from "./regex.js";

/**
 * A piece of normalized text. Unit i of `text` covers normalized units [ns[i], ne[i]) when the arrays are
 * present (after a transform such as ByteLevel), else the single unit `offset + i`.
 */
export interface Split {
  readonly text: string;
  readonly offset: number;
  readonly ns: Int32Array | undefined;
  readonly ne: Int32Array | undefined;
}

export interface PreContext {
  /** The normalized fragment the splits come from (its alignment gives original offsets when tracked). */
  readonly norm: Aligned;
  /** Whether unit alignment arrays must be built (offsets were asked for). */
  readonly track: boolean;
}

export type PreTokenizer = (splits: Split[], ctx: PreContext) => Split[];

/** Receives one non-empty word. */
export type Emit = (word: string) => void;
/** Untracked pre-tokenization: calls `emit` with each non-empty word of `text`, in order. */
export type WordSplitter = (text: string, emit: Emit) => void;

/** A parsed pre-tokenizer in its tracked and untracked forms. */
export interface HfPreTokenizer {
  readonly splits: PreTokenizer;
  readonly words: WordSplitter;
  /** When the last step is ByteLevel: `words` without the final byte-alphabet mapping. */
  readonly rawWords: WordSplitter | undefined;
}

/** Match ranges [start, end, isMatch] covering the text, as HF's Pattern::find_matches. */
type Ranges = Array<[number, number, boolean]>;
type Finder = (text: string) => Ranges;
type Behavior = "Isolated" | "Removed" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";
const BEHAVIORS: readonly Behavior[] = ["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"];

const TYPES = ["ByteLevel", "Split", "Metaspace", "Digits", "Punctuation", "Whitespace", "WhitespaceSplit", "CharDelimiterSplit", "BertPreTokenizer", "Sequence"] as const;

// Whitespace splits with Rust's regex crate (not Oniguruma): \w+|[^\w\s]+ with its Unicode \w, which has
// the join controls U+200C/U+200D and no Latin-1 extras.
const RUST_W = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u200C\\u200D";
const RUST_WORDS = new RegExp(`[${RUST_W}]+|[^${RUST_W}\\p{White_Space}]+`, "gu");

const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export function parsePreTokenizer(v: unknown, path = "pre_tokenizer"): HfPreTokenizer | undefined {
  if (v === null || v === undefined) return undefined;
  const o = obj(v, path);
  const type = typeOf(o, path, "pre-tokenizer", TYPES);
  switch (type) {
    case "ByteLevel": {
      const addPrefixSpace = opt(o["add_prefix_space"], true, bool, `${path}.add_prefix_space`);
      const useRegex = opt(o["use_regex"], true, bool, `${path}.use_regex`);
      return byteLevelPre(addPrefixSpace, useRegex);
    }
    case "Split": return splitPre(o, path);
    case "Metaspace": return adapted(metaspacePre(o, path));
    case "Digits": {
      const individual = opt(o["individual_digits"], false, bool, `${path}.individual_digits`);
      return adapted(bySplit(charFinder((ch) => /^\p{N}$/u.test(ch)), individual ? "Isolated" : "Contiguous"));
    }
    case "Punctuation": return adapted(bySplit(charFinder(isPunctuation), behaviorOf(o["behavior"], `${path}.behavior`, "Isolated")));
    case "Whitespace": return regexPre(RUST_WORDS, true, "Removed");
    case "WhitespaceSplit": return adapted(bySplit(charFinder(isWhitespace), "Removed"));
    case "CharDelimiterSplit": {
      const d = str(o["delimiter"], `${path}.delimiter`);
      return adapted(bySplit(charFinder((ch) => ch === d), "Removed"));
    }
    case "BertPreTokenizer": {
      const ws = bySplit(charFinder(isWhitespace), "Removed");
      const punct = bySplit(charFinder(isPunctuation), "Isolated");
      return adapted((s, ctx) => punct(ws(s, ctx), ctx));
    }
    case "Sequence": {
      const steps = arr(o["pretokenizers"], `${path}.pretokenizers`).map((p, i) => parsePreTokenizer(p, `${path}.pretokenizers[${i}]`))
        .filter((p): p is HfPreTokenizer => p !== undefined);
      return sequencePre(steps);
    }
  }
}

/** The untracked form of a split-based pre-tokenizer, through its tracked code (for the rarer kinds). */
function adapted(splits: PreTokenizer): HfPreTokenizer {
  const words: WordSplitter = (text, emit) => {
    const norm: Aligned = { text, starts: undefined, ends: undefined };
    for (const sp of splits([{ text, offset: 0, ns: undefined, ne: undefined }], { norm, track: false })) if (sp.text.length > 0) emit(sp.text);
  };
  return { splits, words, rawWords: undefined };
}

function sequencePre(steps: readonly HfPreTokenizer[]): HfPreTokenizer {
  const splits: PreTokenizer = (s, ctx) => steps.reduce((x, f) => f.splits(x, ctx), s);
  const last = steps[steps.length - 1];
  const firsts = steps.slice(0, -1).map((p) => p.words);
  return {
    splits,
    words: chain([...firsts, ...(last ? [last.words] : [])]),
    rawWords: last?.rawWords && chain([...firsts, last.rawWords]),
  };
}

/** Word splitters applied one after another (each word of one is split by the next). */
function chain(fns: readonly WordSplitter[]): WordSplitter {
  if (fns.length === 0) return (text, emit) => { if (text.length > 0) emit(text); };
  const [first, ...rest] = fns as [WordSplitter, ...WordSplitter[]];
  if (rest.length === 0) return first;
  const next = chain(rest);
  return (text, emit) => first(text, (w) => next(w, emit));
}

const PUNCT = /^[\p{P}!-/:-@[-`{-~]$/u;
const isPunctuation = (ch: string): boolean => PUNCT.test(ch);

function behaviorOf(v: unknown, path: string, dflt: Behavior): Behavior {
  if (v === undefined || v === null) return dflt;
  const s = str(v, path);
  const b = BEHAVIORS.find((x) => x === s);
  if (b === undefined) throw new PeelError("UNSUPPORTED", `tokenizer.json: split behavior ${JSON.stringify(s)} at ${path} is not supported; supported: ${BEHAVIORS.join(", ")}`);
  return b;
}

function splitPre(o: JsonObject, path: string): HfPreTokenizer {
  const p = pattern(o["pattern"], `${path}.pattern`);
  const behavior = behaviorOf(o["behavior"], `${path}.behavior`, "Isolated");
  const inv = opt(o["invert"], false, bool, `${path}.invert`);
  return regexPre(p.kind === "string" ? literalRegex(p.value) : compileOnig(p.value), inv, behavior);
}

/** A split by regex matches; its untracked form walks the matches directly for Isolated and Removed. */
function regexPre(re: RegExp, inv: boolean, behavior: Behavior): HfPreTokenizer {
  const finder = regexFinder(re);
  const splits = bySplit(inv ? invert(finder) : finder, behavior);
  if (behavior === "Isolated") return { splits, words: regexWords(re, true, true), rawWords: undefined };
  if (behavior === "Removed") return { splits, words: regexWords(re, inv, !inv), rawWords: undefined };
  return adapted(splits);
}

/**
 * Emits the matches of `src` in `text` and/or the text between them, left to right, as `matchRanges` finds
 * them (empty matches cut nothing). It runs over its own copy of the regex, so nested use cannot clash.
 */
function regexWords(src: RegExp, keepMatches: boolean, keepGaps: boolean): WordSplitter {
  const re = new RegExp(src.source, src.flags);
  return (text, emit) => {
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const s = m.index;
      const w = m[0];
      if (w.length === 0) { re.lastIndex = s + charLen(text, s); continue; }
      if (keepGaps && s > last) emit(text.slice(last, s));
      if (keepMatches) emit(w);
      last = s + w.length;
    }
    if (keepGaps && last < text.length) emit(last === 0 ? text : text.slice(last));
  };
}

function regexFinder(re: RegExp): Finder {
  return (text) => {
    const out: Ranges = [];
    let last = 0;
    for (const [s, e] of matchRanges(text, re)) {
      if (s > last) out.push([last, s, false]);
      out.push([s, e, true]);
      last = e;
    }
    if (last < text.length) out.push([last, text.length, false]);
    return out;
  };
}

/** Every code point for which `f` holds is a match of its own (HF's char-predicate pattern). */
function charFinder(f: (ch: string) => boolean): Finder {
  return (text) => {
    const out: Ranges = [];
    let last = 0;
    for (let i = 0; i < text.length; ) {
      const n = charLen(text, i);
      if (f(text.slice(i, i + n))) {
        if (i > last) out.push([last, i, false]);
        out.push([i, i + n, true]);
        last = i + n;
      }
      i += n;
    }
    if (last < text.length) out.push([last, text.length, false]);
    return out;
  };
}

const invert = (f: Finder): Finder => (text) => f(text).map(([s, e, m]) => [s, e, !m]);

/** Applies a split behavior to match ranges: pieces to keep, as [start, end). */
export function applyBehavior(ranges: Ranges, behavior: Behavior): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let prevMatch = false;
  switch (behavior) {
    case "Isolated": for (const [s, e] of ranges) out.push([s, e]); break;
    case "Removed": for (const [s, e, m] of ranges) if (!m) out.push([s, e]); break;
    case "Contiguous":
    case "MergedWithPrevious":
      for (const [s, e, m] of ranges) {
        const last = out[out.length - 1];
        const merge = behavior === "Contiguous" ? m === prevMatch : m && !prevMatch;
        if (merge && last) last[1] = e;
        else out.push([s, e]);
        prevMatch = m;
      }
      break;
    case "MergedWithNext":
      for (let i = ranges.length - 1; i >= 0; i--) {
        const [s, e, m] = ranges[i] as [number, number, boolean];
        const last = out[out.length - 1];
        if (m && !prevMatch && last) last[0] = s;
        else out.push([s, e]);
        prevMatch = m;
      }
      out.reverse();
      break;
  }
  return out;
}

export function subSplit(sp: Split, s: number, e: number): Split {
  return { text: sp.text.slice(s, e), offset: sp.offset + s, ns: sp.ns?.subarray(s, e), ne: sp.ne?.subarray(s, e) };
}

function bySplit(find: Finder, behavior: Behavior): PreTokenizer {
  return (splits) => {
    const out: Split[] = [];
    for (const sp of splits) {
      for (const [s, e] of applyBehavior(find(sp.text), behavior)) if (e > s) out.push(s === 0 && e === sp.text.length ? sp : subSplit(sp, s, e));
    }
    return out;
  };
}

/** Normalized span of unit i of a split. */
export function unitSpan(sp: Split, i: number): [number, number] {
  return sp.ns && sp.ne ? [sp.ns[i] as number, sp.ne[i] as number] : [sp.offset + i, sp.offset + i + 1];
}

/**
 * Rewrites a split code point by code point: `f` gives the replacement of the code point at i (and may put
 * `prefix` first, aligned to the first code point, as HF's prepend).
 */
function transformSplit(sp: Split, track: boolean, prefixIfAny: string, f: (ch: string) => string): Split {
  const prefix = sp.text.length > 0 ? prefixIfAny : ""; // HF prepends only to non-empty text
  if (!track) return { text: prefix + mapText(sp.text, f), offset: sp.offset, ns: undefined, ne: undefined };
  let text = prefix;
  const ns: number[] = [];
  const ne: number[] = [];
  const t = sp.text;
  if (track && prefix.length > 0 && t.length > 0) {
    const [a, b] = unitSpan(sp, 0);
    const [, b2] = unitSpan(sp, charLen(t, 0) - 1);
    for (let k = 0; k < prefix.length; k++) { ns.push(a); ne.push(Math.max(b, b2)); }
  }
  for (let i = 0; i < t.length; ) {
    const n = charLen(t, i);
    const rep = f(t.slice(i, i + n));
    text += rep;
    if (track) {
      const [a] = unitSpan(sp, i);
      const [, b] = unitSpan(sp, i + n - 1);
      for (let k = 0; k < rep.length; k++) { ns.push(a); ne.push(b); }
    }
    i += n;
  }
  return { text, offset: sp.offset, ns: track ? Int32Array.from(ns) : undefined, ne: track ? Int32Array.from(ne) : undefined };
}

/** `f` over every code point of `t`, without alignment. */
function mapText(t: string, f: (ch: string) => string): string {
  if (f === byteLevelChars) return byteLevelText(t);
  let out = "";
  for (const ch of t) out += f(ch);
  return out;
}

let asciiAlphabet: string[] | undefined;

/** The byte-alphabet form of a whole string (ASCII through a table). */
export function byteLevelText(t: string): string {
  const table = (asciiAlphabet ??= byteToUnicode().slice(0, 128));
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x80) { out += table[c] as string; continue; }
    const n = c >= 0xd800 && c <= 0xdbff && i + 1 < t.length ? 2 : 1;
    out += byteLevelChars(t.slice(i, i + n));
    i += n - 1;
  }
  return out;
}

/** The byte-alphabet form of a code point (GPT-2's bytes_to_unicode over its UTF-8). */
export function byteLevelChars(ch: string): string {
  const alphabet = byteToUnicode();
  if (ch.length === 1 && ch.charCodeAt(0) < 0x80) return alphabet[ch.charCodeAt(0)] as string;
  let s = "";
  for (const b of utf8Encode(ch)) s += alphabet[b];
  return s;
}

function byteLevelPre(addPrefixSpace: boolean, useRegex: boolean): HfPreTokenizer {
  const gpt2 = useRegex ? bySplit(regexFinder(compileOnig(GPT2_PATTERN)), "Isolated") : undefined;
  const splits: PreTokenizer = (splits, ctx) => {
    let s = addPrefixSpace ? splits.map((sp) => (sp.text.startsWith(" ") ? sp : transformSplit(sp, ctx.track, " ", (c) => c))) : splits;
    if (gpt2) s = gpt2(s, ctx);
    return s.map((sp) => transformSplit(sp, ctx.track, "", byteLevelChars));
  };
  const untracked = (mapBytes: boolean): WordSplitter => {
    const gpt2Words = useRegex ? regexWords(compileOnig(GPT2_PATTERN), true, true) : undefined;
    return (text, emit) => {
      const t = addPrefixSpace && text.length > 0 && !text.startsWith(" ") ? " " + text : text;
      const out: Emit = mapBytes ? (w) => emit(byteLevelText(w)) : emit;
      if (gpt2Words) gpt2Words(t, out);
      else if (t.length > 0) out(t);
    };
  };
  return { splits, words: untracked(true), rawWords: untracked(false) };
}

function metaspacePre(o: JsonObject, path: string): PreTokenizer {
  const replacement = str(o["replacement"] ?? "\u2581", `${path}.replacement`);
  const legacy = o["add_prefix_space"];
  const scheme = o["prepend_scheme"] !== undefined && o["prepend_scheme"] !== null
    ? str(o["prepend_scheme"], `${path}.prepend_scheme`)
    : legacy === false ? "never" : "always";
  if (scheme !== "always" && scheme !== "first" && scheme !== "never") {
    throw new PeelError("UNSUPPORTED", `tokenizer.json: Metaspace prepend_scheme ${JSON.stringify(scheme)} at ${path} is not supported; supported: always, first, never`);
  }
  const doSplit = opt(o["split"], true, bool, `${path}.split`);
  const onRep = bySplit(charFinder((ch) => ch === replacement), "MergedWithNext");
  return (splits, ctx) => {
    const out: Split[] = [];
    for (const sp of splits) {
      const origStart = ctx.norm.starts?.[unitSpan(sp, 0)[0]] ?? 0;
      const startsRep = sp.text.startsWith(replacement) || sp.text.startsWith(" ");
      const prepend = !startsRep && (scheme === "always" || (scheme === "first" && origStart === 0));
      const t = transformSplit(sp, ctx.track, prepend ? replacement : "", (c) => (c === " " ? replacement : c));
      if (doSplit) out.push(...onRep([t], ctx));
      else out.push(t);
    }
    return out;
  };
}
