/**
 * The Qwen architectures as data on the Llama graph: each choice (NeoX RoPE, q/k/v biases, per-head q/k
 * norms) is read from the file and changes the output, so a loader that dropped one would fail here as well
 * as in the llama.cpp parity suite; tensors an architecture does not have are refused by name.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf, kv } from "../../src/formats/gguf/write.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createSession } from "../../src/generate/session.js";
import { metaWith, rejectsLoad } from "../fixtures/bad-gguf.js";
import { randomLlamaMetadata, randomLlamaTensors, type RandomLlamaSpec } from "../fixtures/random-llama.js";

const small = { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 1, weightType: "F32", tied: false, seed: 9, contextLength: 32, vocabSize: 512 } as const;
const qwen2: RandomLlamaSpec = { ...small, architecture: "qwen2" };
const qwen3: RandomLlamaSpec = { ...small, architecture: "qwen3", headDim: 48 };
const PROMPT = [1, 300, 301, 302, 303, 304, 305, 306];

async function lastLogits(meta: ReturnType<typeof randomLlamaMetadata>, tensors: Tensor[]): Promise<Float32Array> {
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })));
  try {
    return Float32Array.from(createSession(model, { contextLength: 32 }).evaluate(PROMPT));
  } finally {
    await model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

test("qwen2 reads NeoX RoPE and q/k/v biases, and each changes the logits", async () => {
  const meta = randomLlamaMetadata(qwen2);
  const tensors = randomLlamaTensors(qwen2);
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })));
  assert.equal(model.config.rope?.style, "neox");
  assert.equal(model.config.biases.qkv, true);
  assert.equal(model.config.qkNorm, false);
  await model.dispose();
  const full = await lastLogits(meta, tensors);
  const zeroBias = tensors.map((t) => (t.name.endsWith(".bias") ? { ...t, data: new Uint8Array(t.data.length) } : t));
  assert.ok(maxAbsDiff(full, await lastLogits(meta, zeroBias)) > 0.1, "zeroing the q/k/v biases should move the logits");
  // the same tensors read as `llama` rotate adjacent pairs instead of NeoX halves
  const asLlama = meta.map(([k, v]): [string, typeof v] => [k.replace(/^qwen2\./, "llama."), k === "general.architecture" ? kv.str("llama") : v]);
  assert.ok(maxAbsDiff(full, await lastLogits(asLlama, tensors)) > 0.1, "NeoX vs adjacent-pair RoPE should move the logits");
});

test("qwen3 reads per-head q/k norms and a head size apart from dim / heads", async () => {
  const meta = randomLlamaMetadata(qwen3);
  const tensors = randomLlamaTensors(qwen3);
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })));
  assert.equal(model.config.headDim, 48);
  assert.equal(model.config.qkNorm, true);
  assert.equal(model.config.biases.qkv, false);
  await model.dispose();
  const full = await lastLogits(meta, tensors);
  // unit gains keep the normalization but drop its learned scale: the output must still move
  const unitGains = tensors.map((t) => (/attn_[qk]_norm/.test(t.name) ? { ...t, data: new Uint8Array(Float32Array.from({ length: 48 }, () => 1).buffer) } : t));
  assert.ok(maxAbsDiff(full, await lastLogits(meta, unitGains)) > 0.1, "the q/k norm gains should move the logits");
});

test("tensors an architecture lacks, or an incomplete bias set, are refused by name", async () => {
  // q/k norms in a qwen2 file
  const q3 = randomLlamaTensors(qwen3);
  const q3AsQwen2 = metaWith(randomLlamaMetadata(qwen3).map(([k, v]): [string, typeof v] => [k.replace(/^qwen3\./, "qwen2."), v]), "general.architecture", kv.str("qwen2"));
  await rejectsLoad(writeGguf({ metadata: q3AsQwen2, tensors: q3 }), "CONFIG", /"blk\.0\.attn_q_norm\.weight" is not part of a "qwen2" model/);
  // a qwen3 file without its norms
  await rejectsLoad(writeGguf({ metadata: randomLlamaMetadata(qwen3), tensors: q3.filter((t) => t.name !== "blk.0.attn_k_norm.weight") }), "CONFIG", /blk\.0\.attn_k_norm\.weight/);
  // q bias without k bias
  const q2 = randomLlamaTensors(qwen2).filter((t) => t.name !== "blk.0.attn_k.bias");
  await rejectsLoad(writeGguf({ metadata: randomLlamaMetadata(qwen2), tensors: q2 }), "CONFIG", /blk\.0\.attn_k\.bias/);
});

test("an unknown architecture lists every supported one", async () => {
  const meta = metaWith(randomLlamaMetadata(qwen2), "general.architecture", kv.str("mamba"));
  await rejectsLoad(writeGguf({ metadata: meta, tensors: randomLlamaTensors(qwen2) }), "UNSUPPORTED", /"mamba".*supported: llama, qwen2, qwen3, gemma, gemma2, gemma3, phi3, gptneox, gpt2/);
});
