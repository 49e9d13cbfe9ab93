/**
 * Two builds of the wasm kernels in one process: this checkout's and another's (PEEL_AB_BASE, a checkout with its
 * own src/kernels/wasm/kernels-wasm.gen.ts built, e.g. a copy of main), the same products on each, timed in
 * process CPU time in alternating rounds (A then B, then B then A, ...). On a machine shared with other work the
 * speed drifts by a quarter within minutes, so separate runs of bench/matmul.ts cannot tell a few percent apart;
 * a round's two timings see the same minute, and the median of the per-round ratios can. One thread, the shapes
 * of bench/matmul.ts (in cache), or PEEL_AB_MEM=1: 24 copies of each (tens of MB, past the caches).
 * Not a test: prints one line per type (B's speed over A's: paired median and quartiles; each side's median).
 * Run: PEEL_AB_BASE=/path/to/other npx tsx bench/matmul-ab.ts TYPE...
 *   env PEEL_AB_TOKENS (1), PEEL_AB_ROUNDS (31), PEEL_AB_SIMD (relaxed | baseline), PEEL_AB_MEM=1,
 *   PEEL_AB_SUBNORMAL=1 (f16-subnormal block scales: test/conformance/backends.ts randomWeights)
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createWasmKernels, type WasmKernels } from "../src/kernels/wasm/index.js";
import { enableRelaxedSimd } from "../src/kernels/wasm/host.node.js";
import { DTYPES, type DType } from "../src/tensor/dtype.js";
import { createRng, randomF32, randomWeights } from "../test/conformance/backends.js";
import { cpuMs } from "./cpu-time.js";

const base = process.env.PEEL_AB_BASE;
if (base === undefined) throw new Error("set PEEL_AB_BASE to another checkout (its kernels built) to compare with");
const other = (await import(pathToFileURL(join(base, "src/kernels/wasm/index.ts")).href)) as { createWasmKernels: typeof createWasmKernels };
enableRelaxedSimd();
const nTokens = Number(process.env.PEEL_AB_TOKENS ?? 1), rounds = Number(process.env.PEEL_AB_ROUNDS ?? 31);
const simd = process.env.PEEL_AB_SIMD === "baseline" ? "baseline" : "relaxed";
const mem = process.env.PEEL_AB_MEM === "1", subnormal = process.env.PEEL_AB_SUBNORMAL === "1";
const SHAPES = [[2048, 768], [768, 2048]] as const, copies = mem ? 24 : 1;
const opts = { simd, threads: 1, maxMemoryBytes: 2 ** 30 } as const;
const sides = [await other.createWasmKernels(opts), await createWasmKernels(opts)];

/** The products of one type on backend k: each shape `copies` times, the same bytes on both sides. */
function setUp(k: WasmKernels, dtype: DType): () => void {
  const rng = createRng(1);
  const mats = SHAPES.flatMap(([rows, cols]) => {
    const bytes = randomWeights(rng, dtype, rows, cols, subnormal);
    const x = k.allocF32(nTokens * cols), out = k.allocF32(nTokens * rows);
    x.set(randomF32(rng, nTokens * cols));
    return Array.from({ length: copies }, () => ({ w: k.prepareWeight(dtype, rows, cols, bytes), x, out }));
  });
  return () => { for (const m of mats) k.matmul(m.out, m.w, m.x, nTokens); };
}

const quantile = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.floor(p * (v.length - 1))] as number;
console.log(`wasm matmul A/B (A: ${base}, B: this checkout), ${simd}, 1 thread, ${nTokens} token(s)${mem ? ", from memory" : ""}${subnormal ? ", f16-subnormal scales" : ""}`);
for (const dtype of process.argv.slice(2) as DType[]) {
  const runs = sides.map((k) => setUp(k, dtype));
  let bytes = 0, flop = 0;
  for (const [rows, cols] of SHAPES) {
    bytes += copies * rows * (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
    flop += copies * 2 * rows * cols * nTokens;
  }
  const reps = Math.max(1, Math.round((nTokens === 1 ? 2e7 : 2e8) / flop));
  const ms: number[][] = [[], []];
  for (const run of runs) run(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = cpuMs();
      for (let j = 0; j < reps; j++) (runs[i] as () => void)();
      (ms[i] as number[]).push((cpuMs() - t0) / reps);
    }
  }
  const [a, b] = ms as [number[], number[]];
  const ratio = a.map((t, i) => t / (b[i] as number));
  const speed = (t: number) => nTokens === 1 ? `${(bytes / (t * 1e6)).toFixed(1)} GB/s` : `${(flop / (t * 1e6)).toFixed(1)} GFLOP/s`;
  console.log(`${dtype}: B/A ${quantile(ratio, 0.5).toFixed(3)} (quartiles ${quantile(ratio, 0.25).toFixed(3)}..${quantile(ratio, 0.75).toFixed(3)}, ` +
    `${rounds} rounds); A ${speed(quantile(a, 0.5))}, B ${speed(quantile(b, 0.5))} (medians)`);
}
for (const k of sides) await k.dispose();
