// Weight shards (shards.ts): a small model forced across several WebAssembly memories gives bitwise the
// logits of the one-memory backend, on 1 and 2 threads (every product then runs in another memory's kernels
// instance, its input staged in and its output copied back, so any mix-up of memories, offsets or scratch
// shows as a different logit); weights read by the loader land in the shards without a second copy; and the
// limits are errors that name the sizes. The >4 GiB model itself is test/bigmem.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createWasmKernels } from "./index.node.js";
import { loadModelFromSource } from "../../model/load.js";
import { bytesSource } from "../../formats/byte-source.js";
import { createSession } from "../../generate/session.js";
import { PeelError } from "../../util/errors.js";
import { randomLlamaGguf } from "../../../test/fixtures/random-llama.js";
import type { WasmKernelsOptions } from "./index.js";

// Q4_K blocks with a Q6_K head and a Q8_0 embedding table (a Q4_K_M-like mix of kernels); big enough that
// a 16-token prefill and the decode products split across 2 threads (≥ 2^17 multiply-adds)
const gguf = randomLlamaGguf({ dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 2048, contextLength: 64,
  weightType: "Q4_K", outputType: "Q6_K", embdType: "Q8_0", tied: false, seed: 11, layerScale: 0.5 });
// 1.5 MiB memories: after the kernels' static data (320 KiB) and the scratch reserve (384 KiB), each holds
// 832 KiB of weights, so the ~1.65 MiB of weights spread over 3 memories (no matrix is split)
const SHARDED: WasmKernelsOptions = { weightBytes: 1 << 21, shardBytes: 3 << 19 };

async function logitsOf(opts: WasmKernelsOptions): Promise<{ all: Float32Array[]; memories: number; workerChunks: number }> {
  const kernels = await createWasmKernels(opts);
  try {
    const model = await loadModelFromSource(bytesSource(gguf), { kernels });
    const session = createSession(model, { contextLength: 64, batchSize: 16 });
    const prompt = Array.from({ length: 16 }, (_, i) => 3 + ((i * 7919) % 2000));
    const all = [session.evaluate(prompt, { allLogits: true }).slice()];
    for (const id of [5, 17, 99]) all.push(session.evaluate([id]).slice());
    return { all, memories: kernels.memories, workerChunks: kernels.workerChunks() };
  } finally {
    await kernels.dispose();
  }
}

function assertBitwise(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    assert.equal(x.length, y.length);
    const diff = x.findIndex((v, j) => !Object.is(v, y[j]));
    assert.equal(diff, -1, `${what}, step ${i}: logit ${diff} differs (${x[diff]} vs ${y[diff]})`);
  }
}

test("a model spread over several memories gives bitwise the logits of one memory (1 and 2 threads)", { timeout: 60_000 }, async () => {
  const one = await logitsOf({ threads: 1 });
  assert.equal(one.memories, 1);
  const sharded = await logitsOf({ threads: 1, ...SHARDED });
  assert.ok(sharded.memories >= 4, `expected the weights spread over ≥ 3 weight memories, got ${sharded.memories - 1}`);
  assertBitwise(one.all, sharded.all, "sharded, 1 thread");
  const two = await logitsOf({ threads: 2, ...SHARDED });
  assert.ok(two.workerChunks > 0, "the worker never took a chunk");
  assertBitwise(one.all, two.all, "sharded, 2 threads");
});

test("matrices are read straight into the weight memories, and the primary keeps none", async () => {
  const kernels = await createWasmKernels({ threads: 1, ...SHARDED });
  try {
    const before = kernels.heap.usedBytes();
    const model = await loadModelFromSource(bytesSource(gguf), { kernels });
    const w = model.transformer.weights.layers[0]!.wq;
    assert.equal(kernels.heap.offsetOf(w.data), -1, "a weight landed in the primary memory");
    // the primary grew only by activations and the KV cache, not by the ~1.3 MiB of weights
    assert.ok(kernels.heap.usedBytes() - before < 1 << 20, `primary grew by ${kernels.heap.usedBytes() - before} bytes`);
  } finally {
    await kernels.dispose();
  }
});

test("weights beyond every memory the backend may create are UNSUPPORTED, naming the sizes", async () => {
  await assert.rejects(createWasmKernels({ threads: 1, weightBytes: 80 * 2 ** 30 }), (e: unknown) => e instanceof PeelError &&
    e.code === "UNSUPPORTED" && /80\.00 GiB of weights/.test(e.message) && /at most 15/.test(e.message));
  // 1 MiB memories hold 448 KiB of weights each: 400 KiB plans one memory plus the spare
  const kernels = await createWasmKernels({ threads: 1, weightBytes: 400 << 10, shardBytes: 1 << 20 });
  try {
    assert.equal(kernels.memories, 3);
    kernels.allocWeightBytes(400 << 10, "matrix A");
    kernels.allocWeightBytes(400 << 10, "matrix B");
    assert.throws(() => kernels.allocWeightBytes(400 << 10, "matrix C"), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
      /need at least 1\.2 MiB \(819200 bytes loaded, plus matrix C of 409600 bytes/.test(e.message) && /at most 458752 bytes each/.test(e.message));
    const reserve = kernels.reserveWeights?.bind(kernels);
    assert.ok(reserve);
    assert.throws(() => reserve(4 << 20, "a 4 MiB model"), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
      /a 4 MiB model has 4\.0 MiB of weights/.test(e.message) && /the limit is 917504 bytes in this backend's 2 weight memories/.test(e.message));
  } finally {
    await kernels.dispose();
  }
});

test("a model with more weights than the machine has memory is refused before anything is read", async () => {
  await assert.rejects(loadModelFromSource(bytesSource(gguf), { memoryBytes: 1 << 20, threads: 1 }), (e: unknown) => e instanceof PeelError &&
    e.code === "UNSUPPORTED" && /has 1\.\d+ MiB of weights and this machine has 1\.0 MiB of memory/.test(e.message));
});
