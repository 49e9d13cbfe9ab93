/**
 * Each architecture choice that llama.cpp parity alone could pass by luck has a test that fails if the
 * choice is dropped: Gemma 2's soft caps, Gemma 3's local/global RoPE bases and its sliding window, Phi-3's
 * fused projections (gate rows first), GPT-NeoX's partial rotary and parallel residual. Each compares
 * Peel's logits for one file against the same weights with that one choice changed in the metadata or the
 * tensor layout: they must differ (the choice is read and used), and where the change is only a layout the
 * results must agree. Small random models (test/fixtures/random-llama.ts), ts backend, F32 KV cache.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf, kv } from "../../src/formats/gguf/write.js";
import type { GgufKv } from "../../src/formats/gguf/types.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createSession } from "../../src/generate/session.js";
import { metaWith, metaWithout } from "../fixtures/bad-gguf.js";
import { randomLlamaMetadata, randomLlamaTensors, type RandomLlamaSpec } from "../fixtures/random-llama.js";

type Meta = Array<[string, GgufKv]>;
const small = { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 2, nKvHeads: 1, weightType: "F32", tied: false, seed: 21, contextLength: 64, vocabSize: 512, outputGain: 6 } as const;
/** 24 tokens: longer than the windows below, so sliding layers mask something. */
const PROMPT = [1, ...Array.from({ length: 23 }, (_, i) => 300 + ((i * 37) % 200))];

/** Logits of every prompt position (a window only changes positions past it). */
async function logits(meta: Meta, tensors: Tensor[]): Promise<Float32Array> {
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })), { backend: "ts" });
  try {
    const session = createSession(model, { contextLength: 64 });
    const out: number[] = [];
    for (const id of PROMPT) out.push(...session.evaluate([id]));
    return Float32Array.from(out);
  } finally {
    await model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function build(spec: RandomLlamaSpec): { meta: Meta; tensors: Tensor[] } {
  return { meta: randomLlamaMetadata(spec), tensors: randomLlamaTensors(spec) };
}

test("gemma2: the final soft cap bounds every logit, and both caps change the output", async () => {
  const { meta, tensors } = build({ ...small, architecture: "gemma2", tied: true, layerScale: 1, slidingWindow: 8, attnSoftcap: 2, finalSoftcap: 4 });
  const capped = await logits(meta, tensors);
  assert.ok(capped.every((v) => Math.abs(v) <= 4), "final soft cap 4: every logit within ±4");
  const noFinal = await logits(metaWith(meta, "gemma2.final_logit_softcapping", kv.f32(1e6)), tensors);
  assert.ok(Math.max(...noFinal.map(Math.abs)) > 4.5, "without the final cap the logits exceed it");
  const noAttn = await logits(metaWith(meta, "gemma2.attn_logit_softcapping", kv.f32(1e6)), tensors);
  assert.ok(maxAbsDiff(capped, noAttn) > 1e-2, "the attention soft cap should move the logits");
});

test("gemma2 and gemma3: sliding layers see only their window, and only positions past it change", async () => {
  const spec: RandomLlamaSpec = { ...small, architecture: "gemma3", nLayers: 6, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 };
  const { meta, tensors } = build(spec);
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })), { backend: "ts" });
  assert.deepEqual(model.config.layerWindows, [8, 8, 8, 8, 8, 0], "Gemma 3: five sliding layers of six");
  await model.dispose();
  const windowed = await logits(meta, tensors);
  const full = await logits(metaWith(meta, "gemma3.attention.sliding_window", kv.u32(64)), tensors);
  const vocab = 512;
  const upTo = (a: Float32Array, n: number) => a.subarray(0, n * vocab);
  assert.equal(maxAbsDiff(upTo(windowed, 8), upTo(full, 8)), 0, "the first 8 positions see the same keys either way");
  assert.ok(maxAbsDiff(windowed, full) > 1e-2, "later positions lose keys outside the window");
  const g2 = build({ ...small, architecture: "gemma2", tied: true, layerScale: 1, slidingWindow: 8 });
  const m2 = await loadModelFromSource(bytesSource(writeGguf({ metadata: g2.meta, tensors: g2.tensors })), { backend: "ts" });
  assert.deepEqual(m2.config.layerWindows, [8, 0], "Gemma 2: even layers slide");
  await m2.dispose();
});

test("gemma3: local layers rotate with the local base, global layers with the file's", async () => {
  const { meta, tensors } = build({ ...small, architecture: "gemma3", nLayers: 6, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 });
  const split = await logits(meta, tensors);
  const oneBase = await logits(metaWith(meta, "gemma3.rope.freq_base_swa", kv.f32(1e6)), tensors);
  assert.ok(maxAbsDiff(split, oneBase) > 1e-2, "the local base should move the logits");
  // without the key, llama.cpp's local base is 10000 (not the global base)
  const implicit = await logits(metaWithout(meta, "gemma3.rope.freq_base_swa"), tensors);
  assert.equal(maxAbsDiff(split, implicit), 0);
});

test("phi3: fused q/k/v equals split q/k/v, and ffn_up holds the gate rows first", async () => {
  const spec: RandomLlamaSpec = { ...small, architecture: "phi3" };
  const { meta, tensors } = build(spec);
  const fused = await logits(meta, tensors);
  const headDim = 32, qDim = 64, kvDim = 32;
  const split: Tensor[] = tensors.flatMap((t) => {
    if (!t.name.endsWith("attn_qkv.weight")) return [t];
    const p = t.name.replace("attn_qkv.weight", "");
    const f = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    const part = (name: string, from: number, rows: number): Tensor => {
      const v = f.slice(from * 64, (from + rows) * 64);
      return { name: p + name, dtype: "F32", shape: [rows, 64], data: new Uint8Array(v.buffer) };
    };
    return [part("attn_q.weight", 0, qDim), part("attn_k.weight", qDim, kvDim), part("attn_v.weight", qDim + kvDim, kvDim)];
  });
  assert.equal(headDim * 2, qDim);
  assert.equal(maxAbsDiff(fused, await logits(meta, split)), 0, "the same rows bound either way give the same products");
  const swapped = tensors.map((t) => {
    if (!t.name.endsWith("ffn_up.weight")) return t;
    const half = t.data.length / 2;
    const d = new Uint8Array(t.data.length);
    d.set(t.data.subarray(half), 0);
    d.set(t.data.subarray(0, half), half);
    return { ...t, data: d };
  });
  assert.ok(maxAbsDiff(fused, await logits(meta, swapped)) > 1e-2, "gate and up are not interchangeable");
});

test("gptneox: partial rotary and the parallel residual each change the output", async () => {
  const spec: RandomLlamaSpec = { ...small, nKvHeads: 2, architecture: "gptneox", ropeDims: 8 };
  const { meta, tensors } = build(spec);
  const base = await logits(meta, tensors);
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: meta, tensors })), { backend: "ts" });
  assert.equal(model.config.rope?.nRot, 8);
  assert.equal(model.config.parallelResidual, true);
  await model.dispose();
  assert.ok(maxAbsDiff(base, await logits(metaWith(meta, "gptneox.rope.dimension_count", kv.u32(32)), tensors)) > 1e-2, "rotating whole heads differs");
  assert.ok(maxAbsDiff(base, await logits(metaWith(meta, "gptneox.use_parallel_residual", kv.bool(false)), tensors)) > 1e-2, "sequential blocks differ");
});

test("bad input: a missing required key, a malformed window pattern, longrope factors", async () => {
  const { rejectsLoad } = await import("../fixtures/bad-gguf.js");
  const neox = build({ ...small, nKvHeads: 2, architecture: "gptneox" });
  await rejectsLoad(writeGguf({ metadata: metaWithout(neox.meta, "gptneox.use_parallel_residual"), tensors: neox.tensors }), "CONFIG", /gptneox\.use_parallel_residual/);
  const g3 = build({ ...small, architecture: "gemma3", slidingWindow: 8 });
  const badPattern: Meta = [...g3.meta, ["gemma3.attention.sliding_window_pattern", kv.boolArray([true])]];
  await rejectsLoad(writeGguf({ metadata: badPattern, tensors: g3.tensors }), "CONFIG", /sliding_window_pattern.*2 booleans/);
  const phi = build({ ...small, architecture: "phi3" });
  const factors: Tensor = { name: "rope_factors_long.weight", dtype: "F32", shape: [16], data: new Uint8Array(64) };
  await rejectsLoad(writeGguf({ metadata: phi.meta, tensors: [...phi.tensors, factors] }), "UNSUPPORTED", /longrope/);
  // llama.cpp's gemma always ties its head: a separate output.weight is a tensor it would not read
  const gemma = build({ ...small, architecture: "gemma", tied: true });
  const head = { ...gemma.tensors.find((t) => t.name === "token_embd.weight")!, name: "output.weight" };
  await rejectsLoad(writeGguf({ metadata: gemma.meta, tensors: [...gemma.tensors, head] }), "CONFIG", /"output\.weight" is not part of a "gemma" model/);
});
