// The inspector through the public barrel (src/index.ts), as the web UI will use it: one traced pass, the
// lens, norms, the sampler's stages, an ablation and the embedding space on a small random model.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as peel from "../index.js";
import { randomModel } from "../../test/fixtures/random-model.js";

test("the inspector's views are exported from the package root and run together", async () => {
  const { model } = await randomModel();
  const ids = [1, 40, 41, 42];
  const t = peel.traceForward(model, ids);
  assert.equal(peel.logitLens(model, t, { topK: 3 }).layers.length, model.config.nLayers + 1);
  assert.equal(peel.streamNorms(t).layers.length, model.config.nLayers);
  assert.ok(peel.attentionRow(t.layers[0]!.attention!, 0, 3).length === 4);
  assert.equal(peel.samplerSteps(t.logits, { temperature: 0.7, seed: 1 }).stages.length, 4);
  assert.ok(peel.ablate(model, ids, { kind: "head", layer: 0, head: 0 }).kl >= 0);
  assert.equal(peel.createEmbeddingSpace(model).neighbours(40, { k: 3 })[0]!.id, 40);
});
