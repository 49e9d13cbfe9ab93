// The tokenizer.json loader by hand: the Wikipedia BPE example, Oniguruma-to-JS regex translation,
// offsets through a normalizer, the streaming decoder, malformed files with their typed errors, and the
// node file loader. Parity with the Rust library is in test/tokenizer-hf-*.test.ts.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PeelError } from "../../util/errors.js";
import { loadTokenizerFile } from "../load-file.node.js";
import { tokenizerFromHfJson } from "./load-tokenizer-json.js";
import { onigToJs } from "./regex.js";

type Json = Record<string, unknown>;

/** "aaabdaaabac" from Wikipedia's BPE article: merges aa -> Z, ab -> Y, ZY -> X. */
function wikiBpe(over: Json = {}): Json {
  return {
    version: "1.0",
    added_tokens: [{ id: 7, content: "<s>", special: true, lstrip: false, rstrip: false, single_word: false, normalized: false }],
    normalizer: null, pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: { type: "TemplateProcessing", single: "<s> $A", special_tokens: { "<s>": { id: "<s>", ids: [7], tokens: ["<s>"] } } },
    decoder: null,
    model: { type: "BPE", vocab: { a: 0, b: 1, c: 2, d: 3, aa: 4, ab: 5, aaab: 6, "<s>": 7 }, merges: ["a a", "a b", "aa ab"] },
    ...over,
  };
}

function throwsPeel(f: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof PeelError && e.code === code && pattern.test(e.message));
}

test("BPE by hand: the Wikipedia example, template BOS, offsets, decode", () => {
  const t = tokenizerFromHfJson(wikiBpe());
  assert.equal(t.kind, "hf");
  // aaab d aaab a c (aaab = aa + ab)
  assert.deepEqual(t.encode("aaabdaaabac", { addSpecial: false }), [6, 3, 6, 0, 2]);
  assert.deepEqual(t.encode("aaabdaaabac"), [7, 6, 3, 6, 0, 2]);
  assert.equal(t.bosId, 7);
  const e = t.encodeWithOffsets("ab  aaab");
  assert.deepEqual(e.ids, [7, 5, 6]);
  assert.deepEqual(e.offsets, [[0, 0], [0, 2], [4, 8]]);
  assert.equal(t.countTokens("aaab aaab"), 3);
  assert.deepEqual(t.encodeBatch(["ab", "c"], { addSpecial: false }), [[5], [2]]);
  assert.equal(t.decode([6, 3]), "aaab d"); // no decoder: tokens joined by spaces, as HF does
  // special text is plain text by default; "<", "s", ">" are no pieces and there is no unk: dropped, as HF does
  assert.deepEqual(t.encode("<s>ab", { addSpecial: false }), [5]);
  assert.deepEqual(t.encode("<s>ab", { addSpecial: false, parseSpecial: true }), [7, 5]);
});

test("Oniguruma patterns become equivalent JS regexes", () => {
  assert.equal(onigToJs("(?i:'s|'t)|\\p{L}+"), "(?:'[sS]|'[tT])|\\p{L}+");
  assert.equal(onigToJs("\\s+(?!\\S)"), "\\p{White_Space}+(?!\\P{White_Space})");
  assert.equal(onigToJs("[^\\s\\p{L}]+"), "[^\\p{White_Space}\\p{L}]+");
  assert.equal(onigToJs("\\p{N}{1,3}"), "\\p{N}{1,3}");
  assert.equal(onigToJs("a++b*+(?>cd)"), "a+b*(?:cd)");
  assert.equal(onigToJs("\\x{2581}\\'{"), "\\u{2581}'\\{");
  const re = new RegExp(onigToJs("\\w+"), "u");
  assert.ok(re.test("²") && re.test("e\u0301") && !re.test("①"), "Oniguruma's \\w: Latin-1 superscripts yes, circled digits no");
  assert.ok(new RegExp(`^${onigToJs("\\s")}$`, "u").test("\u0085") && !new RegExp(`^${onigToJs("\\s")}$`, "u").test("\uFEFF"));
});

test("offsets map through normalizers back to the original text", () => {
  const t = tokenizerFromHfJson(wikiBpe({
    normalizer: { type: "Sequence", normalizers: [{ type: "Lowercase" }, { type: "Replace", pattern: { String: "x" }, content: "aa" }] },
    pre_tokenizer: null,
  }));
  // "XaB" -> "aaab" (one token) covering the whole input
  assert.deepEqual(t.encodeWithOffsets("XaB", { addSpecial: false }), { ids: [6], offsets: [[0, 3]] });
});

test("streaming decode emits only complete characters and matches decode", () => {
  const t = tokenizerFromHfJson(wikiBpe({
    model: { type: "BPE", byte_fallback: true, vocab: { "<0xE2>": 0, "<0x82>": 1, "<0xAC>": 2, "▁a": 3, "<s>": 4, "▁": 5, a: 6 }, merges: ["▁ a"] },
    added_tokens: [], post_processor: null, pre_tokenizer: null,
    normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "▁" }] },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
  }));
  const ids = t.encode("a€");
  assert.deepEqual(ids, [3, 0, 1, 2]);
  assert.equal(t.decode(ids), "a€");
  const s = t.createDecodeStream();
  assert.deepEqual(ids.map((id) => s.push(id)), ["a", "", "", "€"]);
  assert.equal(s.flush(), "");
  assert.deepEqual(Array.from(t.tokenBytes(0)), [0xe2]);
});

test("malformed tokenizer.json files fail with typed, specific errors", () => {
  throwsPeel(() => tokenizerFromHfJson("nope"), "TOKENIZER", /should be an object/);
  throwsPeel(() => tokenizerFromHfJson({ version: "1.0" }), "TOKENIZER", /"model" section is missing/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "Magic", vocab: {} } })), "UNSUPPORTED", /model type "Magic".*supported: BPE, WordPiece, WordLevel, Unigram/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ normalizer: { type: "Shout" } })), "UNSUPPORTED", /normalizer type "Shout".*supported: NFC/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ pre_tokenizer: { type: "Chop" } })), "UNSUPPORTED", /pre-tokenizer type "Chop".*ByteLevel/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ decoder: { type: "Unzip" } })), "UNSUPPORTED", /decoder type "Unzip".*ByteFallback/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ post_processor: { type: "Glue" } })), "UNSUPPORTED", /post-processor type "Glue"/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: { a: 0, b: 0 }, merges: [] } })), "TOKENIZER", /gives id 0 to both "a" and "b"/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: { a: 0, b: 1 }, merges: ["a c"] } })), "TOKENIZER", /merges\[0\] "a c" refers to "c", which is not in the vocabulary/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: { a: 0 }, merges: ["aa"] } })), "TOKENIZER", /no space between its two halves/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: { a: "zero" }, merges: [] } })), "TOKENIZER", /model\.vocab\["a"\] should be a non-negative integer/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: {}, merges: [], dropout: 0.1 } })), "UNSUPPORTED", /dropout/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "BPE", vocab: { a: 0 }, merges: [], unk_token: "<unk>" } })), "TOKENIZER", /unk_token "<unk>" is not in the vocabulary/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ model: { type: "Unigram", vocab: [["a", -1], ["a", -2]] } })), "TOKENIZER", /lists "a" twice/);
  const tok = (id: number, content: string): Json => ({ id, content, special: true });
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ added_tokens: [tok(8, "<x>"), tok(9, "<x>")] })), "TOKENIZER", /list "<x>" twice, with ids 8 and 9/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ added_tokens: [tok(8, "<x>"), tok(8, "<y>")] })), "TOKENIZER", /give id 8 to both/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ pre_tokenizer: { type: "Split", pattern: { Regex: "(a" }, behavior: "Isolated" } })), "TOKENIZER", /could not be compiled/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ pre_tokenizer: { type: "Split", pattern: { Regex: "a" }, behavior: "Sideways" } })), "UNSUPPORTED", /behavior "Sideways".*Isolated/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ normalizer: { type: "Precompiled", precompiled_charsmap: "AQAAAAk=" } })), "TOKENIZER", /precompiled charsmap: the trie is said to take 1 bytes/);
  throwsPeel(() => tokenizerFromHfJson(wikiBpe({ post_processor: { type: "TemplateProcessing", single: "[CLS] $A", special_tokens: {} } })), "TOKENIZER", /"\[CLS\]", which post_processor\.special_tokens does not define/);
  const t = tokenizerFromHfJson(wikiBpe());
  throwsPeel(() => t.decode([99]), "INVALID_ARGUMENT", /outside the vocabulary/);
});

test("loadTokenizerFile: tokenizer.json (with its config beside it) and bad files", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "peel-hf-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(wikiBpe()));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ eos_token: { content: "d" } }));
  const tok = await loadTokenizerFile(join(dir, "tokenizer.json"));
  assert.deepEqual(tok.encode("aaab"), [7, 6]);
  assert.equal(tok.eosId, 3);
  writeFileSync(join(dir, "bad.json"), "{ not json");
  await assert.rejects(loadTokenizerFile(join(dir, "bad.json")), (e: unknown) => e instanceof PeelError && e.code === "TOKENIZER" && /not valid JSON/.test(e.message));
  writeFileSync(join(dir, "x.bin"), "PK\x03\x04");
  await assert.rejects(loadTokenizerFile(join(dir, "x.bin")), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED");
  await assert.rejects(loadTokenizerFile(join(dir, "missing.json")), (e: unknown) => e instanceof PeelError && e.code === "IO");
  const gguf = new URL("../../../../shared/testdata/llama-cpp-vocab/ggml-vocab-llama-spm.gguf", import.meta.url);
  if (!existsSync(gguf)) { t.diagnostic("../shared absent: GGUF branch not checked"); return; }
  const g = await loadTokenizerFile(gguf.pathname);
  assert.equal(g.kind, "llama");
  assert.deepEqual(g.encodeWithOffsets("Hello world").offsets, [[0, 0], [0, 5], [5, 11]]);
});
