// Interventions in the forward pass: scale 1 and a patch with the stream's own values change nothing
// (bitwise); zeroing a head equals zeroing that head's columns of Wo; zeroing a feed-forward zeroes its
// ffn_out tap; a patch changes only its own and later positions; bad entries are INVALID_ARGUMENT.
// A small random Llama built in memory (test/fixtures/random-llama.ts), ts backend, F32 KV cache.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomLlamaTensors } from "../../test/fixtures/random-llama.js";
import { createTsKernels } from "../kernels/ts/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";
import { forward } from "./forward.js";
import type { Intervention } from "./intervention.js";
import { createKvCache } from "./kv-cache.js";
import { layerRopes } from "./rope.js";
import { createRunState } from "./run-state.js";
import { createTrace } from "./trace.js";
import type { Transformer } from "./transformer.js";
import { bindWeights } from "./weights.js";

const spec = { dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 64, weightType: "F32", tied: false, seed: 5 } as const;
const config: ModelConfig = {
  architecture: "llama", dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, kvDim: 16,
  vocabSize: 64, contextLength: 16, norm: "rms", normEps: 1e-5, postNorms: false, position: "rope",
  rope: { style: "normal", nRot: 8, theta: 10000, localTheta: undefined, scaling: { type: "none" } }, activation: "swiglu",
  biases: { qkv: false, attnOut: false, ffn: false }, qkNorm: false, parallelResidual: false, embedScale: 1,
  attnScale: 1 / Math.sqrt(8), attnScaleAt: "scores", attnSoftcap: undefined, finalSoftcap: undefined, layerWindows: [0, 0],
  tiedOutput: false, layout: { fusedQkv: false, fusedGateUp: false },
};

function transformer(edit?: (t: Tensor) => Tensor): Transformer {
  const kernels = createTsKernels();
  const tensors = new Map(randomLlamaTensors(spec).map((t) => [t.name, edit ? edit(t) : t]));
  const weights = bindWeights(config, tensors, kernels);
  return { config, weights, ropes: layerRopes(config, weights.ropeFreqs), kernels };
}

const m = transformer();
const IDS = [1, 5, 9, 12, 3, 7];

function run(model: Transformer, iv?: Intervention, trace?: ReturnType<typeof createTrace>): Float32Array {
  const cache = createKvCache(model.kernels, config, 16, "F32", 8);
  const state = createRunState(model.kernels, config, 8, 16);
  return forward(model, state, cache, IDS, 0, { logits: "all", trace, intervention: iv }).slice();
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((mx, v, i) => Math.max(mx, Math.abs(v - (b[i] as number))), 0);

test("scale 1 on every head and feed-forward, and an empty intervention, change nothing (bitwise)", () => {
  const plain = run(m);
  const heads = [0, 1].flatMap((layer) => [0, 1, 2, 3].map((head) => ({ layer, head, scale: 1 })));
  assert.deepEqual([...run(m, { heads, mlp: [{ layer: 0, scale: 1 }, { layer: 1, scale: 1 }] })], [...plain]);
  assert.deepEqual([...run(m, {})], [...plain]);
});

test("zeroing head 2 of layer 1 equals zeroing its columns of Wo", () => {
  const ablated = run(m, { heads: [{ layer: 1, head: 2, scale: 0 }] });
  assert.ok(maxDiff(ablated, run(m)) > 1e-3, "the head contributes");
  const cut = transformer((t) => {
    if (t.name !== "blk.1.attn_output.weight") return t;
    const w = new Float32Array(t.data.slice().buffer); // (dim, nHeads·headDim) in F32
    for (let r = 0; r < config.dim; r++) w.fill(0, r * 32 + 2 * 8, r * 32 + 3 * 8);
    return { ...t, data: new Uint8Array(w.buffer) };
  });
  assert.ok(maxDiff(ablated, run(cut)) < 1e-6, `max diff ${maxDiff(ablated, run(cut))}`);
});

test("zeroing layer 0's feed-forward zeroes its ffn_out tap and changes the logits", () => {
  const trace = createTrace(["ffn_out"]);
  const out = run(m, { mlp: [{ layer: 0, scale: 0 }] }, trace);
  assert.ok(trace.records[0]!.data.every((v) => v === 0));
  assert.ok(trace.records[1]!.data.some((v) => v !== 0), "layer 1 untouched");
  assert.ok(maxDiff(out, run(m)) > 1e-3);
});

test("a residual patch with the stream's own row changes nothing; another row changes only its position onwards", () => {
  const trace = createTrace(["resid"]);
  const plain = run(m, undefined, trace);
  const own = trace.records[0]!.data.slice(3 * 32, 4 * 32); // layer 0, position 3
  assert.deepEqual([...run(m, { resid: [{ layer: 0, pos: 3, values: own }] })], [...plain]);
  const other = trace.records[0]!.data.slice(0, 32); // position 0's row
  const patched = run(m, { resid: [{ layer: 0, pos: 3, values: other }] });
  const v = config.vocabSize;
  assert.deepEqual([...patched.subarray(0, 3 * v)], [...plain.subarray(0, 3 * v)], "earlier positions cannot see it");
  assert.ok(maxDiff(patched.subarray(3 * v), plain.subarray(3 * v)) > 1e-3);
});

test("entries outside the model are INVALID_ARGUMENT naming the problem", () => {
  const bad: Array<[Intervention, string]> = [
    [{ heads: [{ layer: 2, head: 0, scale: 0 }] }, "layer 2"],
    [{ heads: [{ layer: 0, head: 4, scale: 0 }] }, "head 4"],
    [{ heads: [{ layer: 0, head: 0, scale: Number.NaN }] }, "finite"],
    [{ mlp: [{ layer: -1, scale: 0 }] }, "layer -1"],
    [{ resid: [{ layer: 0, pos: 0, values: new Float32Array(3) }] }, "32 values"],
  ];
  for (const [iv, words] of bad) {
    assert.throws(() => run(m, iv), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(words), words);
  }
});
