/**
 * The reference side of parity tests: llama.cpp through node-llama-cpp's prebuilt CPU binary
 * (gpu: false, build: "never"). A run says whether llama.cpp's flash attention was on (its default) or off,
 * and the Peel side of a comparison runs the same numerics (session option flashAttention).
 */

import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import type { FlashAttention } from "../../src/generate/session.js";

let llamaPromise: Promise<Llama> | undefined;

export function referenceLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
  return llamaPromise;
}

export async function loadReferenceModel(modelPath: string): Promise<LlamaModel> {
  const llama = await referenceLlama();
  return llama.loadModel({ modelPath });
}

/**
 * llama.cpp's threads per reference context. One: the test runner runs two files at once on a 2-core
 * machine, and llama.cpp's threads spin while they wait for each other, so two of them per file left the
 * cores oversubscribed (the shipped-model run took minutes). Its results do not depend on the thread count.
 */
export const REFERENCE_THREADS = 1;

/**
 * Tokens kept per distribution. Every check reads the top five (and the top two for near-ties); node-llama-cpp
 * hands back the whole vocabulary as a Map, and 33 of those over Gemma 3's 262144 pieces kept alive for a
 * whole case cost seconds of garbage collection.
 */
export const REFERENCE_TOP = 32;

export interface ReferenceRun {
  /** llama.cpp's greedy continuation of the prompt (stops early at EOS). */
  readonly greedy: number[];
  /**
   * Next-token distributions while the prompt + greedy tokens are forced in: dists[i] predicts token
   * promptLength + i, so there are greedy.length + 1 of them. Sorted, highest probability first, and only
   * the REFERENCE_TOP most probable tokens of each (the probabilities are llama.cpp's over the whole vocabulary).
   */
  readonly dists: Array<Map<number, number>>;
  /** llama.cpp's attention path for this run; Peel's side must use the same. */
  readonly flashAttention: FlashAttention;
}

/**
 * llama.cpp's greedy run and its distributions. The prompt is one batch and every greedy token its own, as
 * Peel's forced decoding feeds them: llama.cpp's kernels add in a different order for one token than for a
 * batch (ggml_vec_dot_f16 vs tinyBLAS; the one-row vs the tiled flash kernel), and Peel follows each.
 */
export async function referenceRun(model: LlamaModel, prompt: readonly number[], nGen: number, contextSize = 256,
  flashAttention: FlashAttention = "off"): Promise<ReferenceRun> {
  const flash = flashAttention === "on";
  const context = await model.createContext({ contextSize, batchSize: contextSize, flashAttention: flash, threads: REFERENCE_THREADS, sequences: 1 });
  try {
    const seq = context.getSequence();
    const greedy: number[] = [];
    const eos = model.tokens.eos;
    for await (const token of seq.evaluate([...prompt] as never[], { temperature: 0 })) {
      if (token === eos) break;
      greedy.push(token as number);
      if (greedy.length >= nGen) break;
    }
    await seq.clearHistory();
    const all = [...prompt, ...greedy];
    const next = { generateNext: { probabilities: true } };
    const batches = [prompt.length, ...greedy.map(() => 1)];
    const dists: Array<Map<number, number>> = [];
    let start = 0;
    for (const size of batches) {
      const items = all.slice(start, start + size).map((t, i) => (start + i >= prompt.length - 1 ? [t, next] : t));
      const out = await seq.controlledEvaluate(items as never);
      for (let i = Math.max(0, prompt.length - 1 - start); i < size; i++) {
        const p = out[i]?.next.probabilities;
        if (p === undefined) throw new Error(`node-llama-cpp returned no probabilities at position ${start + i}`);
        dists.push(topOf(p as Map<number, number>, REFERENCE_TOP));
      }
      start += size;
    }
    return { greedy, dists, flashAttention };
  } finally {
    await context.dispose();
  }
}

/** The first `k` entries of a Map (node-llama-cpp's are sorted, highest probability first), in order. */
function topOf(dist: ReadonlyMap<number, number>, k: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [id, p] of dist) {
    if (out.size >= k) break;
    out.set(id, p);
  }
  return out;
}

/** Peel's side of a comparison: one position's logits as probabilities, in doubles. */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) { p[i] = Math.exp((logits[i] as number) - max); sum += p[i] as number; }
  for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / sum;
  return p;
}
