// Models over 4 GiB on the wasm backend (issue 17): a Llama-3-8B-shaped Q4_K_M model with random weights
// (4.6 GiB of matrices, generated on the fly by test/fixtures/big-llama.ts: no file) loads into several
// WebAssembly memories and decodes, with the process's resident memory growing by about the weights alone
// (the loader reads each matrix straight into WebAssembly memory). That the sharded products compute the
// same numbers as one memory is src/kernels/wasm/shards.test.ts (bitwise, small model); that the fixture is
// a model llama.cpp reads the same way is checked by `npm run bench:llamacpp` on the written file.
// Runs only where the machine has the memory (CI has 24 GiB); its cost is mostly the kernel handing out
// 4.6 GiB of fresh pages (seconds on bare metal, ~40 s on a loaded VM).

import { test } from "node:test";
import assert from "node:assert/strict";
import { freemem, totalmem } from "node:os";
import { loadModelFromSource } from "../src/model/load.js";
import { nodeWorkerHost } from "../src/kernels/wasm/host.node.js";
import type { WasmKernels } from "../src/kernels/wasm/index.js";
import { createSession } from "../src/generate/session.js";
import { formatBytes } from "../src/kernels/wasm/heap.js";
import { bigLlamaSource, LLAMA3_8B } from "./fixtures/big-llama.js";

const GiB = 2 ** 30;
const NEED_TOTAL = 12 * GiB, NEED_FREE = 7 * GiB;
const skip = totalmem() < NEED_TOTAL || freemem() < NEED_FREE
  ? `needs ${formatBytes(NEED_TOTAL)} of memory with ${formatBytes(NEED_FREE)} available; this machine has ${formatBytes(totalmem())}, ${formatBytes(freemem())} available`
  : false;

test("an 8B-shaped Q4_K_M model (over 4 GiB of weights) loads across several memories and decodes", { skip, timeout: 300_000 }, async () => {
  const source = bigLlamaSource(LLAMA3_8B);
  assert.ok(source.weightBytes > 4 * GiB, `the fixture has only ${formatBytes(source.weightBytes)} of weights`);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = await loadModelFromSource(source, { threads: 2, workerHost: nodeWorkerHost });
  const loadS = (performance.now() - t0) / 1000;
  try {
    const kernels = model.transformer.kernels as WasmKernels;
    assert.ok(kernels.memories >= 3, `expected ≥ 2 weight memories, got ${kernels.memories - 1}`);
    // weights once, plus the runtime's own growth (the 128256-token vocabulary, compiled code, the KV
    // cache of 64 positions: ~100 MiB measured); held twice it would be +4.6 GiB
    const grew = process.memoryUsage().rss - rssBefore;
    assert.ok(grew < source.weightBytes + 0.5 * GiB, `resident memory grew by ${formatBytes(grew)} for ${formatBytes(source.weightBytes)} of weights`);
    const session = createSession(model, { contextLength: 64 });
    const t1 = performance.now();
    let logits = session.evaluate([1, 450, 4996, 17354]);
    const tokens: number[] = [];
    for (let i = 0; i < 2; i++) {
      assert.ok(logits.every(Number.isFinite), `step ${i}: non-finite logits`);
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
      tokens.push(best);
      logits = session.evaluate([best]);
    }
    assert.ok(logits.every(Number.isFinite));
    console.log(`# 8B Q4_K_M: ${formatBytes(source.weightBytes)} of weights in ${kernels.memories - 1} memories; load ${loadS.toFixed(1)} s, ` +
      `prefill 4 + decode 2 ${((performance.now() - t1) / 1000).toFixed(1)} s; resident +${formatBytes(grew)}; tokens ${tokens.join(",")}`);
  } finally {
    await model.dispose();
  }
});
