/**
 * Bad model files and bad requests surface as typed PeelErrors whose message names the problem:
 * missing or inconsistent metadata, wrong tensor shapes, unsupported architectures, corrupt containers,
 * and prompts longer than the context.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf, kv } from "../../src/formats/gguf/write.js";
import type { GgufKv } from "../../src/formats/gguf/types.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { generate } from "../../src/generate/generate.js";
import { PeelError, type PeelErrorCode } from "../../src/util/errors.js";
import { metaWith, metaWithout, rejectsLoad } from "../fixtures/bad-gguf.js";
import { randomLlamaMetadata, randomLlamaTensors, type RandomLlamaSpec } from "../fixtures/random-llama.js";

const spec: RandomLlamaSpec = { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 2, weightType: "F32", tied: true, seed: 5, contextLength: 16 };
const META = randomLlamaMetadata(spec);
const TENSORS = randomLlamaTensors(spec);

function build(meta: Array<[string, GgufKv]> = META, tensors: Tensor[] = TENSORS): Uint8Array {
  return writeGguf({ metadata: meta, tensors });
}

async function rejects(bytes: Uint8Array, code: PeelErrorCode, pattern: RegExp): Promise<void> {
  await rejectsLoad(bytes, code, pattern);
}

const without = (key: string) => metaWithout(META, key);
const withValue = (key: string, value: GgufKv) => metaWith(META, key, value);

test("missing required metadata names the key", async () => {
  await rejects(build(without("llama.embedding_length")), "CONFIG", /llama\.embedding_length/);
  await rejects(build(without("llama.block_count")), "CONFIG", /llama\.block_count/);
  await rejects(build(without("general.architecture")), "CONFIG", /general\.architecture/);
});

test("an architecture Peel does not run is UNSUPPORTED and lists the supported ones", async () => {
  await rejects(build(withValue("general.architecture", kv.str("mamba"))), "UNSUPPORTED", /"mamba".*supported: llama/);
});

test("metadata of the wrong type is a CONFIG error naming the key", async () => {
  await rejects(build(withValue("llama.block_count", kv.str("one"))), "CONFIG", /llama\.block_count/);
});

test("hyperparameters that do not fit together are rejected", async () => {
  await rejects(build(withValue("llama.attention.head_count_kv", kv.u32(3))), "CONFIG", /nHeads \(2\) must be a multiple of nKvHeads \(3\)/);
  await rejects(build(withValue("llama.attention.head_count", kv.u32(3))), "CONFIG", /headDim/);
});

test("a tensor whose shape disagrees with the hyperparameters names the tensor and both shapes", async () => {
  const tensors = TENSORS.map((t) => (t.name === "blk.0.attn_q.weight" ? { ...t, shape: [32, 128], data: t.data.subarray(0, 32 * 128 * 4) } : t));
  await rejects(build(META, tensors), "CONFIG", /"blk\.0\.attn_q\.weight" has shape \[32, 128\], expected \[64, 64\]/);
});

test("a missing tensor is named", async () => {
  await rejects(build(META, TENSORS.filter((t) => t.name !== "blk.0.ffn_up.weight")), "CONFIG", /blk\.0\.ffn_up\.weight/);
});

test("corrupt containers: wrong magic, unknown version, truncation", async () => {
  const good = build();
  const zip = good.slice(); zip.set([0x50, 0x4b, 0x03, 0x04], 0);
  await rejects(zip, "FORMAT", /not a model file Peel can read.*"PK\\x03\\x04".*zip/);
  const v9 = good.slice(); v9[4] = 9;
  await rejects(v9, "UNSUPPORTED", /version 9/);
  await rejects(good.subarray(0, good.length - 100), "FORMAT", /past the end|truncated|end of (the )?file/i);
  await rejects(good.subarray(0, 40), "FORMAT", /tensor count .* header is corrupt/);
});

test("a prompt longer than the context is CONTEXT_OVERFLOW with both numbers", async () => {
  const model = await loadModelFromSource(bytesSource(build()));
  const prompt = Array.from({ length: 20 }, (_, i) => 100 + i);
  assert.throws(() => generate(model, prompt), (e: unknown) => e instanceof PeelError && e.code === "CONTEXT_OVERFLOW" && /20 tokens/.test(e.message) && /16/.test(e.message));
});

test("a model larger than the wasm backend's memory names the model's weight size and the limit", async () => {
  const { createWasmKernels } = await import("../../src/kernels/wasm/index.js");
  const kernels = await createWasmKernels({ threads: 1, maxMemoryBytes: 1 << 20 }); // a 1 MiB "address space"
  try {
    await assert.rejects(loadModelFromSource(bytesSource(build(), "big.gguf"), { kernels }), (e: unknown) =>
      e instanceof PeelError && e.code === "UNSUPPORTED" && /big\.gguf\) has 8\.\d+ MiB of weights/.test(e.message) && /limit is 1\.0 MiB/.test(e.message));
  } finally {
    await kernels.dispose?.();
  }
});
