/**
 * GGUF `gpt2` models: the config parsed from metadata (family, sizes, tied head from the tensor table), CONFIG
 * errors that name the missing key or the tensor and both shapes, and forward-pass invariants that parity
 * with llama.cpp (test/parity/gpt2-parity.test.ts) does not isolate: prefill in chunks, one token at a time
 * and all at once give the same logits (learned positions follow startPos), and every named tap is recorded
 * with its documented shape. Models come from test/fixtures/random-gpt2.ts.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { kv, writeGguf } from "../../src/formats/gguf/write.js";
import type { GgufKv } from "../../src/formats/gguf/types.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { describeModelSource, loadModelFromSource } from "../../src/model/load.js";
import { createSession } from "../../src/generate/session.js";
import { createTrace, type TapName } from "../../src/model/trace.js";
import { PeelError, type PeelErrorCode } from "../../src/util/errors.js";
import { metaWith, metaWithout, rejectsLoad } from "../fixtures/bad-gguf.js";
import { gpt2FixtureTokenizer, randomGpt2Metadata, randomGpt2Tensors, type RandomGpt2Spec } from "../fixtures/random-gpt2.js";

const spec: RandomGpt2Spec = { dim: 64, hiddenDim: 256, nLayers: 2, nHeads: 4, contextLength: 32, weightType: "F32", tied: false, seed: 9 };
const tok = await gpt2FixtureTokenizer();
const META = randomGpt2Metadata(spec, tok);
const TENSORS = randomGpt2Tensors(spec, tok.vocab.length);

function build(meta: Array<[string, GgufKv]> = META, tensors: readonly Tensor[] = TENSORS): Uint8Array {
  return writeGguf({ metadata: meta, tensors: [...tensors] });
}

async function rejects(bytes: Uint8Array, code: PeelErrorCode, pattern: RegExp): Promise<void> {
  await rejectsLoad(bytes, code, pattern, { backend: "ts" });
}

const without = (key: string) => metaWithout(META, key);
const withValue = (key: string, value: GgufKv) => metaWith(META, key, value);
const withoutTensor = (name: string) => TENSORS.filter((t) => t.name !== name);
/** The tensor with a different leading dimension (and its bytes cut to match). */
function reshaped(name: string, rows: number): Tensor[] {
  return TENSORS.map((t) => {
    if (t.name !== name) return t;
    const rowBytes = t.data.length / (t.shape[0] as number);
    const shape = [rows, ...t.shape.slice(1)];
    return { ...t, shape, data: rows * rowBytes <= t.data.length ? t.data.subarray(0, rows * rowBytes) : new Uint8Array(rows * rowBytes) };
  });
}

test("gpt2 metadata parses into GPT-2's choices; the tensor table decides the tied head", async () => {
  const { config } = await describeModelSource(bytesSource(build()));
  assert.deepEqual(config, {
    architecture: "gpt2", dim: 64, hiddenDim: 256, nLayers: 2, nHeads: 4, nKvHeads: 4, headDim: 16, kvDim: 64,
    vocabSize: tok.vocab.length, contextLength: 32, norm: "layer", normEps: Math.fround(1e-5), postNorms: false,
    position: "learned", rope: undefined, activation: "gelu", biases: { qkv: true, attnOut: true, ffn: true }, qkNorm: false,
    parallelResidual: false, embedScale: 1, attnScale: 1 / Math.sqrt(16), attnScaleAt: "scores", attnSoftcap: undefined,
    finalSoftcap: undefined, layerWindows: [0, 0], tiedOutput: false, layout: { fusedQkv: true, fusedGateUp: false },
  });
  const tied = await describeModelSource(bytesSource(build(META, withoutTensor("output.weight"))));
  assert.equal(tied.config.tiedOutput, true);
  const gqa = await describeModelSource(bytesSource(writeGguf({
    metadata: randomGpt2Metadata({ ...spec, nKvHeads: 2 }, tok), tensors: randomGpt2Tensors({ ...spec, nKvHeads: 2 }, tok.vocab.length),
  })));
  assert.equal(gqa.config.nKvHeads, 2);
  assert.equal(gqa.config.kvDim, 32);
});

test("missing gpt2 metadata is a CONFIG error naming the key (the LayerNorm epsilon is required, as in llama.cpp)", async () => {
  for (const key of ["gpt2.context_length", "gpt2.embedding_length", "gpt2.feed_forward_length", "gpt2.block_count",
    "gpt2.attention.head_count", "gpt2.attention.layer_norm_epsilon"]) {
    await rejects(build(without(key)), "CONFIG", new RegExp(`missing required metadata key "${key.replace(/\./g, "\\.")}"`));
  }
});

test("an unsupported architecture lists every supported architecture", async () => {
  await rejects(build(withValue("general.architecture", kv.str("gptj"))), "UNSUPPORTED", /"gptj".*supported: llama, qwen2, qwen3, gemma, gemma2, gemma3, phi3, gptneox, gpt2/);
});

test("heads that do not tile dim are a CONFIG error", async () => {
  await rejects(build(withValue("gpt2.attention.head_count", kv.u32(3))), "CONFIG", /dim \(64\) must be a multiple of nHeads \(3\)/);
});

test("a missing tensor is a CONFIG error naming it and its expected shape", async () => {
  await rejects(build(META, withoutTensor("position_embd.weight")), "CONFIG", /missing required tensor "position_embd\.weight" \(expected shape \[32, 64\]\)/);
  await rejects(build(META, withoutTensor("blk.1.ffn_up.bias")), "CONFIG", /missing required tensor "blk\.1\.ffn_up\.bias" \(expected shape \[256\]\)/);
  await rejects(build(META, withoutTensor("output_norm.bias")), "CONFIG", /"output_norm\.bias"/);
  await rejects(build(META, withoutTensor("blk.0.attn_qkv.bias")), "CONFIG", /"blk\.0\.attn_qkv\.bias"/);
});

test("a tensor whose shape disagrees with the hyperparameters names the tensor and both shapes", async () => {
  await rejects(build(META, reshaped("blk.0.attn_qkv.weight", 64)), "CONFIG", /"blk\.0\.attn_qkv\.weight" has shape \[64, 64\], expected \[192, 64\]/);
  await rejects(build(META, reshaped("position_embd.weight", 16)), "CONFIG", /"position_embd\.weight" has shape \[16, 64\], expected \[32, 64\]/);
  const gqaMeta = withValue("gpt2.attention.head_count", kv.u32(4)).concat([["gpt2.attention.head_count_kv", kv.u32(2)]]);
  await rejects(build(gqaMeta), "CONFIG", /"blk\.0\.attn_qkv\.weight" has shape \[192, 64\], expected \[128, 64\]/);
});

test("logits agree whether the sequence runs at once, in chunks of 3, or one token at a time (F32 cache)", async () => {
  const model = await loadModelFromSource(bytesSource(build()), { backend: "ts" });
  const ids = model.tokenize("The old king walked home with the little dog and the fox.").slice(0, 20);
  assert.ok(ids.length >= 12);
  const V = model.config.vocabSize;
  const all = createSession(model, { kvType: "F32" }).evaluate(ids, { allLogits: true });
  const chunked = createSession(model, { kvType: "F32", batchSize: 3 }).evaluate(ids, { allLogits: true });
  assert.deepEqual([...chunked], [...all], "chunked prefill");
  const one = createSession(model, { kvType: "F32" });
  ids.forEach((id, p) => {
    const got = one.evaluate([id]);
    for (let i = 0; i < V; i++) {
      const want = all[p * V + i] as number;
      assert.ok(Math.abs((got[i] as number) - want) <= 1e-4 * Math.max(1, Math.abs(want)), `position ${p} logit ${i}: ${got[i]} vs ${want}`);
    }
  });
  // positions matter: the same token at two positions gets different logits
  const twice = createSession(model, { kvType: "F32" }).evaluate([ids[0] as number, ids[0] as number], { allLogits: true });
  assert.notDeepEqual([...twice.subarray(0, V)], [...twice.subarray(V)]);
});

test("every named tap is recorded with its documented shape", async () => {
  const model = await loadModelFromSource(bytesSource(build()), { backend: "ts" });
  const taps: TapName[] = ["embed", "attn_norm", "q", "k", "v", "attn_weights", "attn_out", "ffn_norm", "ffn_out", "resid", "output_norm", "logits"];
  const trace = createTrace(taps);
  const plain = createSession(model).evaluate([5, 9, 12]).slice();
  const traced = createSession(model).evaluate([5, 9, 12], { trace });
  assert.deepEqual([...traced], [...plain], "a traced pass gives the same logits");
  const { dim, nHeads, headDim, nKvHeads, vocabSize } = model.config;
  const shapes: Partial<Record<TapName, number[]>> = {
    embed: [3, dim], attn_norm: [3, dim], q: [3, nHeads, headDim], k: [3, nKvHeads, headDim], v: [3, nKvHeads, headDim],
    attn_weights: [3, nHeads, 3], attn_out: [3, dim], ffn_norm: [3, dim], ffn_out: [3, dim], resid: [3, dim], output_norm: [1, dim], logits: [1, vocabSize],
  };
  for (const name of taps) {
    const records = trace.records.filter((r) => r.name === name);
    assert.equal(records.length, name === "embed" || name === "output_norm" || name === "logits" ? 1 : model.config.nLayers, name);
    for (const r of records) assert.deepEqual(r.shape, shapes[name], name);
  }
});
