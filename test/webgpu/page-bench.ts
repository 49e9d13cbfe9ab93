/**
 * Browser side of bench/webgpu.ts: prefill and decode speed of the webgpu backend on one model, measured as
 * cli/commands/bench.ts measures the CPU backends (a fixed prompt in one call, then greedy steps), after one
 * warm-up run that compiles the pipelines.
 */

import { bytesSource } from "../../src/formats/byte-source.js";
import { createSession } from "../../src/generate/session.js";
import type { WebGpuKernels } from "../../src/kernels/webgpu/index.js";
import { loadModelFromSource } from "../../src/model/load.js";

export interface BenchRequest { readonly modelUrl: string; readonly prompt: number[]; readonly genTokens: number; readonly runs: number }
export interface BenchResult { readonly prefillTokS: number; readonly decodeTokS: number }

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if ((x[i] as number) > (x[best] as number)) best = i;
  return best;
}

export async function runBench(k: WebGpuKernels, req: BenchRequest): Promise<BenchResult> {
  const bytes = new Uint8Array(await (await fetch(req.modelUrl)).arrayBuffer());
  const model = await loadModelFromSource(bytesSource(bytes), { kernels: k });
  const session = createSession(model, { contextLength: req.prompt.length + req.genTokens, batchSize: req.prompt.length });
  let best: BenchResult = { prefillTokS: 0, decodeTokS: 0 };
  for (let run = 0; run <= req.runs; run++) { // run 0 warms up (shader compilation)
    session.reset();
    const t0 = performance.now();
    await session.evaluateAsync(req.prompt);
    const t1 = performance.now();
    let id = req.prompt[0] as number;
    for (let i = 0; i < req.genTokens; i++) id = argmax(await session.evaluateAsync([id]));
    const t2 = performance.now();
    if (run > 0) {
      best = { prefillTokS: Math.max(best.prefillTokS, req.prompt.length * 1000 / (t1 - t0)), decodeTokS: Math.max(best.decodeTokS, req.genTokens * 1000 / (t2 - t1)) };
    }
  }
  return best;
}
