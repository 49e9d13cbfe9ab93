/**
 * The webgpu backend's speed beside the wasm backend's (`npx tsx bench/webgpu.ts`; not part of `npm run bench`,
 * which has no GPU to use): random Llama models written by Peel's GGUF writer, prefill of a 64-token prompt in
 * one call and 8 greedy decode steps, best of 1 run after a warm-up. The webgpu backend runs in headless
 * Chromium on whatever adapter it offers with --enable-unsafe-webgpu (on this machine SwiftShader, a CPU
 * emulation: its numbers show regressions in the GPU path, not GPU speed); wasm runs in Node on one thread.
 * PEEL_BENCH_WEBGPU_SHAPE=small|medium picks the model (small default: dim 256, 4 layers, vocab 4096).
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSession } from "../src/generate/session.js";
import { loadModel } from "../src/model/load.node.js";
import type { DType } from "../src/tensor/dtype.js";
import { writeRandomLlamaGguf } from "../test/fixtures/random-llama.js";
import { openWebGpuPage } from "../test/webgpu/chromium.js";
import type { BenchRequest, BenchResult } from "../test/webgpu/page-bench.js";

const SHAPES = {
  small: { dim: 256, hiddenDim: 768, nLayers: 4, nHeads: 8, nKvHeads: 4, vocabSize: 4096 },
  medium: { dim: 768, hiddenDim: 2048, nLayers: 6, nHeads: 12, nKvHeads: 12, vocabSize: 32000 },
} as const;
const TYPES: DType[] = ["F16", "Q8_0", "Q4_0", "Q4_K"];
const PROMPT = Array.from({ length: 64 }, (_, i) => 1 + ((i * 37) % 4000));
const GEN = 8, RUNS = 1;

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if ((x[i] as number) > (x[best] as number)) best = i;
  return best;
}

async function wasmBench(path: string): Promise<BenchResult> {
  const model = await loadModel(path, { backend: "wasm", threads: 1 });
  try {
    const session = createSession(model, { contextLength: PROMPT.length + GEN, batchSize: PROMPT.length });
    let best: BenchResult = { prefillTokS: 0, decodeTokS: 0 };
    for (let run = 0; run <= RUNS; run++) {
      session.reset();
      const t0 = performance.now();
      session.evaluate(PROMPT);
      const t1 = performance.now();
      let id = PROMPT[0] as number;
      for (let i = 0; i < GEN; i++) id = argmax(session.evaluate([id]));
      const t2 = performance.now();
      if (run > 0) best = { prefillTokS: Math.max(best.prefillTokS, PROMPT.length * 1000 / (t1 - t0)), decodeTokS: Math.max(best.decodeTokS, GEN * 1000 / (t2 - t1)) };
    }
    return best;
  } finally {
    await model.dispose();
  }
}

async function main(): Promise<void> {
  const shapeName = (process.env.PEEL_BENCH_WEBGPU_SHAPE ?? "small") as keyof typeof SHAPES;
  const shape = SHAPES[shapeName];
  if (shape === undefined) throw new Error(`PEEL_BENCH_WEBGPU_SHAPE must be one of ${Object.keys(SHAPES).join(", ")}`);
  const gpu = await openWebGpuPage();
  if (typeof gpu === "string") { console.log(`webgpu bench skipped: ${gpu}`); return; }
  const dir = mkdtempSync(join(tmpdir(), "peel-bench-webgpu-"));
  console.log(`WebGPU (${gpu.adapter}) beside wasm (1 thread), ${shapeName} random Llama ${JSON.stringify(shape)}; prompt ${PROMPT.length}, decode ${GEN}; tok/s, best of ${RUNS}`);
  console.log("type\twebgpu prefill\twebgpu decode\twasm prefill\twasm decode");
  try {
    for (const weightType of TYPES) {
      const path = join(dir, `${weightType}.gguf`);
      writeRandomLlamaGguf(path, { ...shape, weightType, tied: false, seed: 5, contextLength: 256 });
      gpu.serveFile(`${weightType}.gguf`, readFileSync(path));
      const req: BenchRequest = { modelUrl: `/files/${weightType}.gguf`, prompt: PROMPT, genTokens: GEN, runs: RUNS };
      const g = await gpu.page.evaluate(async (r) =>
        (globalThis as unknown as { peelWebGpu: { bench(q: BenchRequest): Promise<BenchResult> } }).peelWebGpu.bench(r), req);
      const w = await wasmBench(path);
      console.log(`${weightType}\t${g.prefillTokS.toFixed(1)}\t${g.decodeTokS.toFixed(1)}\t${w.prefillTokS.toFixed(1)}\t${w.decodeTokS.toFixed(1)}`);
    }
  } finally {
    await gpu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
