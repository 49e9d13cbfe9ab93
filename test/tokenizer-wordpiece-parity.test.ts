/**
 * BERT WordPiece parity with Hugging Face tokenizers (the Rust library through @anush008/tokenizers), on
 * every line of the ~1.1 MB test corpus (test/fixtures/corpus.ts), with [CLS]/[SEP] added.
 * Fixture: the bert-bge vocabulary of llama.cpp's test vectors (../shared/testdata/llama-cpp-vocab/
 * ggml-vocab-bert-bge.gguf, BAAI bge-small-en: bert-base-uncased's 30522 tokens). llama.cpp stores word
 * starts with a "▁" and continuations bare; that is turned back into BERT's vocab.txt form ("##" for
 * continuations, "[...]" specials as they are) in memory, and Peel's vocab.txt loader
 * (`wordPieceFromVocabTxt`, HF's BERT pipeline) is compared with HF's BertTokenizerFast pipeline on the
 * same tokens. Peel's GGUF path (llama.cpp's WPM semantics) is compared too: where llama.cpp and HF
 * disagree, HF's BERT pipeline is the one that reproduces Google's original BERT tokenizer, so the GGUF
 * path is held to llama.cpp's own vectors (llama-cpp-vocab.test.ts) and only reported here.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { Tokenizer as RustTokenizer } from "@anush008/tokenizers";
import { bytesSource } from "../src/formats/byte-source.js";
import { readGgufHeader } from "../src/formats/gguf/read.js";
import { tokenizerFromGguf } from "../src/tokenizer/load-gguf.js";
import { bertTokenizerJson, parseVocabTxt, wordPieceFromVocabTxt } from "../src/tokenizer/load-vocab-txt.js";
import { toWellFormed } from "../src/tokenizer/utf8.js";
import { PeelError } from "../src/util/errors.js";
import { corpusLines } from "./fixtures/corpus.js";

const GGUF = new URL("../../shared/testdata/llama-cpp-vocab/ggml-vocab-bert-bge.gguf", import.meta.url);

/** llama.cpp's phantom-space pieces back to vocab.txt tokens. */
function vocabTxtFromGgufPieces(pieces: readonly string[]): string {
  return pieces.map((p) => (p.startsWith("[") && p.endsWith("]") ? p : p.startsWith("\u2581") ? p.slice(1) : `##${p}`)).join("\n") + "\n";
}

test("bert-bge WordPiece: Peel's vocab.txt loader == HF tokenizers on every corpus line", async (t) => {
  if (!existsSync(GGUF)) return t.skip("../shared absent: ../shared/testdata/llama-cpp-vocab/ggml-vocab-bert-bge.gguf not found");
  const header = await readGgufHeader(bytesSource(new Uint8Array(readFileSync(GGUF)), "bert-bge"));
  const entry = header.metadata.get("tokenizer.ggml.tokens");
  assert.ok(entry?.type === "ARRAY" && entry.value.elementType === "STRING");
  const vocabTxt = vocabTxtFromGgufPieces(entry.value.values);
  const peel = wordPieceFromVocabTxt(vocabTxt);
  const hf = RustTokenizer.fromString(JSON.stringify(bertTokenizerJson(parseVocabTxt(vocabTxt))));
  const gguf = tokenizerFromGguf(header.metadata);
  const lines = corpusLines().map(toWellFormed);
  const want: number[][] = [];
  for (let i = 0; i < lines.length; i += 2000) {
    for (const e of await hf.encodeBatch(lines.slice(i, i + 2000), { addSpecialTokens: true })) want.push(e.getIds());
  }
  let equal = 0;
  let equalGguf = 0;
  let first = "";
  let firstGguf = "";
  lines.forEach((line, i) => {
    const w = want[i] ?? [];
    const same = (ids: number[]): boolean => ids.length === w.length && ids.every((x, k) => x === w[k]);
    const ids = peel.encode(line, { parseSpecial: true }); // HF matches added tokens ([UNK], [CLS]...) in text
    if (same(ids)) equal++;
    else if (first === "") first = `${JSON.stringify(line)}\n peel ${JSON.stringify(ids)}\n   hf ${JSON.stringify(w)}`;
    const g = gguf.encode(line);
    if (same(g)) equalGguf++;
    else if (firstGguf === "") firstGguf = `${JSON.stringify(line)}\n gguf ${JSON.stringify(g)}\n   hf ${JSON.stringify(w)}`;
  });
  t.diagnostic(`GGUF path (llama.cpp semantics) equals HF on ${equalGguf}/${lines.length} lines${firstGguf ? `; first difference: ${firstGguf}` : ""}`);
  assert.equal(equal, lines.length, first);
});

test("vocab.txt: ids are line numbers, CRLF and trailing spaces are dropped, bad files are TOKENIZER errors", () => {
  assert.deepEqual(parseVocabTxt("[PAD]\r\n[UNK]\r\n[CLS] \r\n[SEP]\r\nhello\r\n##s\r\n"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "##s"]);
  const tok = wordPieceFromVocabTxt("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##s\nworld\n!\n");
  assert.deepEqual(tok.encode("Hellos, WORLD!"), [2, 4, 5, 1, 6, 7, 3]);
  assert.deepEqual(tok.encode("hello", { addSpecial: false }), [4]);
  assert.equal(tok.decode([2, 4, 5, 6, 7, 3]), "hellos world!");
  const bad = (text: string, re: RegExp): void => {
    assert.throws(() => parseVocabTxt(text), (e: unknown) => e instanceof PeelError && e.code === "TOKENIZER" && re.test(e.message));
  };
  bad("", /empty/);
  bad("[UNK]\n[CLS]\n[SEP]\na\na\n", /token "a" appears on lines 4 and 5/);
  bad("[UNK]\n\n[CLS]\n[SEP]\n", /line 2 is empty/);
  bad("[UNK]\n[CLS]\n", /no \[SEP\] token/);
});
