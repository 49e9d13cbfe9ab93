/**
 * `npx tsx bench/attention.ts`: one decode step's attention on the wasm backend (one thread), 12 heads of 64 over
 * 512 cached positions of an F16 cache (a 110M model's layer at a 512-token context), on the three paths:
 * the standard one, llama.cpp's one-row flash kernel ("vec", with its f16 running sum) and its tiled one.
 * Microseconds per call, after a warm-up.
 */

import { createWasmKernels } from "../src/kernels/wasm/index.node.js";

const k = await createWasmKernels({ threads: 1 });
const nHeads = 12, headDim = 64, kvDim = 768, n = 512;
const kb = k.allocKv("F16", n + 1, kvDim), vb = k.allocKv("F16", n + 1, kvDim);
const src = k.allocF32((n + 1) * kvDim);
for (let i = 0; i < src.length; i++) src[i] = Math.sin(i * 0.37);
k.storeKv(kb, src, 0, n + 1); k.storeKv(vb, src, 0, n + 1);
const q = k.allocF32(nHeads * headDim);
for (let i = 0; i < q.length; i++) q[i] = Math.cos(i * 0.11);
const out = k.allocF32(nHeads * headDim), scratch = k.allocF32(n + 2);
for (const flash of [undefined, "vec", "tiled"] as const) {
  const shape = { nHeads, nKvHeads: nHeads, headDim, scale: 0.125, ...(flash !== undefined ? { flash } : {}) };
  for (let r = 0; r < 50; r++) k.attention(out, q, kb, vb, n, 1, shape, scratch);
  const t0 = performance.now();
  for (let r = 0; r < 400; r++) k.attention(out, q, kb, vb, n, 1, shape, scratch);
  console.log(`${(flash ?? "standard").padEnd(9)} ${((performance.now() - t0) / 400 * 1000).toFixed(1)} us per call (${nHeads} heads × ${n} keys, ${k.simd} SIMD)`);
}
await k.dispose();
