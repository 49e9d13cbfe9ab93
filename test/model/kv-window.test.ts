/**
 * The sliding-window KV cache: a sliding layer keeps min(context, 2·window + batch) rows, not the whole context,
 * and moving its rows to the front as positions pass (kv-cache.ts makeRoom) changes nothing: a Gemma 3-shaped
 * model (five sliding layers of six, window 8) run over 120 positions, in prefill chunks and single steps, gives
 * bitwise the logits of the same model with full-length caches on every layer (ts and wasm backends, F32 and
 * F16 caches, flash attention on and off). A layer asked for positions that left its window says so.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf } from "../../src/formats/gguf/write.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createKvCache, kvCacheBytes, kvRows, makeRoom, type KvCache } from "../../src/model/kv-cache.js";
import { architectureChoices } from "../../src/model/choices.js";
import { createRunState } from "../../src/model/run-state.js";
import { forward } from "../../src/model/forward.js";
import { flashVariant } from "../../src/generate/session.js";
import type { KvDType } from "../../src/kernels/kernels.js";
import { PeelError } from "../../src/util/errors.js";
import { randomLlamaMetadata, randomLlamaTensors, type RandomLlamaSpec } from "../fixtures/random-llama.js";

const spec: RandomLlamaSpec = { dim: 64, hiddenDim: 128, nLayers: 6, nHeads: 2, nKvHeads: 1, weightType: "F32", tied: false, seed: 31,
  contextLength: 160, vocabSize: 512, outputGain: 6, architecture: "gemma3", slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 };
const BATCH = 16, CONTEXT = 160;
/** Prefill chunks then single steps: 16 + 16 + 5 + 1 × 83 = 120 positions, several moves of every sliding cache. */
const CALLS = [16, 16, 5, ...Array.from({ length: 83 }, () => 1)];

function fullCache(bounded: KvCache, make: (rows: number) => KvCache["layers"][number]["k"]): KvCache {
  return { ...bounded, layers: bounded.layers.map((l) => ({ k: make(CONTEXT), v: make(CONTEXT), window: l.window, start: 0 })) };
}

for (const backend of ["ts", "wasm"] as const) {
  for (const kvType of ["F32", "F16"] as const satisfies readonly KvDType[]) {
    test(`${backend} ${kvType}: a window-bounded cache gives the logits of a full one, bit for bit (flash on and off)`, async () => {
      const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomLlamaMetadata(spec), tensors: randomLlamaTensors(spec) })), { backend, threads: 1 });
      try {
        const m = model.transformer, c = model.config;
        for (const flash of ["on", "off"] as const) {
          const bounded = createKvCache(m.kernels, c, CONTEXT, kvType, BATCH);
          assert.deepEqual(bounded.layers.map((l) => l.k.seqLen), c.layerWindows.map((w) => (w > 0 ? 2 * 8 + BATCH : CONTEXT)), "rows per layer");
          const full = fullCache(bounded, (rows) => m.kernels.allocKv(kvType, rows, c.kvDim));
          const s1 = createRunState(m.kernels, c, BATCH, CONTEXT), s2 = createRunState(m.kernels, c, BATCH, CONTEXT);
          let pos = 0, id = 1;
          for (const n of CALLS) {
            const ids = Array.from({ length: n }, (_, i) => (id * 131 + i * 17) % c.vocabSize);
            const variant = flashVariant(flash, n);
            const a = forward(m, s1, bounded, ids, pos, { logits: "all", flash: variant }).slice();
            const b = forward(m, s2, full, ids, pos, { logits: "all", flash: variant });
            assert.deepEqual(a, b.slice(), `logits at positions ${pos}..${pos + n - 1} (flash ${flash})`);
            pos += n; id++;
          }
          assert.ok(bounded.layers.some((l) => l.start > 0), "the sliding caches moved");
          assert.ok(bounded.layers.every((l) => l.window > 0 || l.start === 0), "full layers never move");
        }
      } finally {
        await model.dispose();
      }
    });
  }
}

test("kvCacheBytes and peel info's kv cache row count the bounded sliding layers", async () => {
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomLlamaMetadata(spec), tensors: randomLlamaTensors(spec) })), { backend: "ts" });
  const c = model.config; // six layers, five sliding with window 8, context 160, kvDim 32
  const row = 2 * c.kvDim * 2; // a key and a value in f16
  assert.deepEqual(kvCacheBytes(c, 160, "F16", 64), { bytes: (5 * 80 + 160) * row, unbounded: 6 * 160 * row });
  const info = new Map(architectureChoices(c)).get("kv cache") ?? "";
  assert.match(info, /0\.07 MiB in F16 at the full 160-token context .*0\.12 MiB without that bound/);
  await model.dispose();
});

test("kvRows: a sliding layer holds 2·window + batch rows at most the context; a full layer the context", () => {
  assert.equal(kvRows(0, 4096, 64), 4096);
  assert.equal(kvRows(512, 4096, 64), 1088);
  assert.equal(kvRows(4096, 2048, 64), 2048);
});

test("makeRoom: positions that left a sliding layer's rows are a CONTEXT_OVERFLOW naming them; position 0 starts over", () => {
  const buf = (rows: number) => ({ dtype: "F32" as const, data: new Float32Array(rows * 2), seqLen: rows, kvDim: 2 });
  const layer = { k: buf(12), v: buf(12), window: 4, start: 0 };
  for (let p = 0; p < 30; p++) assert.equal(makeRoom(layer, p, 1), p - layer.start);
  assert.ok(layer.start > 0);
  assert.throws(() => makeRoom(layer, layer.start + 1, 1), (e: unknown) => e instanceof PeelError && e.code === "CONTEXT_OVERFLOW" && /window 4/.test(e.message));
  assert.equal(makeRoom(layer, 0, 3), 0);
  assert.equal(layer.start, 0);
});
