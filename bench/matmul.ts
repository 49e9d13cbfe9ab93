/**
 * Matrix-product microbenchmark of the wasm backend, one thread: GFLOP/s (2·rows·cols·nTokens per product)
 * per weight type, for one token (decode: a matrix-vector product, bound by reading the weights) and for a
 * tile of tokens (prefill). Shapes are those of the "110M" model's feed-forward (2048×768 and 768×2048).
 * Best of several timed repeats after a warm-up, timed in process CPU time (the machine may be shared).
 * Both builds of the kernels side by side where the runtime has relaxed SIMD (baseline, then relaxed, then
 * relaxed with repackWeights: false, i.e. Q4_0, Q8_0, Q4_K and Q6_K in GGUF order instead of the x4 layouts;
 * the other types are the same there; the baseline build repacks Q8_0 too). The one-matrix shapes sit in cache.
 * Not a test: prints a table.
 * Run: npx tsx bench/matmul.ts [TYPE ...]  (env PEEL_BENCH_TOKENS, default 128; PEEL_BENCH_SUBNORMAL=1: weights whose
 * block scales are f16 subnormals, test/conformance/backends.ts randomWeights, for the scale conversions' slow paths)
 */

import { createWasmKernels, type WasmKernels } from "../src/kernels/wasm/index.js";
import { enableRelaxedSimd } from "../src/kernels/wasm/host.node.js";
import type { DType } from "../src/tensor/dtype.js";
import { DTYPES } from "../src/tensor/dtype.js";
import { createRng, randomF32, randomWeights } from "../test/conformance/backends.js";
import { timeIt } from "./cpu-time.js";

const ALL: DType[] = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"];
const types = process.argv.slice(2).length > 0 ? (process.argv.slice(2) as DType[]) : ALL;
const prefillTokens = Number(process.env.PEEL_BENCH_TOKENS ?? 128);
const subnormalScales = process.env.PEEL_BENCH_SUBNORMAL === "1";
const SHAPES: ReadonlyArray<readonly [number, number]> = [[2048, 768], [768, 2048]];

const variants: Array<{ k: WasmKernels; label: string }> = [{ k: await createWasmKernels({ simd: "baseline" }), label: "baseline" }];
if (enableRelaxedSimd()) {
  variants.push({ k: await createWasmKernels({ simd: "relaxed" }), label: "relaxed" });
  variants.push({ k: await createWasmKernels({ simd: "relaxed", repackWeights: false }), label: "relaxed, no repack" });
}

console.log(`wasm matmul, 1 thread, shapes ${SHAPES.map(([r, c]) => `${r}x${c}`).join(" + ")}${subnormalScales ? ", f16-subnormal block scales" : ""}; GFLOP/s (GB/s of weights at 1 token)`);
console.log(["type", ...variants.flatMap((v) => [`${v.label}: 1 token`, `${prefillTokens} tokens`])].join("\t"));
for (const dtype of types) {
  const cells: string[] = [];
  for (const { k } of variants) for (const nTokens of [1, prefillTokens]) {
    const rng = createRng(1);
    let ms = 0, flop = 0, bytes = 0;
    for (const [rows, cols] of SHAPES) {
      const w = k.prepareWeight(dtype, rows, cols, randomWeights(rng, dtype, rows, cols, subnormalScales));
      const x = k.allocF32(nTokens * cols);
      x.set(randomF32(rng, nTokens * cols));
      const out = k.allocF32(nTokens * rows);
      ms += timeIt(() => k.matmul(out, w, x, nTokens), nTokens === 1 ? 100 : 300);
      flop += 2 * rows * cols * nTokens;
      bytes += rows * (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
    }
    const gflops = flop / (ms * 1e6);
    cells.push(nTokens === 1 ? `${gflops.toFixed(2)} (${(bytes / (ms * 1e6)).toFixed(1)} GB/s)` : gflops.toFixed(2));
  }
  console.log([dtype, ...cells].join("\t"));
}
