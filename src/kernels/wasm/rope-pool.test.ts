// The wasm RoPE kernel rotates four pairs at a time and, for prefill-sized inputs, splits the tokens across the
// thread pool. Both must leave every element bitwise equal to the reference's one-pair-at-a-time rotation:
// both styles, a full rotation (32 pairs: the vector loop only) and a partial one (21 pairs: the vector loop and
// its scalar tail), in both builds, on 2 threads with the worker taking part. (test/conformance/kernels.test.ts
// covers the small, single-thread calls.)

import { test } from "node:test";
import assert from "node:assert/strict";
import type { RopeSpec } from "../kernels.js";
import { createTsKernels } from "../ts/index.js";
import { createRng, randomF32, RELAXED_SIMD } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.node.js";

const nTokens = 48, nHeads = 12, headDim = 64; // 36864 values: past MIN_PARALLEL_NORM, so the pool splits the tokens

for (const simd of RELAXED_SIMD ? (["baseline", "relaxed"] as const) : (["baseline"] as const)) {
  test(`wasm rope on 2 threads (${simd} build) equals the reference bit for bit`, async () => {
    const k = await createWasmKernels({ threads: 2, simd });
    const ref = createTsKernels();
    try {
      const positions = Int32Array.from({ length: nTokens }, (_, t) => 3 * t + (t % 5)); // not consecutive
      for (let pass = 0; pass < 20 && (pass === 0 || k.workerChunks() === 0); pass++) {
        for (const style of ["normal", "neox"] as const) {
          for (const nRot of [64, 42]) {
            const spec: RopeSpec = { style, nRot, invFreq: new Float32Array(nRot / 2).map((_, i) => Math.pow(10000, -2 * i / nRot)) };
            const x = randomF32(createRng(nRot + (style === "neox" ? 1 : 0)), nTokens * nHeads * headDim).map((v) => v * 40);
            const want = x.slice();
            ref.rope(want, positions, nTokens, nHeads, headDim, spec);
            const got = k.allocF32(x.length);
            got.set(x);
            k.rope(got, positions, nTokens, nHeads, headDim, spec);
            for (let i = 0; i < x.length; i++) {
              if (Object.is(got[i], want[i])) continue;
              assert.fail(`${style}, nRot ${nRot}: element ${i} (token ${Math.floor(i / (nHeads * headDim))}, dim ${i % headDim}) is ${got[i]}, the reference ${want[i]}`);
            }
          }
        }
      }
      assert.ok(k.workerChunks() > 0, "the worker took part in the rotation");
    } finally {
      await k.dispose();
    }
  });
}
