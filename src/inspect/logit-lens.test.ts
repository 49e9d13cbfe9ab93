// The logit lens: each layer's cell equals a hand RMSNorm + LM head (float64, from the file's tensors) of
// that layer's residual row; the last layer's lens is the model's real next-token distribution (also with
// Gemma 2's final soft cap); targets are the final argmax; bad arguments are PeelErrors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSession } from "../generate/session.js";
import { PeelError } from "../util/errors.js";
import { f32Of, randomModel, TINY } from "../../test/fixtures/random-model.js";
import { softmax64 } from "./distribution.js";
import { logitLens } from "./logit-lens.js";
import { traceForward } from "./trace-forward.js";

const IDS = [1, 17, 42, 99, 5, 230, 64, 8];
const { model, tensors } = await randomModel();
const c = model.config;

/** Hand final norm and head: logits (vocabSize) of one residual row, in float64. */
function handLogits(row: Float32Array): Float64Array {
  const gain = f32Of(tensors, "output_norm.weight");
  const head = f32Of(tensors, "output.weight"); // (vocabSize, dim)
  const ms = row.reduce((a, v) => a + v * v, 0) / c.dim;
  const inv = 1 / Math.sqrt(ms + c.normEps);
  const out = new Float64Array(c.vocabSize);
  for (let v = 0; v < c.vocabSize; v++) {
    let s = 0;
    for (let i = 0; i < c.dim; i++) s += (row[i] as number) * inv * (gain[i] as number) * (head[v * c.dim + i] as number);
    out[v] = s;
  }
  return out;
}

test("every layer's lens equals a hand final norm + head of its residual row", () => {
  const t = traceForward(model, IDS);
  const lens = logitLens(model, t, { topK: 5 });
  assert.deepEqual(lens.layers.map((l) => l.layer), [-1, 0, 1]);
  for (const l of lens.layers) {
    const stream = l.layer < 0 ? t.embed! : t.layers[l.layer]!.resid!;
    for (const [i, p] of lens.positions.entries()) {
      const hand = handLogits(stream.subarray(p * c.dim, (p + 1) * c.dim));
      const probs = softmax64(hand);
      const cell = l.cells[i]!;
      const order = [...hand.keys()].sort((a, b) => hand[b]! - hand[a]!);
      assert.deepEqual(cell.top.map((x) => x.id), order.slice(0, 5), `layer ${l.layer} position ${p}`);
      for (const x of cell.top) {
        assert.ok(Math.abs(x.logit - hand[x.id]!) < 1e-3, `logit ${x.logit} vs ${hand[x.id]}`);
        assert.ok(Math.abs(x.prob - probs[x.id]!) < 1e-4);
      }
      const target = lens.targets[i]!;
      assert.equal(cell.targetRank, order.indexOf(target));
      assert.ok(Math.abs(cell.targetProb - probs[target]!) < 1e-4);
    }
  }
});

test("the last layer's lens is the model's real next-token distribution, at every position", () => {
  const t = traceForward(model, IDS, { allLogits: true });
  const lens = logitLens(model, t, { topK: 10 });
  const last = lens.layers.at(-1)!;
  for (const [i, p] of lens.positions.entries()) {
    const real = t.allLogits!.subarray(p * c.vocabSize, (p + 1) * c.vocabSize);
    const probs = softmax64(real);
    const cell = last.cells[i]!;
    for (const x of cell.top) {
      assert.equal(x.logit, real[x.id], "bitwise: the same norm and head code on the same row");
      assert.equal(x.prob, probs[x.id]);
    }
    assert.equal(cell.targetRank, 0);
    assert.equal(lens.targets[i], cell.top[0]!.id);
  }
  assert.deepEqual([...t.logits], [...t.allLogits!.subarray((IDS.length - 1) * c.vocabSize)]);
});

test("with a final soft cap (Gemma 2) the last layer's lens still equals the real logits", async () => {
  const { model: g } = await randomModel({ ...TINY, architecture: "gemma2", tied: true, finalSoftcap: 3, slidingWindow: 4 });
  const t = traceForward(g, IDS);
  const lens = logitLens(g, t, { topK: 3, positions: [IDS.length - 1] });
  for (const x of lens.layers.at(-1)!.cells[0]!.top) assert.equal(x.logit, t.logits[x.id]);
  for (const l of lens.layers) for (const x of l.cells[0]!.top) assert.ok(Math.abs(x.logit) <= 3, "capped at every layer");
});

test("bad arguments: a trace without resid, a position or topK out of range", () => {
  const is = (words: string) => (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(words);
  assert.throws(() => logitLens(model, traceForward(model, IDS, { taps: ["attn_weights"] })), is("resid"));
  const t = traceForward(model, IDS);
  assert.throws(() => logitLens(model, t, { positions: [8] }), is("position 8"));
  assert.throws(() => logitLens(model, t, { topK: 0 }), is("topK"));
});
