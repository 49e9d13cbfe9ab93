// Kernels.matmulShared (products that read one input: q/k/v, gate/up) must give each matrix exactly what
// matmul gives it. The wasm backend runs them as one pool job when the weight type and row granule allow,
// and falls back to one matmul per matrix otherwise; both paths are checked here, on 2 threads, in decode
// (1 token) and prefill (7 tokens: a partial tile), with outputs inside and outside the backend's memory.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { DType } from "../../tensor/dtype.js";
import type { Kernels, WeightMatrix } from "../kernels.js";
import { PeelError } from "../../util/errors.js";
import { createTsKernels } from "../ts/index.js";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.node.js";

function separate(k: Kernels, ws: readonly WeightMatrix[], x: Float32Array, nTokens: number): Float32Array[] {
  return ws.map((w) => {
    const out = k.allocF32(nTokens * w.rows);
    k.matmul(out, w, x, nTokens);
    return out;
  });
}

test("wasm matmulShared equals one matmul per matrix (fused and fallback paths, 2 threads)", async () => {
  const k = await createWasmKernels({ threads: 2 });
  try {
    const rng = createRng(51);
    const cases: ReadonlyArray<{ types: readonly DType[]; rows: readonly number[]; cols: number }> = [
      { types: ["Q4_0", "Q4_0", "Q4_0"], rows: [256, 64, 64], cols: 512 }, // q/k/v with GQA: fused
      { types: ["Q4_K", "Q4_K"], rows: [320, 320], cols: 512 }, // gate/up: fused
      { types: ["Q8_0", "Q8_0", "Q8_0"], rows: [128, 128, 128], cols: 256 },
      { types: ["F16", "F16"], rows: [96, 160], cols: 384 },
      { types: ["Q4_K", "Q4_K", "Q6_K"], rows: [256, 64, 64], cols: 512 }, // mixed types: one matmul each
      { types: ["Q4_0", "Q4_0"], rows: [200, 72], cols: 512 }, // rows off the 16-row granule: one matmul each
    ];
    for (const { types, rows, cols } of cases) {
      const ws = types.map((t, i) => k.prepareWeight(t, rows[i] as number, cols, randomWeights(rng, t, rows[i] as number, cols)));
      for (const nTokens of [1, 7]) {
        const x = k.allocF32(nTokens * cols);
        x.set(randomF32(rng, nTokens * cols));
        const want = separate(k, ws, x, nTokens);
        const got = ws.map((w) => k.allocF32(nTokens * w.rows));
        const before = k.workerChunks(), fused = nTokens === 7 && types[0] === "Q4_0" && rows[0] === 256;
        // the fused case runs back to back until the worker has taken a chunk: a worker asleep since the last
        // job may wake only after the main thread has finished a job this small on its own
        for (let rep = 0; rep === 0 || (fused && k.workerChunks() === before && rep < 500); rep++) k.matmulShared(got, ws, x, nTokens);
        const label = `${types.join("/")} rows ${rows.join(",")} x${nTokens}`;
        for (let i = 0; i < ws.length; i++) assert.deepEqual(got[i], want[i], `${label}: matrix ${i}`);
        if (fused) assert.ok(k.workerChunks() > before, `${label}: the worker took part`);
        const plain = ws.map((w) => new Float32Array(nTokens * w.rows)); // outputs outside wasm memory are staged
        k.matmulShared(plain, ws, Float32Array.from(x), nTokens);
        for (let i = 0; i < ws.length; i++) assert.deepEqual(plain[i], want[i], `${label}: matrix ${i}, plain arrays`);
      }
    }
  } finally {
    await k.dispose();
  }
});

test("matmulShared rejects a missing output and unequal cols, in both backends", async () => {
  const wasm = await createWasmKernels({ threads: 1 });
  try {
    for (const k of [createTsKernels(), wasm] as Kernels[]) {
      const rng = createRng(52);
      const a = k.prepareWeight("F32", 4, 32, randomWeights(rng, "F32", 4, 32));
      const b = k.prepareWeight("F32", 4, 64, randomWeights(rng, "F32", 4, 64));
      const x = k.allocF32(64), out = k.allocF32(4);
      const invalid = (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT";
      assert.throws(() => k.matmulShared([out], [a, a], x, 1), invalid, `${k.name}: one output for two matrices`);
      assert.throws(() => k.matmulShared([out, out], [a, b], x, 1), invalid, `${k.name}: cols 32 and 64`);
    }
  } finally {
    await wasm.dispose();
  }
});
