/**
 * One parity case of the architecture suites (qwen-parity, families-parity): a random model written by
 * Peel's GGUF writer, loaded by llama.cpp (flashAttention: false) and by Peel on the ts and wasm backends;
 * the prompt must tokenize alike, then forced decoding of llama.cpp's 32-token greedy continuation must stay
 * within the core suite's tolerances (top-5 |Δp| ≤ 2e-3 for F32/F16; ≤ 0.08 worst and 0.02 after the prompt
 * for quantized types; equal top-1 wherever llama.cpp's top-1/top-2 gap exceeds 0.02), and Peel's own greedy
 * run must equal llama.cpp's up to the first near-tie. A run must outgrow any sliding window.
 */

import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DType } from "../../src/tensor/dtype.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { loadModel } from "../../src/model/load.node.js";
import { writeRandomLlamaGguf, type RandomLlamaSpec } from "../fixtures/random-llama.js";
import { loadReferenceModel, referenceRun } from "./llama-cpp.js";
import { forcedDecoding, greedyAgreement } from "./forced-decoding.js";

const N_GEN = 32;
const PROMPT = "Once upon a time, in a land far away,";
const NEAR_TIE = 0.02;

const BACKENDS: Record<string, () => Promise<Kernels>> = {
  ts: async () => createTsKernels(),
  wasm: () => createWasmKernels({ threads: 1 }),
};

function tolerance(t: DType): { max: number; first: number } {
  return t === "F32" || t === "F16" ? { max: 2e-3, first: 2e-3 } : { max: 0.08, first: 0.02 };
}

/** Runs one case (its model written into `dir`), one subtest per backend; logs a summary line per backend. */
export async function architectureParity(t: TestContext, dir: string, label: string, spec: RandomLlamaSpec): Promise<void> {
  const path = join(dir, `${label.replace(/[^A-Za-z0-9]+/g, "-")}.gguf`);
  writeRandomLlamaGguf(path, spec);
  const refModel = await loadReferenceModel(path);
  try {
    let ref: Awaited<ReturnType<typeof referenceRun>> | undefined;
    for (const [backend, make] of Object.entries(BACKENDS)) {
      await t.test(backend, async () => {
        const model = await loadModel(path, { kernels: await make() });
        try {
          assert.equal(model.config.architecture, spec.architecture);
          assert.deepEqual(model.tokenize(PROMPT, { addSpecial: false }), refModel.tokenize(PROMPT), "prompt tokenization differs from llama.cpp");
          const prompt = model.tokenize(PROMPT);
          ref ??= await referenceRun(refModel, prompt, N_GEN);
          assert.ok(ref.greedy.length >= 8, `llama.cpp generated only ${ref.greedy.length} tokens`);
          const window = Math.max(...model.config.layerWindows);
          if (window > 0) assert.ok(prompt.length + ref.greedy.length > window, "the run must outgrow the sliding window");
          const { diffs, meanTop1 } = forcedDecoding(model, prompt, ref, 256, NEAR_TIE);
          const worst = Math.max(...diffs);
          const tol = tolerance(spec.weightType);
          assert.ok(worst <= tol.max, `worst top-5 probability difference ${worst.toExponential(2)} > ${tol.max} (per position: ${diffs.map((d) => d.toFixed(4)).join(" ")})`);
          assert.ok((diffs[0] as number) <= tol.first, `top-5 probability difference after the prompt ${(diffs[0] as number).toExponential(2)} > ${tol.first}`);
          const compared = await greedyAgreement(model, prompt, ref, 256, NEAR_TIE);
          console.log(`# ${label} [${backend}]: ${prompt.length} prompt tokens, ${ref.greedy.length} steps, ${compared} greedy tokens equal, mean top-1 p ${meanTop1.toFixed(2)}, top-5 |Δp| worst ${worst.toExponential(1)}`);
        } finally {
          await model.dispose();
        }
      });
    }
  } finally {
    await refModel.dispose();
  }
}
