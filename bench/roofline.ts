/**
 * `npx tsx bench/roofline.ts`: the compute roof of WebAssembly SIMD on this CPU, one thread, and how close
 * each prefill kernel comes to it. First the peak multiply-accumulates per second of the best instruction
 * sequence for each inner product (bench/roofline/peak.ts, compiled here with AssemblyScript: f32 FMA,
 * f32 mul+add, the i16 dot, the i8×i7 dot into i32, the i8→i16→i32 pair, and the i8×i7 dot accumulated in
 * i16 that the 4-bit legacy kernels run inside a block; one operand of each step loaded from L1), then
 * every weight type's prefill product (128 tokens, the 110M model's feed-forward shapes, relaxed build) as
 * GFLOP/s and as a fraction of the roof of the instructions its kernel is built on. Process CPU time, best of
 * three, so a shared machine inflates less. Not a test.
 */

import asc from "assemblyscript/asc";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWasmKernels } from "../src/kernels/wasm/index.js";
import { enableRelaxedSimd } from "../src/kernels/wasm/host.node.js";
import type { DType } from "../src/tensor/dtype.js";
import { createRng, randomF32, randomWeights } from "../test/conformance/backends.js";
import { timeIt } from "./cpu-time.js";

if (!enableRelaxedSimd()) throw new Error("this runtime has no relaxed SIMD; the roof needs it");

const dir = mkdtempSync(join(tmpdir(), "peel-roofline-"));
const wasmPath = join(dir, "peak.wasm");
const { error, stderr } = await asc.main([
  fileURLToPath(new URL("./roofline/peak.ts", import.meta.url)), "--outFile", wasmPath, "-O3", "--noAssert", "--runtime", "stub", "--initialMemory", "1",
  "--enable", "simd", "--enable", "relaxed-simd",
]);
if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), { env: { abort: () => { throw new Error("abort"); } } });
rmSync(dir, { recursive: true, force: true });
type Peak = (buf: number, iters: number) => number;
const ex = instance.exports as unknown as Record<"f32Fma" | "f32MulAdd" | "i16Dot" | "i8DotAdd" | "i8DotI16" | "i8DotAddI16", Peak>;
const memory = (instance.exports as unknown as { memory: WebAssembly.Memory }).memory;
const BUF = 1024; // 256 bytes of operands (small integers: the i16 sums may wrap, which costs nothing)
new Uint8Array(memory.buffer, BUF, 256).fill(1);

const ITERS = 1 << 20;
const PEAKS: ReadonlyArray<readonly [keyof typeof ex, number, string]> = [
  ["f32Fma", 4, "f32x4.relaxed_madd"],
  ["f32MulAdd", 4, "f32x4.mul + f32x4.add"],
  ["i16Dot", 8, "i32x4.dot_i16x8_s + i32x4.add"],
  ["i8DotAdd", 16, "i32x4.relaxed_dot_i8x16_i7x16_add_s"],
  ["i8DotI16", 16, "i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.dot_i16x8_s + add"],
  ["i8DotAddI16", 16, "i16x8.relaxed_dot_i8x16_i7x16_s + i16x8.add"],
];
const peak = new Map<string, number>(); // GMAC/s
console.log("Roof: one thread, eight independent accumulators, one operand a step loaded from L1");
console.log("sequence\tMACs per step\tGMAC/s\tGFLOP/s");
for (const [name, macs, what] of PEAKS) {
  const f = ex[name];
  const ms = timeIt(() => { f(BUF, ITERS); }, 300);
  const gmacs = (8 * macs * ITERS) / (ms * 1e6);
  peak.set(name, gmacs);
  console.log(`${what}\t${macs}\t${gmacs.toFixed(1)}\t${(2 * gmacs).toFixed(1)}`);
}

/** Which inner product each type's prefill kernel is built on (wasm/matmul-*.ts). */
const ROOF_OF: ReadonlyArray<readonly [DType, keyof typeof ex, string]> = [
  ["F32", "f32Fma", "f32 FMA"], ["F16", "f32Fma", "f32 FMA"], ["BF16", "f32Fma", "f32 FMA"],
  ["Q4_0", "i8DotAddI16", "8-bit dot, i16 sums"], ["Q4_1", "i8DotAddI16", "8-bit dot, i16 sums"],
  ["Q5_0", "i8DotAddI16", "8-bit dot, i16 sums"], ["Q5_1", "i8DotAddI16", "8-bit dot, i16 sums"],
  // K-quant quads sum 8-bit dots in i16 before the scale's i16 dot (eight for Q4_K, four Q5_K, two Q6_K: matmul-kquant-quads.ts)
  ["Q4_K", "i8DotAddI16", "8-bit dot, i16 sums"], ["Q5_K", "i8DotAddI16", "8-bit dot, i16 sums"], ["Q6_K", "i8DotAddI16", "8-bit dot, i16 sums"],
  // Q2_K's too, four per 16-element sub-block (matmul-q2k-quads.ts)
  ["Q2_K", "i8DotAddI16", "8-bit dot, i16 sums"],
  ["Q8_0", "i16Dot", "i16 dot"], ["IQ4_NL", "i16Dot", "i16 dot"],
  // their quads multiply the scales in at repack and run the i16 dot (matmul-lowbit-quads.ts)
  ["Q3_K", "i16Dot", "i16 dot"], ["IQ4_XS", "i16Dot", "i16 dot"],
];
const only = process.argv.slice(2) as DType[];
const k = await createWasmKernels({ simd: "relaxed", threads: 1 });
const SHAPES: ReadonlyArray<readonly [number, number]> = [[2048, 768], [768, 2048]];
const nTokens = 128;
console.log(`\nPrefill: ${nTokens} tokens, shapes ${SHAPES.map(([r, c]) => `${r}x${c}`).join(" + ")}, one thread, ${k.simd} build`);
console.log("type\tkernel's roof\tGFLOP/s\tfraction of roof");
for (const [dtype, roof, label] of ROOF_OF) {
  if (only.length > 0 && !only.includes(dtype)) continue;
  const rng = createRng(1);
  let ms = 0, flop = 0;
  for (const [rows, cols] of SHAPES) {
    const w = k.prepareWeight(dtype, rows, cols, randomWeights(rng, dtype, rows, cols));
    const x = k.allocF32(nTokens * cols);
    x.set(randomF32(rng, nTokens * cols));
    const out = k.allocF32(nTokens * rows);
    ms += timeIt(() => k.matmul(out, w, x, nTokens), 300);
    flop += 2 * rows * cols * nTokens;
  }
  const gflops = flop / (ms * 1e6);
  const roofFlops = 2 * (peak.get(roof) ?? NaN);
  console.log(`${dtype}\t${label} (${roofFlops.toFixed(0)})\t${gflops.toFixed(1)}\t${(gflops / roofFlops).toFixed(2)}`);
}
await k.dispose();
