/**
 * T5's biased attention on the wasm backend's own kernel (AttentionShape.positionBias), split across a pool of
 * threads by heads: every thread runs the same code on whole heads, so an encoded input and the decoder steps
 * after it give bitwise the logits of one thread; and they stay within the kernel conformance bounds of the ts
 * backend: the same greedy tokens, and logits within 3e-4 of the largest |logit| with an F32 cache (f32 sums
 * in other orders in every kernel, grown through 4 blocks and a head whose logits reach ~18: measured 9e-5,
 * and 4e-5 with the ts kernel for the biased attention, so most of it is not that kernel's), 1e-3 with an F16
 * cache (its weights round to f16, and a weight one f32 ulp apart between the backends can round to the
 * neighbouring f16: measured 1.6e-4, 1.7e-4 with the ts kernel).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { createSession } from "../../src/generate/session.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { randomT5Gguf } from "../fixtures/random-t5.js";
import { albertT5Vocab } from "../fixtures/t5-vocab.js";

const bytes = randomT5Gguf({
  dim: 64, hiddenDim: 128, encoderLayers: 2, decoderLayers: 2, nHeads: 4, headDim: 16, relBuckets: 32, contextLength: 256,
  weightType: "F32", seed: 9, flan: true, decoderStartId: 0, vocab: albertT5Vocab(),
});

async function run(backend: "ts" | 1 | 2, kvType: "F16" | "F32"): Promise<Float32Array[]> {
  const model = await loadModelFromSource(bytesSource(bytes, "t5.gguf"), backend === "ts" ? { backend: "ts" } : { kernels: await createWasmKernels({ threads: backend }) });
  try {
    const s = createSession(model, { flashAttention: "off", kvType });
    s.encode(model.tokenize(Array.from({ length: 12 }, (_, i) => `sentence ${i} runs on past the buckets.`).join(" ")));
    const out: Float32Array[] = [];
    let next = 0;
    for (let step = 0; step < 6; step++) {
      const logits = s.evaluate([next]).slice();
      out.push(logits);
      next = logits.indexOf(Math.max(...logits));
    }
    return out;
  } finally {
    await model.dispose();
  }
}

test("T5 on wasm: 2 threads give bitwise the logits of 1; both near the ts backend's", async () => {
  for (const kvType of ["F16", "F32"] as const) {
    const [one, two, ts] = [await run(1, kvType), await run(2, kvType), await run("ts", kvType)];
    one.forEach((l, i) => assert.deepEqual([...two[i]!], [...l], `${kvType} step ${i}`));
    let worst = 0;
    one.forEach((l, i) => {
      assert.equal(l.indexOf(Math.max(...l)), ts[i]!.indexOf(Math.max(...ts[i]!)), `${kvType} step ${i}: greedy token`);
      const scale = Math.max(...ts[i]!.map(Math.abs));
      for (let j = 0; j < l.length; j++) worst = Math.max(worst, Math.abs(l[j]! - ts[i]![j]!) / scale);
    });
    console.log(`# ${kvType} cache: worst |Δlogit| / max |logit| against ts ${worst.toExponential(2)}`);
    assert.ok(worst < (kvType === "F16" ? 1e-3 : 3e-4), `${kvType}: ${worst}`);
  }
});
