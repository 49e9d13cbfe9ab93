/**
 * The reference side of parity tests: llama.cpp through node-llama-cpp's prebuilt CPU binary
 * (gpu: false, build: "never"). Flash attention is off so llama.cpp takes the plain f16-KV path whose
 * rounding Peel's reference attention reproduces.
 */

import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";

let llamaPromise: Promise<Llama> | undefined;

export function referenceLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
  return llamaPromise;
}

export async function loadReferenceModel(modelPath: string): Promise<LlamaModel> {
  const llama = await referenceLlama();
  return llama.loadModel({ modelPath });
}

export interface ReferenceRun {
  /** llama.cpp's greedy continuation of the prompt (stops early at EOS). */
  readonly greedy: number[];
  /**
   * Next-token distributions while the prompt + greedy tokens are forced in: dists[i] predicts token
   * promptLength + i, so there are greedy.length + 1 of them. Sorted, highest probability first.
   */
  readonly dists: Array<Map<number, number>>;
}

export async function referenceRun(model: LlamaModel, prompt: readonly number[], nGen: number, contextSize = 256): Promise<ReferenceRun> {
  const context = await model.createContext({ contextSize, batchSize: contextSize, flashAttention: false, threads: 2, sequences: 1 });
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
    const items = all.map((t, i) => (i >= prompt.length - 1 ? [t, { generateNext: { probabilities: true } }] : t));
    const out = await seq.controlledEvaluate(items as never);
    const dists: Array<Map<number, number>> = [];
    for (let i = prompt.length - 1; i < all.length; i++) {
      const p = out[i]?.next.probabilities;
      if (p === undefined) throw new Error(`node-llama-cpp returned no probabilities at position ${i}`);
      dists.push(p as Map<number, number>);
    }
    return { greedy, dists };
  } finally {
    await context.dispose();
  }
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
