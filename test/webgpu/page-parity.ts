/**
 * Browser side of the WebGPU parity test: one GGUF model (bytes from the Node side) loaded twice in the page,
 * on the ts reference and on the webgpu backend, fed the same tokens (the prompt, then llama.cpp's greedy
 * tokens one at a time, as test/parity/forced-decoding.ts does); per step it returns what the Node side needs
 * to compare with llama.cpp and with the reference: both argmaxes, both probabilities of llama.cpp's top ids,
 * and the largest logit difference.
 */

import { bytesSource } from "../../src/formats/byte-source.js";
import { createSession } from "../../src/generate/session.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import type { WebGpuKernels } from "../../src/kernels/webgpu/index.js";
import type { KvDType } from "../../src/kernels/kernels.js";
import { loadModelFromSource } from "../../src/model/load.js";

export interface ParityStep {
  readonly argmax: number;
  readonly tsArgmax: number;
  /** Probabilities of the ids asked for (llama.cpp's top five), webgpu and ts. */
  readonly probs: number[];
  readonly tsProbs: number[];
  readonly maxLogitDiff: number;
}

export interface ParityRequest {
  /** Where the page fetches the GGUF file. */
  readonly modelUrl: string;
  readonly prompt: number[];
  readonly forced: number[];
  readonly topIds: number[][];
  readonly kvType: KvDType;
  readonly flashAttention: "on" | "off";
}

function probsAt(logits: Float32Array, ids: readonly number[]): { p: number[]; argmax: number } {
  let max = -Infinity, argmax = 0;
  for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) { max = logits[i] as number; argmax = i; }
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return { p: ids.map((id) => Math.exp((logits[id] as number) - max) / sum), argmax };
}

export async function runParity(k: WebGpuKernels, req: ParityRequest): Promise<ParityStep[]> {
  const bytes = new Uint8Array(await (await fetch(req.modelUrl)).arrayBuffer());
  const [ts, gpu] = await Promise.all([
    loadModelFromSource(bytesSource(bytes), { kernels: createTsKernels() }),
    loadModelFromSource(bytesSource(bytes), { kernels: k }),
  ]);
  const opts = { contextLength: 256, kvType: req.kvType, flashAttention: req.flashAttention };
  const a = createSession(ts, opts), b = createSession(gpu, opts);
  const steps: ParityStep[] = [];
  for (let i = 0; i <= req.forced.length; i++) {
    const input = i === 0 ? req.prompt : [req.forced[i - 1] as number];
    const want = (await a.evaluateAsync(input)).slice();
    const got = await b.evaluateAsync(input);
    let diff = 0;
    for (let j = 0; j < want.length; j++) diff = Math.max(diff, Math.abs((got[j] as number) - (want[j] as number)));
    const ids = req.topIds[i] ?? [];
    const g = probsAt(got, ids), w = probsAt(want, ids);
    steps.push({ argmax: g.argmax, tsArgmax: w.argmax, probs: g.p, tsProbs: w.p, maxLogitDiff: Number.isNaN(diff) ? Infinity : diff });
  }
  return steps;
}
