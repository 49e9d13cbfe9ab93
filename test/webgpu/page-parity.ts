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
import { createTrace, type TapName } from "../../src/model/trace.js";

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
  /** Tokens per forward call (default 64). */
  readonly batchSize?: number;
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
  const opts = { contextLength: 256, kvType: req.kvType, flashAttention: req.flashAttention, batchSize: req.batchSize ?? 64 };
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

export interface DeviceLostResult {
  /** The code of the error the step after the loss threw (DEVICE_LOST expected). */
  readonly code: string;
  readonly message: string;
  /** max |Δlogit| between continuing on the ts backend from the GPU session's tokens and a ts run of them. */
  readonly continuedDiff: number;
}

/**
 * A device lost mid-generation: a fresh webgpu backend evaluates the prompt and two steps, its device is
 * destroyed (as a driver reset would lose it), the next step must throw DEVICE_LOST, and the documented way on
 * (a CPU model, a new session fed the lost session's tokens) must give the CPU's own logits.
 */
export async function runDeviceLost(k: WebGpuKernels, req: ParityRequest): Promise<DeviceLostResult> {
  const bytes = new Uint8Array(await (await fetch(req.modelUrl)).arrayBuffer());
  const gpu = await loadModelFromSource(bytesSource(bytes), { kernels: k });
  const opts = { contextLength: 256, kvType: req.kvType, flashAttention: req.flashAttention };
  const lostSession = createSession(gpu, opts);
  await lostSession.evaluateAsync(req.prompt);
  for (const id of req.forced.slice(0, 2)) await lostSession.evaluateAsync([id]);
  await k.dispose?.();
  await new Promise((ok) => setTimeout(ok, 50)); // the loss is reported asynchronously
  let code = "none", message = "";
  try {
    await lostSession.evaluateAsync([req.forced[2] as number]);
  } catch (e) {
    code = String((e as { code?: unknown }).code);
    message = (e as Error).message;
  }
  const cpu = await loadModelFromSource(bytesSource(bytes), { kernels: createTsKernels() });
  const continued = await createSession(cpu, opts).evaluateAsync([...lostSession.tokens]);
  const fresh = createSession(cpu, opts);
  await fresh.evaluateAsync(req.prompt);
  let want = new Float32Array(0);
  for (const id of lostSession.tokens.slice(req.prompt.length)) want = (await fresh.evaluateAsync([id])).slice();
  let continuedDiff = 0;
  for (let i = 0; i < want.length; i++) continuedDiff = Math.max(continuedDiff, Math.abs((continued[i] as number) - (want[i] as number)));
  return { code, message, continuedDiff: want.length === continued.length ? continuedDiff : Infinity };
}

/** Per tap name, the largest |webgpu − ts| over a traced prompt (both sessions on the request's model); -1: counts differ. */
export async function runTraceDiff(k: WebGpuKernels, req: ParityRequest): Promise<Record<string, number>> {
  const bytes = new Uint8Array(await (await fetch(req.modelUrl)).arrayBuffer());
  const [ts, gpu] = await Promise.all([
    loadModelFromSource(bytesSource(bytes), { kernels: createTsKernels() }),
    loadModelFromSource(bytesSource(bytes), { kernels: k }),
  ]);
  const names: TapName[] = ["embed", "attn_norm", "q", "k", "v", "attn_weights", "attn_out", "ffn_norm", "ffn_out", "resid", "output_norm", "logits"];
  const opts = { contextLength: 256, kvType: req.kvType, flashAttention: req.flashAttention, batchSize: 4 }; // chunks: taps of every chunk
  const ta = createTrace(names), tb = createTrace(names);
  await createSession(ts, opts).evaluateAsync(req.prompt, { trace: ta });
  await createSession(gpu, opts).evaluateAsync(req.prompt, { trace: tb });
  const out: Record<string, number> = { records: ta.records.length };
  if (ta.records.length !== tb.records.length) return { ...out, mismatch: -1 };
  ta.records.forEach((r, i) => {
    const g = tb.records[i]!;
    let d = g.name === r.name && g.data.length === r.data.length ? 0 : Infinity;
    for (let j = 0; j < r.data.length && d !== Infinity; j++) d = Math.max(d, Math.abs((g.data[j] as number) - (r.data[j] as number)));
    out[r.name] = Math.max(out[r.name] ?? 0, Number.isNaN(d) ? Infinity : d);
  });
  return out;
}
