// traceForward and attention maps on small random models: the traced pass gives the model's own logits;
// maps have shape (nHeads, nTokens, nTokens), rows sum to 1, equal the attn_weights tap record by record
// (also across forward chunks), report GQA kv heads and sliding windows; an over-budget map keeps each
// row's top-k, flagged; streamNorms matches a hand norm; bad input is a PeelError naming the problem.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSession } from "../generate/session.js";
import { createTrace } from "../model/trace.js";
import { PeelError } from "../util/errors.js";
import { randomModel, TINY } from "../../test/fixtures/random-model.js";
import { attentionRow } from "./attention-map.js";
import { streamNorms } from "./stream-norms.js";
import { ALL_TRACE_TAPS, traceForward, type TraceTapName } from "./trace-forward.js";

const IDS = [1, 17, 42, 99, 5, 230, 64, 8, 150, 3];
const { model } = await randomModel();
const c = model.config;

test("the traced pass returns the model's next-token logits, and every layer's records", () => {
  const t = traceForward(model, IDS, { taps: ALL_TRACE_TAPS });
  const plain = createSession(model, { flashAttention: "off" }).evaluate(IDS).slice();
  assert.deepEqual([...t.logits], [...plain]);
  assert.equal(t.layers.length, c.nLayers);
  assert.equal(t.embed?.length, IDS.length * c.dim);
  for (const l of t.layers) {
    assert.equal(l.resid?.length, IDS.length * c.dim);
    assert.equal(l.q?.length, IDS.length * c.nHeads * c.headDim);
    assert.equal(l.k?.length, IDS.length * c.kvDim);
    assert.equal(l.window, 0);
  }
  const only = traceForward(model, IDS, { taps: ["resid"] });
  assert.equal(only.layers[0]!.attention, undefined);
  assert.equal(only.embed, undefined);
});

test("attention maps: (nHeads, nTokens, nTokens), rows sum to 1, equal the attn_weights tap; GQA kv heads", () => {
  const t = traceForward(model, IDS, { taps: ["attn_weights"], batchSize: 4 }); // three chunks: 4 + 4 + 2
  const tap = createTrace(["attn_weights"]);
  createSession(model, { flashAttention: "off", batchSize: 4 }).evaluate(IDS, { trace: tap });
  const n = IDS.length;
  for (const l of t.layers) {
    const map = l.attention!;
    assert.equal(map.kind, "full");
    assert.equal(map.summarised, false);
    assert.deepEqual(map.kvHeadOf, [0, 0, 1, 1], "4 query heads over 2 kv heads");
    for (let h = 0; h < c.nHeads; h++) {
      for (let q = 0; q < n; q++) {
        const row = attentionRow(map, h, q);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `layer ${l.layer} head ${h} row ${q}`);
        for (let j = q + 1; j < n; j++) assert.equal(row[j], 0);
        // the tap record holding query q: (nChunk, nHeads, startPos + nChunk)
        const r = tap.records.find((x) => x.layer === l.layer && x.startPos <= q && q < x.startPos + (x.shape[0] as number))!;
        const ctx = r.shape[2] as number;
        const off = ((q - r.startPos) * c.nHeads + h) * ctx;
        assert.deepEqual([...row.subarray(0, ctx)], [...r.data.subarray(off, off + ctx)]);
      }
    }
  }
});

test("an over-budget map keeps each row's top-k key positions, flagged as summarised", () => {
  const full = traceForward(model, IDS, { taps: ["attn_weights"] }).layers[1]!.attention!;
  const small = traceForward(model, IDS, { taps: ["attn_weights"], attentionBudget: 100, attentionTopK: 3 }).layers[1]!.attention!;
  assert.equal(small.kind, "top-k");
  assert.equal(small.summarised, true);
  if (small.kind !== "top-k" || full.kind !== "full") return;
  assert.equal(small.positions.length, c.nHeads * IDS.length * 3);
  for (let h = 0; h < c.nHeads; h++) {
    for (let q = 0; q < IDS.length; q++) {
      const row: Array<{ w: number; j: number }> = [...attentionRow(full, h, q)].map((w, j) => ({ w, j })).filter((x) => x.w > 0).sort((a, b) => b.w - a.w || a.j - b.j);
      const r = (h * IDS.length + q) * 3;
      for (let i = 0; i < 3; i++) {
        const want: { w: number; j: number } | undefined = row[i];
        assert.equal(small.positions[r + i], want?.j ?? -1, `head ${h} query ${q} rank ${i}`);
        assert.equal(small.weights[r + i], want?.w ?? 0);
      }
    }
  }
});

test("a sliding-window layer reports its window and gives weight 0 outside it", async () => {
  const { model: g } = await randomModel({ ...TINY, architecture: "gemma2", tied: true, slidingWindow: 4 });
  const t = traceForward(g, IDS, { taps: ["attn_weights"] });
  assert.deepEqual(t.layers.map((l) => l.window), [4, 0]);
  const map = t.layers[0]!.attention!;
  assert.equal(map.window, 4);
  for (let q = 0; q < IDS.length; q++) {
    const row = attentionRow(map, 0, q);
    for (let j = 0; j <= q - 4; j++) assert.equal(row[j], 0, `query ${q} key ${j} is outside the window`);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});

test("streamNorms: ‖row‖₂ per position of resid, attn_out, ffn_out and the embeddings", () => {
  const t = traceForward(model, IDS);
  const norms = streamNorms(t);
  const hand = (rows: Float32Array, p: number) => Math.hypot(...rows.subarray(p * c.dim, (p + 1) * c.dim));
  for (const p of [0, 4, 9]) {
    assert.ok(Math.abs(norms.embed![p]! - hand(t.embed!, p)) < 1e-4);
    for (const l of t.layers) {
      const nl = norms.layers[l.layer]!;
      assert.ok(Math.abs(nl.resid![p]! - hand(l.resid!, p)) < 1e-4);
      assert.ok(Math.abs(nl.attnOut![p]! - hand(l.attnOut!, p)) < 1e-4);
      assert.ok(Math.abs(nl.ffnOut![p]! - hand(l.ffnOut!, p)) < 1e-4);
    }
  }
});

test("bad input: empty prompt, id out of range, too long, unknown tap", () => {
  const is = (words: string, code = "INVALID_ARGUMENT") => (e: unknown) => e instanceof PeelError && e.code === code && e.message.includes(words);
  assert.throws(() => traceForward(model, []), is("empty"));
  assert.throws(() => traceForward(model, [1, 300]), is("token id 300 at prompt position 1"));
  assert.throws(() => traceForward(model, [1, -1]), is("token id -1"));
  assert.throws(() => traceForward(model, new Array<number>(65).fill(1)), is("65 tokens", "CONTEXT_OVERFLOW"));
  assert.throws(() => traceForward(model, IDS, { taps: ["logits" as TraceTapName] }), is("unknown tap"));
});
