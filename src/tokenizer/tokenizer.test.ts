/**
 * Unit tests for the tokenizers on tiny hand-made vocabularies: merge orders computable by hand (SPM by
 * scores, byte-level BPE by ranks — the Wikipedia "aaabdaaabac" example), special-token splitting,
 * llama.cpp's decode rules, the streaming decoder, and refusals of bad vocabularies.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { kv } from "../formats/gguf/write.js";
import type { GgufKv } from "../formats/gguf/types.js";
import { PeelError } from "../util/errors.js";
import { cleanUpSpaces } from "./decode.js";
import { createLlama2cTokenizer } from "./llama2c.js";
import { tokenizerFromGguf } from "./load-gguf.js";
import { preTokenize, preTokenizerFor } from "./pretokenize.js";
import { TokenType } from "./types.js";
import { byteToUnicode } from "./utf8.js";

const hex = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;

/** <unk> <s> </s>, 256 byte tokens, then the given pieces with their scores. */
function spmMetadata(pieces: readonly (readonly [string, number])[], extra: [string, GgufKv][] = []): Map<string, GgufKv> {
  const tokens = ["<unk>", "<s>", "</s>", ...Array.from({ length: 256 }, (_, b) => hex(b)), ...pieces.map((p) => p[0])];
  const scores = [0, 0, 0, ...new Array<number>(256).fill(0), ...pieces.map((p) => p[1])];
  const types = [TokenType.unknown, TokenType.control, TokenType.control, ...new Array<number>(256).fill(TokenType.byte), ...pieces.map(() => TokenType.normal)];
  return new Map<string, GgufKv>([
    ["tokenizer.ggml.model", kv.str("llama")],
    ["tokenizer.ggml.tokens", kv.strArray(tokens)],
    ["tokenizer.ggml.scores", kv.f32Array(scores)],
    ["tokenizer.ggml.token_type", kv.i32Array(types)],
    ...extra,
  ]);
}

const SPM_PIECES = [["▁", -5], ["a", -6], ["b", -7], ["c", -8], ["ab", -1], ["bc", -2], ["▁a", -3], ["abc", -0.5], ["▁b", -4]] as const;
const idOf = (name: string): number => 259 + SPM_PIECES.findIndex((p) => p[0] === name);

test("SPM: merges by score, by hand", () => {
  const tok = tokenizerFromGguf(spmMetadata(SPM_PIECES));
  // "▁abc": ab (-1) beats bc (-2) and ▁a (-3); then "abc" (-0.5) forms; "▁abc" is no piece
  assert.deepEqual(tok.encode("abc", { addSpecial: false }), [idOf("▁"), idOf("abc")]);
  assert.deepEqual(tok.encode("abc"), [1, idOf("▁"), idOf("abc")]);
  // "▁b▁a": ▁a (-3) before ▁b (-4); both merge
  assert.deepEqual(tok.encode("b a", { addSpecial: false }), [idOf("▁b"), idOf("▁a")]);
  // "d" and "é" are no pieces: byte fallback
  assert.deepEqual(tok.encode("dé", { addSpecial: false }), [idOf("▁"), 3 + 0x64, 3 + 0xc3, 3 + 0xa9]);
  assert.deepEqual(tok.encode("", { addSpecial: false }), []);
  assert.deepEqual(tok.encode(""), [1]);
});

test("SPM: ties go to the leftmost pair", () => {
  const tok = tokenizerFromGguf(spmMetadata([["▁", -9], ["a", -9], ["aa", -1]]));
  const aa = 259 + 2;
  const a = 259 + 1;
  assert.deepEqual(tok.encode("aaa", { addSpecial: false }), [259, aa, a]);
});

test("SPM: special tokens and decode rules", () => {
  const tok = tokenizerFromGguf(spmMetadata(SPM_PIECES));
  assert.deepEqual(tok.encode("<s>a", { addSpecial: false, parseSpecial: true }), [1, idOf("▁a")]);
  assert.notDeepEqual(tok.encode("<s>a", { addSpecial: false })[0], 1);
  const ids = [1, idOf("▁a"), idOf("▁b")];
  assert.equal(tok.decode(ids), " a b"); // the space is dropped from the first piece only, and BOS is first
  assert.equal(tok.decode(ids.slice(1)), "a b");
  assert.equal(tok.decode(ids, { skipSpecial: false }), "<s> a b");
  assert.equal(tok.decode(ids, { removeSpecial: true }), " a b");
  assert.equal(tok.decode([idOf("▁"), 3 + 0xc3, 3 + 0xa9]), "é");
  assert.equal(tok.piece(idOf("▁a")), "▁a");
  assert.deepEqual(Array.from(tok.tokenBytes(idOf("▁a"))), [0x20, 0x61]);
  assert.deepEqual(Array.from(tok.tokenBytes(3 + 0x0a)), [0x0a]);
  assert.ok(tok.isEndOfGeneration(2));
  assert.ok(!tok.isEndOfGeneration(1));
  assert.throws(() => tok.decode([99999]), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
});

test("decode stream: an emoji split over byte tokens comes out whole", () => {
  const tok = tokenizerFromGguf(spmMetadata(SPM_PIECES));
  const ids = tok.encode("🦙a", { addSpecial: false }); // ▁, F0 9F A6 99, a
  assert.deepEqual(ids, [idOf("▁"), 3 + 0xf0, 3 + 0x9f, 3 + 0xa6, 3 + 0x99, idOf("a")]);
  const s = tok.createDecodeStream();
  assert.deepEqual([1, ...ids].map((id) => s.push(id)), ["", " ", "", "", "", "🦙", "a"]);
  assert.equal(s.flush(), "");
  const cut = tok.createDecodeStream();
  assert.equal(cut.push(3 + 0xf0) + cut.push(3 + 0x9f), "");
  assert.equal(cut.flush(), "\uFFFD");
});

test("BPE: the Wikipedia example aaabdaaabac merges to aaab d aaab a c", () => {
  const pieces = ["a", "b", "c", "d", "aa", "ab", "aaab"];
  const tok = tokenizerFromGguf(new Map<string, GgufKv>([
    ["tokenizer.ggml.model", kv.str("gpt2")],
    ["tokenizer.ggml.pre", kv.str("gpt-2")],
    ["tokenizer.ggml.tokens", kv.strArray(pieces)],
    ["tokenizer.ggml.merges", kv.strArray(["a a", "a b", "aa ab"])],
  ]));
  assert.deepEqual(tok.encode("aaabdaaabac").map((id) => pieces[id]), ["aaab", "d", "aaab", "a", "c"]);
  assert.equal(tok.decode(tok.encode("aaabdaaabac")), "aaabdaaabac");
  assert.equal(tok.bosId, undefined); // default 11 is outside this 7-piece vocabulary
});

test("BPE: byte-level alphabet and pre-tokenizer", () => {
  const map = byteToUnicode();
  assert.equal(map[0x20], "Ġ");
  assert.equal(map[0x0a], "Ċ");
  assert.equal(map[0x41], "A");
  assert.equal(new Set(map).size, 256);
  assert.deepEqual(preTokenize(preTokenizerFor("gpt-2"), "Hello world's  12  !"), ["Hello", " world", "'s", " ", " 12", " ", " !"]);
  assert.deepEqual(preTokenize(preTokenizerFor("llama-bpe"), "12345 I'M\n\nok"), ["123", "45", " I", "'M", "\n\n", "ok"]);
});

test("decode: llama.cpp's clean-up of spaces", () => {
  const clean = (s: string): string => new TextDecoder().decode(cleanUpSpaces(new TextEncoder().encode(s)));
  assert.equal(clean("Hello , world . Yes ! no ?"), "Hello, world. Yes! no?");
  assert.equal(clean("rock ' n"), "rock'n");
  assert.equal(clean("it 's we 're I 'm they 've don 't"), "it's we're I'm they've don 't");
});

test("llama2.c tokenizer: run.c's dummy prefix, byte fallback and score merges", () => {
  const pieces = ["<unk>", "\n<s>\n", "\n</s>\n", ...Array.from({ length: 256 }, (_, b) => hex(b)), " ", "h", "i", " h", " hi", "hi"];
  const scores = Float32Array.from([0, 0, 0, ...new Array<number>(256).fill(0), -1, -2, -3, -4, -5, -6]);
  const tok = createLlama2cTokenizer({ pieces, scores });
  const id = (p: string): number => pieces.indexOf(p);
  // " hi": " h" (-4) beats "hi" (-6), then " hi" (-5)
  assert.deepEqual(tok.encode("hi"), [1, id(" hi")]);
  assert.deepEqual(tok.encode("hé", { addSpecial: false }), [id(" h"), 3 + 0xc3, 3 + 0xa9]);
  assert.equal(tok.decode([1, id(" hi")]), "hi");
  assert.equal(tok.decode([id(" hi")]), " hi");
  assert.ok(tok.isEndOfGeneration(2));
});

const code = (c: string) => (e: unknown): boolean => e instanceof PeelError && e.code === c;

test("bad vocabularies are refused with clear errors", () => {
  const base = spmMetadata(SPM_PIECES);
  const without = new Map(base);
  without.delete("tokenizer.ggml.tokens");
  assert.throws(() => tokenizerFromGguf(without), (e: unknown) => code("TOKENIZER")(e) && /tokenizer\.ggml\.tokens is missing/.test((e as Error).message));
  const short = new Map(base);
  short.set("tokenizer.ggml.scores", kv.f32Array([0, 1, 2]));
  assert.throws(() => tokenizerFromGguf(short), (e: unknown) => code("TOKENIZER")(e) && /has 3 entries/.test((e as Error).message));
  const unknown = new Map(base);
  unknown.set("tokenizer.ggml.model", kv.str("rwkv"));
  assert.throws(() => tokenizerFromGguf(unknown), (e: unknown) => code("UNSUPPORTED")(e) && /supported: llama, gpt2, bert/.test((e as Error).message));
  const wrongType = new Map(base);
  wrongType.set("tokenizer.ggml.tokens", kv.u32(5));
  assert.throws(() => tokenizerFromGguf(wrongType), code("TOKENIZER"));
  const dup = spmMetadata([["a", 0], ["a", 0]]);
  assert.throws(() => tokenizerFromGguf(dup), (e: unknown) => code("TOKENIZER")(e) && /duplicate/.test((e as Error).message));
  const bpe = (merges: string[], pre = "gpt-2"): Map<string, GgufKv> => new Map<string, GgufKv>([
    ["tokenizer.ggml.model", kv.str("gpt2")],
    ["tokenizer.ggml.pre", kv.str(pre)],
    ["tokenizer.ggml.tokens", kv.strArray(["a", "b", "ab"])],
    ["tokenizer.ggml.merges", kv.strArray(merges)],
  ]);
  assert.throws(() => tokenizerFromGguf(bpe(["a x"])), (e: unknown) => code("TOKENIZER")(e) && /"x"/.test((e as Error).message));
  assert.throws(() => tokenizerFromGguf(bpe(["ab"])), code("TOKENIZER"));
  assert.throws(() => tokenizerFromGguf(bpe(["a b"], "no-such-pre")), (e: unknown) => code("UNSUPPORTED")(e) && /llama-bpe/.test((e as Error).message));
  const noMerges = bpe([]);
  noMerges.delete("tokenizer.ggml.merges");
  assert.throws(() => tokenizerFromGguf(noMerges), code("TOKENIZER"));
});

test("llama2.c tokenizer from a tokenizer.bin round trip", async () => {
  const { readLlama2cTokenizer, writeLlama2cTokenizer } = await import("../formats/llama2c/tokenizer-bin.js");
  const pieces = ["<unk>", "\n<s>\n", "\n</s>\n", ...Array.from({ length: 256 }, (_, b) => hex(b)), " ", "a", " a"];
  const bin = writeLlama2cTokenizer({ pieces, scores: [0, 0, 0, ...new Array<number>(256).fill(0), -1, -2, -3] });
  const tok = createLlama2cTokenizer(readLlama2cTokenizer(bin));
  assert.deepEqual(tok.encode("aa"), [1, pieces.indexOf(" a"), pieces.indexOf("a")]);
  assert.equal(tok.decode(tok.encode("aa")), "aa");
});
