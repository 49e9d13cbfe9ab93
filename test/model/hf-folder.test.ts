/**
 * Hugging Face checkpoint folders: the same weights written as an HF folder (HF names, layouts and
 * config.json; test/fixtures/random-hf.ts) and as GGUF give bitwise equal logits in Peel (F32 weights, F32
 * KV cache, ts backend), for every family the converter maps, single-file and sharded; bad folders fail with
 * a typed error naming the file and the field or tensor. A tokenizer.json with an added token past config.json's
 * vocab_size (Gemma 3's `<image_soft_token>`) loads without it, as llama.cpp's converter drops it.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf } from "../../src/formats/gguf/write.js";
import { writeSafetensors } from "../../src/formats/safetensors/write.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { describeModel, loadModel } from "../../src/model/load.node.js";
import { createSession } from "../../src/generate/session.js";
import type { Model } from "../../src/model/model.js";
import { PeelError, type PeelErrorCode } from "../../src/util/errors.js";
import { randomLlamaMetadata, type RandomLlamaSpec } from "../fixtures/random-llama.js";
import { ggufTwinTensors, randomHfConfig, writeRandomHfFolder } from "../fixtures/random-hf.js";

const root = mkdtempSync(join(tmpdir(), "peel-hf-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const small = { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 31, contextLength: 64, outputGain: 6, layerScale: 1 } as const;
const CASES: Array<{ label: string; spec: RandomLlamaSpec; shards?: number }> = [
  { label: "llama (q/k rows permuted), GQA", spec: { ...small, architecture: "llama" } },
  { label: "llama, three shards", spec: { ...small, architecture: "llama", seed: 32 }, shards: 3 },
  { label: "qwen2 (q/k/v biases)", spec: { ...small, architecture: "qwen2" } },
  { label: "qwen3 (q/k norms, head_dim 32)", spec: { ...small, architecture: "qwen3", headDim: 32 } },
  { label: "gemma (1 + w norms, tied)", spec: { ...small, architecture: "gemma", tied: true } },
  { label: "gemma2 (post-norms, window, soft caps)", spec: { ...small, architecture: "gemma2", tied: true, slidingWindow: 4, attnSoftcap: 3, finalSoftcap: 30 } },
  { label: "gemma3_text (q/k norms, layer_types, local base)", spec: { ...small, architecture: "gemma3", nLayers: 6, slidingWindow: 4, ropeTheta: 1e6, ropeThetaLocal: 10000 } },
  { label: "phi3 (qkv_proj, gate_up_proj)", spec: { ...small, architecture: "phi3" } },
  { label: "gpt_neox (per-head q/k/v, rotary_pct 0.5, parallel residual)", spec: { ...small, architecture: "gptneox", nKvHeads: 4, ropeDims: 8 } },
  { label: "gpt_neox (sequential residual, rotary_pct 0.25), two shards", spec: { ...small, architecture: "gptneox", nKvHeads: 4, ropeDims: 4, parallelResidual: false, seed: 33 }, shards: 2 },
];
const IDS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889];

function allLogits(model: Model): Float32Array {
  const session = createSession(model, { contextLength: 64, kvType: "F32" });
  const out: number[] = [];
  for (const id of IDS) out.push(...session.evaluate([id]));
  return Float32Array.from(out);
}

for (const { label, spec, shards } of CASES) {
  test(`HF folder equals its GGUF twin bit for bit: ${label}`, async () => {
    const dir = join(root, label.replace(/[^A-Za-z0-9]+/g, "-"));
    writeRandomHfFolder(dir, spec, shards ?? 1);
    const gguf = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomLlamaMetadata(spec), tensors: ggufTwinTensors(spec) })), { backend: "ts" });
    const hf = await loadModel(dir, { backend: "ts" });
    try {
      assert.equal(hf.info.format, "hf");
      assert.deepEqual(hf.config, gguf.config, "the same config through config.json as through GGUF metadata");
      assert.equal(hf.tokenizer.vocabSize, 32000, "the folder's tokenizer.json is loaded");
      const a = allLogits(hf), b = allLogits(gguf);
      assert.equal(a.length, b.length);
      let same = 0;
      for (let i = 0; i < a.length; i++) if (Object.is(a[i], b[i])) same++;
      assert.equal(same, a.length, `${a.length - same} of ${a.length} logits differ`);
    } finally {
      await hf.dispose();
      await gguf.dispose();
    }
  });
}

async function rejects(dir: string, code: PeelErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(describeModel(dir), (e: unknown) => {
    assert.ok(e instanceof PeelError, `expected a PeelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

function folder(name: string, spec: RandomLlamaSpec = { ...small, architecture: "llama", seed: 40 }, shards = 1): string {
  const dir = join(root, name);
  writeRandomHfFolder(dir, spec, shards);
  return dir;
}

const editConfig = (dir: string, edit: (c: Record<string, unknown>) => void) => {
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  edit(c);
  writeFileSync(join(dir, "config.json"), JSON.stringify(c));
};

test("bad folders: unknown model_type lists the supported ones; a config field out of range or of the wrong type is named", async () => {
  const a = folder("bad-type");
  editConfig(a, (c) => { c["model_type"] = "mamba"; });
  await rejects(a, "UNSUPPORTED", /config\.json: model_type "mamba" is not supported; supported: llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, phi3/);
  const b = folder("bad-field");
  editConfig(b, (c) => { c["num_attention_heads"] = "four"; });
  await rejects(b, "CONFIG", /config\.json: "num_attention_heads" must be a number/);
  const c = folder("bad-range");
  editConfig(c, (cfg) => { cfg["num_key_value_heads"] = 3; });
  await rejects(c, "CONFIG", /nHeads \(4\) must be a multiple of nKvHeads \(3\)/);
  const d = folder("no-field");
  editConfig(d, (cfg) => { delete cfg["hidden_size"]; });
  await rejects(d, "CONFIG", /config\.json: missing required field "hidden_size"/);
});

test("bad folders: a missing shard, an index entry in the wrong shard, a missing file", async () => {
  const a = folder("missing-shard", undefined, 2);
  unlinkSync(join(a, "model-00002-of-00002.safetensors"));
  await rejects(a, "IO", /missing model-00002-of-00002\.safetensors \(listed in model\.safetensors\.index\.json\)/);
  const b = folder("wrong-index", undefined, 2);
  const index = JSON.parse(readFileSync(join(b, "model.safetensors.index.json"), "utf8")) as { weight_map: Record<string, string> };
  index.weight_map["model.norm.weight"] = index.weight_map["model.norm.weight"] === "model-00001-of-00002.safetensors" ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
  writeFileSync(join(b, "model.safetensors.index.json"), JSON.stringify(index));
  await rejects(b, "FORMAT", /has no tensor "model\.norm\.weight", which model\.safetensors\.index\.json places there/);
  const c = folder("no-tokenizer");
  unlinkSync(join(c, "tokenizer.json"));
  await rejects(c, "IO", /no tokenizer\.json/);
  const d = folder("no-weights");
  unlinkSync(join(d, "model.safetensors"));
  await rejects(d, "IO", /missing model\.safetensors/);
});

test("bad folders: a tensor whose shape disagrees with config.json, an unsupported dtype, an unknown tensor", async () => {
  const spec: RandomLlamaSpec = { ...small, architecture: "llama", seed: 41 };
  const a = folder("bad-shape", spec);
  editConfig(a, (c) => { c["intermediate_size"] = 96; });
  await rejects(a, "CONFIG", /tensor "blk\.0\.ffn_gate\.weight" \(HF "model\.layers\.0\.mlp\.gate_proj\.weight"\) has shape \[128, 64\], expected \[96, 64\]/);
  const b = folder("bad-dtype", spec);
  // a safetensors file by hand: one I64 tensor (Peel's writer refuses to write one)
  const header = new TextEncoder().encode(JSON.stringify({ "model.norm.weight": { dtype: "I64", shape: [1], data_offsets: [0, 8] } }));
  const file = new Uint8Array(8 + header.length + 8);
  new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
  file.set(header, 8);
  writeFileSync(join(b, "model.safetensors"), file);
  await rejects(b, "UNSUPPORTED", /tensor "model\.norm\.weight" has dtype I64; supported: F32, F16, BF16/);
  const c = folder("unknown-tensor", spec);
  writeFileSync(join(c, "model.safetensors"), writeSafetensors({ tensors: [{ name: "model.layers.0.mlp.experts.weight", dtype: "F32", shape: [2], data: new Uint8Array(8) }] }));
  await rejects(c, "CONFIG", /tensor "model\.layers\.0\.mlp\.experts\.weight" is not part of a "llama" checkpoint/);
  assert.equal(randomHfConfig(spec)["model_type"], "llama");
});

test("the llama q/k permutation is the change from HF's rotate-half to adjacent pairs: HF weights read as NeoX (qwen2) agree", async () => {
  const { randomHfTensors } = await import("../fixtures/random-hf.js");
  const spec: RandomLlamaSpec = { ...small, architecture: "llama", seed: 42 };
  const dir = folder("permute-check", spec);
  const hf = await loadModel(dir, { backend: "ts" });
  // the HF tensors unpermuted, under GGUF names, as a qwen2 file (the same block with NeoX rotary)
  const raw = randomHfTensors(spec).map((t, i) => ({ ...t, name: ggufTwinTensors(spec)[i]!.name }));
  const meta = randomLlamaMetadata({ ...spec, architecture: "qwen2", qkvBias: false });
  const asNeox = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors: raw })), { backend: "ts" });
  const asPairs = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomLlamaMetadata(spec), tensors: raw })), { backend: "ts" });
  try {
    const a = allLogits(hf), b = allLogits(asNeox), c = allLogits(asPairs);
    let dNeox = 0, dPairs = 0;
    for (let i = 0; i < a.length; i++) { dNeox = Math.max(dNeox, Math.abs(a[i]! - b[i]!)); dPairs = Math.max(dPairs, Math.abs(a[i]! - c[i]!)); }
    assert.ok(dNeox < 1e-3, `permuted llama vs unpermuted NeoX: max |Δlogit| ${dNeox} (only summation order differs)`);
    assert.ok(dPairs > 0.1, `unpermuted weights under adjacent-pair RoPE should differ, got ${dPairs}`);
  } finally {
    await hf.dispose(); await asNeox.dispose(); await asPairs.dispose();
  }
});

test("quantize while loading: a BF16 folder's matrices become Q8_0, norms stay F32, and the logits stay close", async () => {
  const spec: RandomLlamaSpec = { ...small, architecture: "qwen2", seed: 43 };
  const dir = folder("bf16-folder", spec);
  // store the folder's tensors as BF16, as most published checkpoints are
  const { readSafetensors } = await import("../../src/formats/safetensors/read.js");
  const { quantize } = await import("../../src/formats/gguf/quant/index.js");
  const file = join(dir, "model.safetensors");
  const st = await readSafetensors(bytesSource(new Uint8Array(readFileSync(file))));
  const bf16 = [...st.tensors.values()].map((t) => ({ ...t, dtype: "BF16" as const, data: quantize("BF16", new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))) }));
  writeFileSync(file, writeSafetensors({ tensors: bf16 }));
  const q = await loadModel(dir, { backend: "ts", quantize: "q8_0" });
  const plain = await loadModel(dir, { backend: "ts" });
  try {
    const w = q.transformer.weights;
    assert.equal(w.layers[0]!.wq.dtype, "Q8_0");
    assert.equal(w.tokenEmbd.dtype, "Q8_0");
    assert.equal(plain.transformer.weights.layers[0]!.wq.dtype, "BF16", "without quantize the checkpoint's own type");
    assert.ok(w.layers[0]!.qkvBias !== undefined && w.layers[0]!.attnNorm.gain instanceof Float32Array);
    const a = allLogits(q), b = allLogits(plain);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    assert.ok(d > 0 && d < 1.5, `Q8_0 vs BF16 logits (std ≈ 6): max |Δ| ${d} over 12 × 32000 logits (8-bit weights: close, not equal)`);
  } finally {
    await q.dispose(); await plain.dispose();
  }
  await assert.rejects(loadModel(dir, { backend: "ts", quantize: "q3" as "q8_0" }), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && /quantize must be one of q8_0, q4_0/.test(e.message));
});

test("an added token past config.json's vocab_size is dropped, as llama.cpp's converter drops it (Gemma 3's <image_soft_token>); a base piece past it is an error", async () => {
  const { tokenizerFromHfJson } = await import("../../src/tokenizer/hf/load-tokenizer-json.js");
  const dir = folder("added-past-table");
  const file = join(dir, "tokenizer.json");
  const original = JSON.parse(readFileSync(file, "utf8")) as { added_tokens: unknown[]; model: { vocab: Record<string, number> } };
  // Gemma 3's layout in small: 32000 embedding rows, 32000 pieces, one special added token at id 32000
  const soft = { id: 32000, content: "<image_soft_token>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  writeFileSync(file, JSON.stringify({ ...original, added_tokens: [...original.added_tokens, soft] }));
  assert.equal(tokenizerFromHfJson(JSON.parse(readFileSync(file, "utf8"))).vocabSize, 32001, "on its own the file holds 32001 tokens");
  const plain = tokenizerFromHfJson(original);
  const model = await loadModel(dir, { backend: "ts" });
  try {
    assert.equal(model.tokenizer.vocabSize, 32000, "cut to the embedding table");
    for (const text of ["Hello world, this is a test.", "  spaces\tand\nnewlines <s> 日本語 🙂"]) {
      assert.deepEqual(model.tokenize(text), plain.encode(text), text);
      assert.deepEqual(model.tokenize(text, { parseSpecial: true }), plain.encode(text, { parseSpecial: true }), text);
    }
    // the dropped token is gone, as in the GGUF llama.cpp writes: its text is plain text even when parsing specials
    const withSoft = "a <image_soft_token> b";
    const ids = model.tokenize(withSoft, { parseSpecial: true });
    assert.ok(!ids.includes(32000) && ids.length > 4, `tokenized as text: ${ids.join(" ")}`);
    assert.deepEqual(ids, plain.encode(withSoft, { parseSpecial: true }));
    assert.equal(model.detokenize(ids), withSoft);
    assert.throws(() => model.tokenizer.piece(32000), PeelError);
    assert.equal(createSession(model, { contextLength: 64, kvType: "F32" }).evaluate(ids).length, 32000, "every id has a row");
  } finally {
    await model.dispose();
  }
  // fewer tokens than rows stays as it was: the llama2 tokenizer on a 32001-row table
  const wide = folder("tokenizer-smaller-than-table", { ...small, architecture: "llama", seed: 44, vocabSize: 32001 });
  assert.equal((await describeModel(wide)).tokenizer.vocabSize, 32000);
  // a base-vocabulary piece past the table means the wrong tokenizer: an error naming the file and the numbers
  const base = folder("base-past-table");
  writeFileSync(join(base, "tokenizer.json"), JSON.stringify({ ...original, model: { ...original.model, vocab: { ...original.model.vocab, "▁zzzq": 32000 } } }));
  await rejects(base, "CONFIG", /base-past-table\/tokenizer\.json: model\.vocab has ids up to 32000 \(32001 pieces\) but config\.json's vocab_size is 32000/);
});
