import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PeelError } from "../../util/errors.js";
import { patternFromTiktoken, tiktokenEncodingSpec } from "./encodings.js";
import { loadTiktokenFile } from "./load.node.js";
import { parseTiktokenRanks } from "./ranks.js";
import { createTiktokenTokenizer } from "./tokenizer.js";

const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");
const bytesLines = (): string[] => Array.from({ length: 256 }, (_, b) => `${b64(String.fromCharCode(b))} ${b}`);
/** The 256 bytes, then extra tokens ranked from 256 in the order given. */
const rankText = (extra: readonly string[]): string => [...bytesLines(), ...extra.map((t, i) => `${b64(t)} ${256 + i}`)].join("\n");

const tmp = mkdtempSync(join(tmpdir(), "peel-tiktoken-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const isCode = (code: string) => (e: unknown): boolean => e instanceof PeelError && e.code === code;

test("tiktoken BPE merges by token rank, any split of a token counting", () => {
  const tok = (extra: string[]) => createTiktokenTokenizer(parseTiktokenRanks(rankText(extra)), { pattern: /[a-z]+|[^a-z]+/ });
  // "ab" (256) before "bc" (257): a,b,c -> ab,c -> abc through the split ab|c.
  assert.deepEqual(tok(["ab", "bc", "abc"]).encode("xabcx"), [120, 258, 120]);
  // "bc" (256) before "ab" (257): a,b,c -> a,bc -> abc through the split a|bc.
  assert.deepEqual(tok(["bc", "ab", "abc"]).encode("zabcz"), [122, 258, 122]);
  // ties go to the leftmost pair; a piece that is a token is taken whole
  assert.deepEqual(tok(["aa"]).encode("aaa"), [256, 97]);
  assert.deepEqual(tok(["aa"]).encode("aaaa"), [256, 256]);
  assert.deepEqual(tok(["zz", "abcd"]).encode("abcd"), [257]);
});

test("tiktoken tokenizer: specials, decode, stream, surrogates", () => {
  const ranks = parseTiktokenRanks(rankText(["he", "llo", "hello"]));
  const tok = createTiktokenTokenizer(ranks, { pattern: "(?i:'s)|\\S+|\\s+", specialTokens: { "<|endoftext|>": 300 } });
  assert.equal(tok.vocabSize, 301);
  assert.equal(tok.eosId, 300);
  assert.ok(tok.isEndOfGeneration(300));
  assert.deepEqual(tok.encode("hello"), [258]);
  assert.deepEqual(tok.encode("hello<|endoftext|>", { parseSpecial: true }), [258, 300]);
  assert.equal(tok.encode("<|endoftext|>").length, 13); // ordinary text by default (tiktoken's encode_ordinary)
  assert.equal(tok.decode([258, 300]), "hello");
  assert.equal(tok.decode([258, 300], { skipSpecial: false }), "hello<|endoftext|>");
  assert.equal(tok.piece(32), "\u0120"); // shown in GPT-2's byte alphabet
  assert.throws(() => tok.decode([299]), isCode("INVALID_ARGUMENT"));
  const euro = tok.encode("€"); // three byte tokens
  assert.equal(euro.length, 3);
  const stream = tok.createDecodeStream();
  assert.deepEqual(euro.map((id) => stream.push(id)), ["", "", "€"]);
  assert.equal(stream.flush(), "");
  assert.deepEqual(tok.encode("a\uD800"), tok.encode("a\uFFFD"));
  const withOffsets = tok.encodeWithOffsets("hello €😀<|endoftext|>", { parseSpecial: true });
  assert.deepEqual(withOffsets.ids, tok.encode("hello €😀<|endoftext|>", { parseSpecial: true }));
  assert.deepEqual(withOffsets.offsets, [[0, 5], [5, 6], [6, 7], [6, 7], [6, 7], [7, 9], [7, 9], [7, 9], [7, 9], [9, 22]]);
  assert.deepEqual(tok.encodeBatch(["hello", "he"]), [[258], [256]]);
  assert.equal(tok.countTokens("hello hello"), 3);
  assert.equal(tok.decode(tok.encode("x \u0085 y")), "x \u0085 y");
});

test("patternFromTiktoken: case folding, White_Space, refusals", () => {
  const re = patternFromTiktoken("(?i:'s|'ll)|\\s+|\\S+");
  const split = (s: string): string[] => s.match(re) ?? [];
  assert.deepEqual(split("'S'ſ'lL"), ["'S", "'ſ", "'lL"]);
  assert.deepEqual(split("a\u0085b\ufeffc"), ["a", "\u0085", "b\ufeffc"]); // \s is White_Space: U+0085 yes, U+FEFF no
  assert.throws(() => patternFromTiktoken("'(?i:[sdmt]|ll|ve|re)|\\p{L}++|\\s+"), isCode("UNSUPPORTED"));
  assert.throws(() => patternFromTiktoken("(?>a)"), isCode("UNSUPPORTED"));
  assert.throws(() => patternFromTiktoken("\\p{N}{1,3}+"), isCode("UNSUPPORTED"));
  assert.doesNotThrow(() => patternFromTiktoken("\\p{N}{1,3}|a+?|\\p{L}+"));
  assert.equal(tiktokenEncodingSpec("cl100k_base").specialTokens["<|endofprompt|>"], 100276);
  assert.throws(() => tiktokenEncodingSpec("gpt5_base"), isCode("UNSUPPORTED"));
});

test("rank files: malformed input is a TOKENIZER error naming the line", () => {
  const bad: Array<[string, RegExp]> = [
    ["QQ= 0", /line 1: .*not valid base64/],
    ["!!!! 0", /not valid base64/],
    ["Q=Q= 0", /not valid base64/],
    ["QQ==", /rank is missing/],
    ["QQ== x", /rank is missing/],
    ["QQ== 0 1", /more than two fields/],
    ["QQ== 0\n\nQQ== 1", /line 3: the token "A" already has rank 0/],
    ["QQ== 0\nQg== 0", /rank 0 is already taken/],
    ["QQ== 99999999999", /too large/],
    ["\n\n", /holds no tokens/],
  ];
  for (const [text, msg] of bad) {
    assert.throws(() => parseTiktokenRanks(text), (e: unknown) => isCode("TOKENIZER")(e) && msg.test((e as Error).message), text);
  }
  assert.equal(parseTiktokenRanks("QQ==  0\r\nQg==\t1\n").rankCount, 2); // blanks and CRLF as Python's split() takes them
  const missingByte = parseTiktokenRanks(bytesLines().slice(1).join("\n"));
  assert.throws(() => createTiktokenTokenizer(missingByte, { pattern: /./ }), /single byte 0x00/);
  const ranks = parseTiktokenRanks(rankText([]));
  assert.throws(() => createTiktokenTokenizer(ranks, { pattern: /./, specialTokens: { "<x>": 65 } }), /already the rank/);
  assert.throws(() => createTiktokenTokenizer(ranks, { pattern: /./, specialTokens: { "<x>": 300, "<y>": 300 } }), /share id 300/);
});

test("loadTiktokenFile: IO errors, pattern required, built-in encodings", async () => {
  const path = join(tmp, "toy.tiktoken");
  writeFileSync(path, rankText(["ab"]));
  await assert.rejects(loadTiktokenFile(join(tmp, "absent.tiktoken"), { encodingName: "cl100k_base" }), isCode("IO"));
  await assert.rejects(loadTiktokenFile(path, {}), isCode("INVALID_ARGUMENT"));
  const tok = await loadTiktokenFile(path, { pattern: /\S+|\s+/, specialTokens: { "<|endoftext|>": 257 } });
  assert.deepEqual(tok.encode("ab a<|endoftext|>", { parseSpecial: true }), [256, 32, 97, 257]);
  const withSpec = await loadTiktokenFile(path, { encodingName: "r50k_base" });
  assert.equal(withSpec.specialTokens.get("<|endoftext|>"), 50256);
});
