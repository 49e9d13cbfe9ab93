/**
 * `npx tsx bench/attention.ts`: one decode step's attention on the wasm backend (one thread), 12 heads of 64 over
 * 512 cached positions of an F16 cache (a 110M model's layer at a 512-token context), on the three paths:
 * the standard one, llama.cpp's one-row flash kernel ("vec", with its f16 running sum) and its tiled one.
 * Microseconds per call, after a warm-up. PREFILL=N times a prompt of N tokens from position 0 instead (the
 * standard path and the tiled flash kernel, which llama.cpp takes for 64 queries or more).
 */

import { createWasmKernels } from "../src/kernels/wasm/index.node.js";

const k = await createWasmKernels({ threads: 1 });
const REPS = Number(process.env.REPS ?? 400);
const nHeads = 12, headDim = 64, kvDim = 768, n = 512;
const kb = k.allocKv("F16", n + 1, kvDim), vb = k.allocKv("F16", n + 1, kvDim);
const src = k.allocF32((n + 1) * kvDim);
// pseudo-random values (a fixed linear congruential sequence, the sum of three uniforms): smooth series such as
// sin(i) put the f16 running sum on rounding ties far more often than a model's values do
let seed = 12345;
const uniform = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
for (let i = 0; i < src.length; i++) src[i] = uniform() + uniform() + uniform();
k.storeKv(kb, src, 0, n + 1); k.storeKv(vb, src, 0, n + 1);
const q = k.allocF32(nHeads * headDim);
for (let i = 0; i < q.length; i++) q[i] = uniform() + uniform() + uniform();
const out = k.allocF32(nHeads * headDim), scratch = k.allocF32(n + 2);
const only = process.env.ONLY;
const prefill = Number(process.env.PREFILL ?? 0);
if (prefill > 0) {
  const kp = k.allocKv("F16", prefill, kvDim), vp = k.allocKv("F16", prefill, kvDim);
  const rows = k.allocF32(prefill * kvDim);
  for (let i = 0; i < rows.length; i++) rows[i] = uniform() + uniform() + uniform();
  k.storeKv(kp, rows, 0, prefill); k.storeKv(vp, rows, 0, prefill);
  const qs = k.allocF32(prefill * nHeads * headDim), outs = k.allocF32(prefill * nHeads * headDim), sc = k.allocF32(prefill + 2);
  for (let i = 0; i < qs.length; i++) qs[i] = uniform() + uniform() + uniform();
  const reps = Math.max(3, Math.round(REPS * 4096 / (prefill * prefill)));
  for (const flash of [undefined, "tiled"] as const) {
    if (only !== undefined && (flash ?? "standard") !== only) continue;
    const shape = { nHeads, nKvHeads: nHeads, headDim, scale: 0.125, ...(flash !== undefined ? { flash } : {}) };
    for (let r = 0; r < 3; r++) k.attention(outs, qs, kp, vp, 0, prefill, shape, sc);
    const t0 = performance.now(), c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) k.attention(outs, qs, kp, vp, 0, prefill, shape, sc);
    const cpu = process.cpuUsage(c0);
    console.log(`${(flash ?? "standard").padEnd(9)} ${((performance.now() - t0) / reps).toFixed(2)} ms per call, ${((cpu.user + cpu.system) / reps / 1000).toFixed(2)} ms CPU (${nHeads} heads, a ${prefill}-token prompt, ${k.simd} SIMD)`);
  }
  await k.dispose();
  process.exit(0);
}
for (const flash of [undefined, "vec", "tiled"] as const) {
  if (only !== undefined && (flash ?? "standard") !== only) continue;
  const cap = Number(process.env.CAP ?? 0); // an attention soft cap (Gemma 2: 50)
  const shape = { nHeads, nKvHeads: nHeads, headDim, scale: 0.125, ...(flash !== undefined ? { flash } : {}), ...(cap > 0 ? { softcap: cap } : {}) };
  for (let r = 0; r < 50; r++) k.attention(out, q, kb, vb, n, 1, shape, scratch);
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let r = 0; r < REPS; r++) k.attention(out, q, kb, vb, n, 1, shape, scratch);
  const cpu = process.cpuUsage(c0);
  console.log(`${(flash ?? "standard").padEnd(9)} ${((performance.now() - t0) / REPS * 1000).toFixed(1)} us per call, ${((cpu.user + cpu.system) / REPS).toFixed(1)} us CPU (${nHeads} heads × ${n} keys, ${k.simd} SIMD)`);
}
await k.dispose();
