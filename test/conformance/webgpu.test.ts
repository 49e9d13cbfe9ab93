// Kernel conformance of the webgpu backend, run in headless Chromium on its software adapter (SwiftShader):
// each case runs on the GPU and on the ts reference in the same page (test/webgpu/page-conformance.ts), and
// here each worst error is held to its kernel's tolerance. Skips, printing why, without Chromium or an adapter.
// Tolerances, per kernel (error metric in brackets):
//  - matmul, every GPU weight type [|Δ| / Σ|w·x| per output]: 1e-6, as for the CPU backends: activations are
//    rounded the same way, only the f32 summation order differs;
//  - embedRows [relative]: 1e-6 (K-quant scales multiply in f32 on the GPU, in f64 in the ts dequantizer);
//  - rmsNorm, layerNorm [relative, +1e-6]: 1e-5 (f32 tree sums on the GPU, f64 sums on the CPU);
//  - element-wise [|Δ| / max(|want|, 1): relative, absolute below 1; softmax relative]: relu, addInPlace, addBias, scale,
//    geluRounded, geglu exact (same arithmetic; the same f16 table); swiglu, gelu, softcap, softmax 1e-5 (the
//    GPU's exp and tanh are not the CPU's: WGSL allows several ulp, and tanh near 0 loses relative precision);
//  - rope [relative, +1e-6]: 1e-5 (angles computed on the host in f64 as in ts; the rotation is f32 on the GPU);
//  - attention [absolute, values ~N(0,1)]: standard and "tiled" F32 4e-5 and F16 2e-3, "vec" F32 4e-5 and F16 4e-3:
//    the CPU backends' bounds (test/conformance/kernels.test.ts explains each), the GPU's exp included;
//  - the probs tap [absolute]: 1e-6.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openWebGpuPage } from "../webgpu/chromium.js";
import type { CaseResult } from "../webgpu/page-conformance.js";

function tolerance(kernel: string): number {
  if (kernel === "matmul" || kernel === "embedRows") return 1e-6;
  if (["relu", "addInPlace", "addBias", "scale", "geluRounded", "geglu"].includes(kernel)) return 0;
  if (kernel.startsWith("attention probs")) return 1e-6;
  if (kernel.startsWith("attention")) {
    if (kernel.endsWith("F32")) return 4e-5;
    return kernel.includes("vec") ? 4e-3 : 2e-3;
  }
  return 1e-5;
}

test("webgpu: kernel conformance on Chromium's software adapter", async (t) => {
  const gpu = await openWebGpuPage();
  if (typeof gpu === "string") { t.skip(gpu); console.log(`# webgpu conformance skipped: ${gpu}`); return; }
  try {
    console.log(`# webgpu adapter: ${gpu.adapter}`);
    const results = await gpu.page.evaluate(async () =>
      (globalThis as unknown as { peelWebGpu: { conformance(): Promise<CaseResult[]> } }).peelWebGpu.conformance());
    const worst = new Map<string, number>();
    for (const r of results) worst.set(r.kernel, Math.max(worst.get(r.kernel) ?? 0, r.err));
    console.log(`# webgpu worst errors: ${[...worst].map(([k, e]) => `${k} ${e.toExponential(1)}`).join(", ")}`);
    const failed = results.filter((r) => !(r.err <= tolerance(r.kernel)));
    assert.deepEqual(failed.map((r) => `${r.kernel} ${r.what}: ${r.err.toExponential(2)} > ${tolerance(r.kernel)}`), []);
    assert.ok(results.length > 100, `only ${results.length} cases ran`);
  } finally {
    await gpu.close();
  }
});
