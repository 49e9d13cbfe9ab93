// Named taps: a pass that records every tap gives the same logits as one without; each tap has its
// documented shape; attention-weight rows sum to 1; an empty trace records nothing. The model is a small
// random Llama built in memory (test/fixtures/random-llama.ts, vocabulary of 64, no tokenizer needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomLlamaTensors } from "../../test/fixtures/random-llama.js";
import { createTsKernels } from "../kernels/ts/index.js";
import type { ModelConfig } from "./config.js";
import { forward } from "./forward.js";
import { createKvCache } from "./kv-cache.js";
import { layerRopes } from "./rope.js";
import { createRunState } from "./run-state.js";
import { createTrace, type TapName } from "./trace.js";
import type { Transformer } from "./transformer.js";
import { bindWeights } from "./weights.js";

const spec = { dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 64, weightType: "F32", tied: false, seed: 3 } as const;
const config: ModelConfig = {
  architecture: "llama", dim: 32, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, kvDim: 16,
  vocabSize: 64, contextLength: 16, norm: "rms", normEps: 1e-5, postNorms: false, position: "rope",
  rope: { style: "normal", nRot: 8, theta: 10000, localTheta: undefined, scaling: { type: "none" } }, activation: "swiglu",
  biases: { qkv: false, attnOut: false, ffn: false }, qkNorm: false, parallelResidual: false, embedScale: 1,
  attnScale: 1 / Math.sqrt(8), attnScaleAt: "scores", attnSoftcap: undefined, finalSoftcap: undefined, layerWindows: [0, 0],
  tiedOutput: false, layout: { fusedQkv: false, fusedGateUp: false },
};

function transformer(): Transformer {
  const kernels = createTsKernels();
  const tensors = new Map(randomLlamaTensors(spec).map((t) => [t.name, t]));
  const weights = bindWeights(config, tensors, kernels);
  return { config, weights, ropes: layerRopes(config, weights.ropeFreqs), kernels };
}

const ALL_TAPS: TapName[] = ["embed", "attn_norm", "q", "k", "v", "attn_weights", "attn_out", "ffn_norm", "ffn_out", "resid", "output_norm", "logits"];
const m = transformer();

/** Runs `chunks` of ids through a fresh cache, returning all logits of the last chunk. */
function runChunks(chunks: number[][], trace?: ReturnType<typeof createTrace>): Float32Array {
  const cache = createKvCache(m.kernels, config, 16, "F32", 8);
  const state = createRunState(m.kernels, config, 8, 16);
  let pos = 0;
  let logits = new Float32Array(0);
  for (const ids of chunks) {
    logits = forward(m, state, cache, ids, pos, { logits: "all", trace }).slice();
    pos += ids.length;
  }
  return logits;
}

test("a pass that records every tap gives the same logits as one with no trace", () => {
  const chunks = [[1, 5, 9], [12, 3]];
  const plain = runChunks(chunks);
  const trace = createTrace(ALL_TAPS);
  const traced = runChunks(chunks, trace);
  assert.deepEqual([...traced], [...plain]);
  const lastLogits = trace.records.filter((r) => r.name === "logits").at(-1)!;
  assert.deepEqual([...lastLogits.data], [...plain], "the logits tap is the returned logits");
});

test("taps have their documented shapes, layers and start positions", () => {
  const trace = createTrace(ALL_TAPS);
  runChunks([[1, 5, 9], [12, 3]], trace);
  const { dim, nHeads, nKvHeads, headDim, vocabSize, nLayers } = config;
  const shapes = (startPos: number, n: number): Partial<Record<TapName, number[]>> => ({
    embed: [n, dim], attn_norm: [n, dim], q: [n, nHeads, headDim], k: [n, nKvHeads, headDim], v: [n, nKvHeads, headDim],
    attn_weights: [n, nHeads, startPos + n], attn_out: [n, dim], ffn_norm: [n, dim], ffn_out: [n, dim], resid: [n, dim],
    output_norm: [n, dim], logits: [n, vocabSize],
  });
  const perLayer = ALL_TAPS.filter((t) => !["embed", "output_norm", "logits"].includes(t));
  assert.equal(trace.records.length, 2 * (3 + perLayer.length * nLayers));
  for (const r of trace.records) {
    const [startPos, n] = r.startPos === 0 ? [0, 3] : [3, 2];
    assert.ok(r.startPos === 0 || r.startPos === 3, `${r.name} startPos ${r.startPos}`);
    assert.deepEqual(r.shape, shapes(startPos, n)[r.name], `${r.name} layer ${r.layer} at ${r.startPos}`);
    assert.equal(r.data.length, r.shape.reduce((a, b) => a * b, 1));
    const outside = r.name === "embed" || r.name === "output_norm" || r.name === "logits";
    assert.ok(outside ? r.layer === -1 : r.layer >= 0 && r.layer < nLayers);
  }
  // the first pass in order: embed, then per layer attn_norm q k v attn_weights attn_out ffn_norm ffn_out resid
  assert.deepEqual(trace.records.slice(0, 11).map((r) => `${r.name}@${r.layer}`),
    ["embed@-1", "attn_norm@0", "q@0", "k@0", "v@0", "attn_weights@0", "attn_out@0", "ffn_norm@0", "ffn_out@0", "resid@0", "attn_norm@1"]);
});

test("attn_weights rows sum to 1 and are 0 above the diagonal", () => {
  const trace = createTrace(["attn_weights"]);
  runChunks([[1, 5, 9], [12, 3]], trace);
  assert.equal(trace.records.length, 2 * config.nLayers);
  for (const r of trace.records) {
    const [n, h, ctx] = r.shape as [number, number, number];
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < h; i++) {
        const row = r.data.subarray((t * h + i) * ctx, (t * h + i + 1) * ctx);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        for (let j = r.startPos + t + 1; j < ctx; j++) assert.equal(row[j], 0);
      }
    }
  }
});

test("tap records are copies: later passes do not change them", () => {
  const trace = createTrace(["resid"]);
  runChunks([[1, 5, 9], [12, 3]], trace);
  const first = trace.records[0]!;
  const again = createTrace(["resid"]);
  runChunks([[1, 5, 9]], again);
  assert.deepEqual([...first.data], [...again.records[0]!.data]);
});

test("createTrace([]) wants nothing and records nothing", () => {
  const trace = createTrace([]);
  for (const t of ALL_TAPS) assert.equal(trace.wants(t), false);
  runChunks([[1, 2, 3]], trace);
  assert.equal(trace.records.length, 0);
});
