/**
 * The run-time index built once from a `Vocabulary`: piece -> id, per-token attribute bits (as llama.cpp
 * derives them from token types, plus its by-text fixes for end-of-turn and fill-in-the-middle tokens and
 * Phi-3's strip flags), the end-of-generation set, and the special tokens that split input text before
 * the algorithm runs (one trie scan finds which special texts occur, so long texts are not searched once
 * per special token).
 * It does not tokenize; spm.ts, bpe.ts and wordpiece.ts do.
 */

import { PeelError } from "../util/errors.js";
import { TokenType, type Vocabulary } from "./types.js";

/** Attribute bits (the same layout llama.cpp uses for `llama_token_attr`). */
export const Attr = {
  undefined: 0,
  unknown: 1 << 0,
  unused: 1 << 1,
  normal: 1 << 2,
  control: 1 << 3,
  userDefined: 1 << 4,
  byte: 1 << 5,
  lstrip: 1 << 7,
  rstrip: 1 << 8,
} as const;

export interface VocabIndex {
  readonly vocab: Vocabulary;
  readonly size: number;
  readonly idOf: ReadonlyMap<string, number>;
  readonly attrs: Uint16Array;
  /** Control, user-defined and unknown tokens, longest text first. */
  readonly specialIds: readonly number[];
  readonly eogIds: ReadonlySet<number>;
  readonly eotId: number | undefined;
  readonly eomId: number | undefined;
}

function attrOfType(type: number): number {
  switch (type) {
    case TokenType.normal: return Attr.normal;
    case TokenType.unknown: return Attr.unknown;
    case TokenType.control: return Attr.control;
    case TokenType.userDefined: return Attr.userDefined;
    case TokenType.unused: return Attr.unused;
    case TokenType.byte: return Attr.byte;
    default: return Attr.undefined;
  }
}

// Texts that mark an end of turn; such tokens are end-of-generation and forced to control type.
const EOT_TEXTS = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];
const EOG_TEXTS = new Set([...EOT_TEXTS, "<|eom_id|>", "<|return|>", "<|call|>", "[EOS]", "</s>", "<eos>"]);
// Fill-in-the-middle texts by role (first present wins): all are forced to control type, and the pad,
// repo and file-separator ones also end generation, as llama.cpp decides by text.
const FIM_TEXTS: readonly (readonly string[])[] = [
  ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>"],
  ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>"],
  ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>"],
];
const FIM_EOG_TEXTS: readonly (readonly string[])[] = [
  ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"],
  ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
  ["<|file_sep|>"],
];

/**
 * Every text a loaded vocabulary promotes to a control (and maybe end-of-generation) token by its text alone,
 * as llama.cpp does: a trainer must never learn one as an ordinary piece, or generation would stop there.
 */
export const CONTROL_LOOKING_TEXTS: readonly string[] = [...EOG_TEXTS, ...FIM_TEXTS.flat(), ...FIM_EOG_TEXTS.flat()];

export function buildVocabIndex(vocab: Vocabulary): VocabIndex {
  const size = vocab.pieces.length;
  const idOf = new Map<string, number>();
  const attrs = new Uint16Array(size);
  for (let id = 0; id < size; id++) {
    const piece = vocab.pieces[id] ?? "";
    const prev = idOf.get(piece);
    if (prev !== undefined) {
      throw new PeelError("TOKENIZER", `vocabulary: duplicate piece ${JSON.stringify(piece)} at ids ${prev} and ${id}; every piece must be unique`);
    }
    idOf.set(piece, id);
    attrs[id] = attrOfType(vocab.types[id] ?? TokenType.normal);
  }
  let eotId = vocab.eotId;
  let eomId = vocab.eomId;
  const eog = new Set<number>();
  const forceControl = (id: number): void => { attrs[id] = (attrs[id] ?? 0) | Attr.control; };
  if (eotId === undefined) eotId = EOT_TEXTS.map((t) => idOf.get(t)).find((id) => id !== undefined);
  if (eomId === undefined) eomId = idOf.get("<|eom_id|>");
  if (eotId !== undefined) forceControl(eotId);
  if (eomId !== undefined) forceControl(eomId);
  for (const text of EOG_TEXTS) {
    const id = idOf.get(text);
    if (id === undefined) continue;
    eog.add(id);
    forceControl(id);
  }
  for (const texts of [...FIM_TEXTS, ...FIM_EOG_TEXTS]) {
    const id = texts.map((t) => idOf.get(t)).find((x) => x !== undefined);
    if (id === undefined) continue;
    forceControl(id);
    if (FIM_EOG_TEXTS.includes(texts)) eog.add(id);
  }
  for (const id of [vocab.eosId, eotId, eomId]) if (id !== undefined) eog.add(id);

  const specialIds: number[] = [];
  for (let id = 0; id < size; id++) {
    if ((attrs[id] ?? 0) & (Attr.control | Attr.userDefined | Attr.unknown)) specialIds.push(id);
  }
  specialIds.sort((a, b) => (vocab.pieces[b]?.length ?? 0) - (vocab.pieces[a]?.length ?? 0));
  applyModelQuirks(vocab, idOf, attrs, specialIds);
  return { vocab, size, idOf, attrs, specialIds, eogIds: eog, eotId, eomId };
}

/** Phi-3 models strip whitespace after their special tokens (llama.cpp keys this on the model name). */
function applyModelQuirks(vocab: Vocabulary, idOf: ReadonlyMap<string, number>, attrs: Uint16Array, specialIds: readonly number[]): void {
  const name = (vocab.modelName ?? "").toLowerCase();
  if (!name.includes("phi-3") && !name.includes("phi3")) return;
  const set = (id: number | undefined, on: boolean): void => {
    if (id === undefined) return;
    attrs[id] = on ? (attrs[id] ?? 0) | Attr.rstrip : (attrs[id] ?? 0) & ~Attr.rstrip;
  };
  for (const id of specialIds) set(id, true);
  set(idOf.get("</s>"), true);
  for (const t of ["<unk>", "<s>", "<|endoftext|>"]) set(idOf.get(t), false);
}

/** A piece of input: raw text still to tokenize, or a special token already matched. */
export type Fragment = { readonly text: string } | { readonly id: number };

const isAsciiSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";

/** A trie over the texts of the special tokens (UTF-16 units), to find which occur in a text in one pass. */
interface SpecialTrie {
  /** node * 65536 + unit -> child node */
  readonly edges: Map<number, number>;
  /** token id ending at each node, -1 for none */
  readonly terminal: Int32Array;
  /** 1 at each unit a special text starts with */
  readonly first: Uint8Array;
}

const tries = new WeakMap<VocabIndex, SpecialTrie>();

function specialTrie(index: VocabIndex): SpecialTrie {
  let trie = tries.get(index);
  if (trie) return trie;
  const edges = new Map<number, number>();
  const term: number[] = [-1];
  const first = new Uint8Array(65536);
  for (const id of index.specialIds) {
    const tok = index.vocab.pieces[id] ?? "";
    if (tok.length === 0) continue;
    first[tok.charCodeAt(0)] = 1;
    let node = 0;
    for (let i = 0; i < tok.length; i++) {
      const key = node * 65536 + tok.charCodeAt(i);
      let next = edges.get(key);
      if (next === undefined) { next = term.length; term.push(-1); edges.set(key, next); }
      node = next;
    }
    term[node] = id;
  }
  trie = { edges, terminal: Int32Array.from(term), first };
  tries.set(index, trie);
  return trie;
}

/** The special tokens whose text occurs anywhere in `text` (overlapping occurrences count). */
function specialsIn(index: VocabIndex, text: string): Set<number> {
  const { edges, terminal, first } = specialTrie(index);
  const found = new Set<number>();
  for (let i = 0; i < text.length; i++) {
    if (first[text.charCodeAt(i)] === 0) continue;
    let node = 0;
    for (let k = i; k < text.length; k++) {
      const next = edges.get(node * 65536 + text.charCodeAt(k));
      if (next === undefined) break;
      node = next;
      const id = terminal[node] as number;
      if (id >= 0) found.add(id);
    }
  }
  return found;
}

/**
 * Splits `text` at occurrences of special-token texts, longest tokens first. Control and unknown tokens
 * take part only with `parseSpecial`; user-defined tokens do unless `splitUserDefined` is false. lstrip/rstrip tokens swallow the
 * ASCII whitespace next to them. One scan over the text first finds which special texts occur at all;
 * only those are split on, in the same order (so the result is that of trying every token in turn).
 */
export function splitOnSpecial(index: VocabIndex, text: string, parseSpecial: boolean, splitUserDefined = true): Fragment[] {
  let frags: Fragment[] = text.length > 0 ? [{ text }] : [];
  const present = text.length > 0 ? specialsIn(index, text) : undefined;
  if (!present || present.size === 0) return frags;
  for (const id of index.specialIds) {
    if (!present.has(id)) continue;
    const attr = index.attrs[id] ?? 0;
    if (!parseSpecial && attr & (Attr.control | Attr.unknown)) continue;
    if (!splitUserDefined && !(attr & (Attr.control | Attr.unknown))) continue; // SentencePiece matches them in the text
    const tok = index.vocab.pieces[id] ?? "";
    const next: Fragment[] = [];
    for (const f of frags) {
      if (!("text" in f)) { next.push(f); continue; }
      splitOne(f.text, tok, id, attr, next);
    }
    frags = next;
  }
  return frags;
}

function splitOne(s: string, tok: string, id: number, attr: number, out: Fragment[]): void {
  let from = 0;
  for (;;) {
    const at = s.indexOf(tok, from);
    if (at < 0) break;
    let leftEnd = at;
    if (attr & Attr.lstrip) while (leftEnd > from && isAsciiSpace(s[leftEnd - 1])) leftEnd--;
    if (leftEnd > from) out.push({ text: s.slice(from, leftEnd) });
    out.push({ id });
    from = at + tok.length;
    if (attr & Attr.rstrip) while (from < s.length && isAsciiSpace(s[from])) from++;
  }
  if (from < s.length) out.push({ text: s.slice(from) });
}
