// Ablations and activation patching on small random models: scale 1 changes nothing (bitwise, KL 0);
// zeroing a head of a 1-layer model equals the model with that head's Wo columns zeroed (the manual
// computation); zeroing a feed-forward moves the distribution; patching a position with itself changes
// nothing (bitwise); patching the last position after the last layer gives the source prompt's own
// distribution exactly; bad layers, heads and positions are PeelErrors naming them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSession } from "../generate/session.js";
import type { Tensor } from "../tensor/tensor.js";
import { PeelError } from "../util/errors.js";
import { randomModel, TINY } from "../../test/fixtures/random-model.js";
import { ablate, compareLogits, patchResidual } from "./interventions.js";

const IDS = [1, 17, 42, 99, 5, 230, 64, 8];
const OTHER = [1, 120, 7, 33, 250, 9];
const { model } = await randomModel();
const ONE_LAYER = { ...TINY, nLayers: 1, seed: 12 };
const { model: one } = await randomModel(ONE_LAYER);

test("scale 1 on a head and a feed-forward changes nothing, bitwise", () => {
  const r = ablate(model, IDS, [{ kind: "head", layer: 1, head: 2, scale: 1 }, { kind: "mlp", layer: 0, scale: 1 }]);
  assert.equal(r.maxLogitChange, 0);
  assert.equal(r.kl, 0);
  assert.deepEqual(r.after, r.before);
});

test("1 layer: zeroing head 3 equals zeroing its columns of Wo; the distribution moves", async () => {
  const r = ablate(one, IDS, { kind: "head", layer: 0, head: 3 }, { topK: 5, kvType: "F32" });
  assert.ok(r.kl > 0 && r.maxLogitChange > 1e-3, `kl ${r.kl}`);
  const { headDim, nHeads, dim } = one.config;
  const { model: cut } = await randomModel(ONE_LAYER, (t: Tensor) => {
    if (t.name !== "blk.0.attn_output.weight") return t;
    const w = new Float32Array(t.data.slice().buffer); // (dim, nHeads·headDim)
    for (let row = 0; row < dim; row++) w.fill(0, row * nHeads * headDim + 3 * headDim, row * nHeads * headDim + 4 * headDim);
    return { ...t, data: new Uint8Array(w.buffer) };
  });
  const manual = createSession(cut, { flashAttention: "off", kvType: "F32" }).evaluate(IDS).slice();
  const diff = compareLogits(r.logitsAfter, manual);
  assert.ok(diff.maxLogitChange < 1e-5, `ablated vs manual: max logit difference ${diff.maxLogitChange}`);
  assert.ok(diff.kl < 1e-10);
});

test("zeroing a feed-forward moves the distribution; several ablations at once", () => {
  const r = ablate(model, IDS, { kind: "mlp", layer: 1 });
  assert.ok(r.kl > 0 && r.maxLogitChange > 1e-3);
  assert.ok(r.topTokenProbAfter >= 0 && r.topTokenProbAfter <= 1);
  const all = ablate(model, IDS, [0, 1, 2, 3].map((head) => ({ kind: "head" as const, layer: 0, head })));
  assert.ok(all.kl > 0);
});

test("patching a position with itself changes nothing (bitwise)", () => {
  for (const layer of [0, 1]) {
    for (const pos of [0, 3, IDS.length - 1]) {
      const r = patchResidual(model, IDS, { layer, pos, sourceIds: IDS });
      assert.equal(r.maxLogitChange, 0, `layer ${layer} position ${pos}`);
      assert.equal(r.kl, 0);
    }
  }
});

test("patching the last position after the last layer gives the source prompt's distribution exactly", () => {
  const r = patchResidual(model, IDS, { layer: 1, pos: IDS.length - 1, sourceIds: OTHER, sourcePos: OTHER.length - 1 });
  const source = createSession(model, { flashAttention: "off" }).evaluate(OTHER).slice();
  assert.deepEqual([...r.logitsAfter], [...source]);
  assert.ok(r.kl > 0);
  const early = patchResidual(model, IDS, { layer: 0, pos: 2, sourceIds: OTHER });
  assert.ok(early.maxLogitChange > 0, "an earlier position reaches the last token through attention");
});

test("bad arguments name the layer, head or position", () => {
  const is = (words: string) => (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(words);
  assert.throws(() => ablate(model, IDS, { kind: "head", layer: 2, head: 0 }), is("layer 2"));
  assert.throws(() => ablate(model, IDS, { kind: "head", layer: 0, head: 4 }), is("head 4"));
  assert.throws(() => ablate(model, IDS, { kind: "mlp", layer: -1 }), is("layer -1"));
  assert.throws(() => ablate(model, [], { kind: "mlp", layer: 0 }), is("empty"));
  assert.throws(() => patchResidual(model, IDS, { layer: 0, pos: 8, sourceIds: OTHER }), is("position 8"));
  assert.throws(() => patchResidual(model, IDS, { layer: 0, pos: 7, sourceIds: OTHER }), is("position 7 is outside the source prompt"));
  assert.throws(() => patchResidual(model, IDS, { layer: 0, pos: 0, sourceIds: [1, 999] }), is("token id 999 at source prompt position 1"));
});
