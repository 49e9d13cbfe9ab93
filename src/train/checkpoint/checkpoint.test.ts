import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTsKernels } from "../../kernels/ts/index.js";
import { createRng } from "../../sample/rng.js";
import { PeelError } from "../../util/errors.js";
import { PRESETS, type TrainModelConfig } from "../model/config.js";
import { createParams, initParams } from "../model/params.js";
import { createTrainer, type TrainHyperparameters } from "../loop/trainer.js";
import { loadCheckpoint, saveCheckpoint, CHECKPOINT_FILES } from "./checkpoint.node.js";
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from "./checkpoint.js";

const ts = createTsKernels();
const config: TrainModelConfig = { ...PRESETS.llama, vocabSize: 40, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 48, contextLength: 32, tiedOutput: false };
const hyper: TrainHyperparameters = {
  batchSize: 2, seqLen: 16, accumulation: 2, steps: 10,
  schedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 3, totalSteps: 10 },
  adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 },
  clipNorm: Infinity, seed: 3, evalBatches: 1,
};
const rng = createRng(9);
const data = { train: Uint32Array.from({ length: 300 }, () => Math.floor(rng.next() * 40)), val: Uint32Array.from({ length: 60 }, (_, i) => i % 40) };
const fresh = () => { const p = createParams(config); initParams(p, hyper.seed); return p; };
const baseState = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: config, hyper, elapsedMs: 0, history: { train: [], val: [] }, run: {} } as const;

test("resume from a checkpoint directory continues exactly: 10 steps straight = 5 + save/load + 5", async () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-ckpt-"));
  try {
    const straight = createTrainer(ts, fresh(), hyper, data);
    const want = Array.from({ length: 10 }, () => straight.trainStep().loss);
    const first = createTrainer(ts, fresh(), hyper, data);
    const got = Array.from({ length: 5 }, () => first.trainStep().loss);
    await saveCheckpoint(join(dir, "ck"), first.params, first.snapshot(), baseState);
    await saveCheckpoint(join(dir, "ck"), first.params, first.snapshot(), baseState); // a second save replaces the first
    const loaded = await loadCheckpoint(join(dir, "ck"));
    assert.equal(loaded.state.step, 5);
    assert.equal(loaded.state.hyper.clipNorm, Infinity);
    const second = createTrainer(ts, loaded.params, loaded.state.hyper, data, loaded.snapshot);
    got.push(...Array.from({ length: 5 }, () => second.trainStep().loss));
    assert.deepEqual(got, want);
    assert.equal(straight.evaluate(), second.evaluate());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing, damaged or mismatched checkpoint is refused with a message naming the problem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-ckpt-"));
  const t = createTrainer(ts, fresh(), hyper, data);
  t.trainStep();
  const ck = join(dir, "ck");
  await saveCheckpoint(ck, t.params, t.snapshot(), baseState);
  const variant = (name: string, edit: (d: string) => void): string => {
    const d = join(dir, name);
    cpSync(ck, d, { recursive: true });
    edit(d);
    return d;
  };
  const refused = async (d: string, code: string, re: RegExp) =>
    assert.rejects(loadCheckpoint(d), (e: unknown) => e instanceof PeelError && e.code === code && re.test(e.message), `${d}`);
  try {
    await refused(join(dir, "nothing"), "IO", /model\.safetensors is missing/);
    await refused(variant("truncated", (d) => {
      const f = join(d, CHECKPOINT_FILES.model);
      writeFileSync(f, readFileSync(f).subarray(0, 100));
    }), "FORMAT", /model\.safetensors/);
    await refused(variant("bad-json", (d) => writeFileSync(join(d, CHECKPOINT_FILES.state), "{ not json")), "FORMAT", /not valid JSON/);
    await refused(variant("other-config", (d) => {
      const f = join(d, CHECKPOINT_FILES.state);
      writeFileSync(f, readFileSync(f, "utf8").replace('"dim": 32', '"dim": 64'));
    }), "FORMAT", /tensor "tokEmbed" is F32 \[40, 32\], expected F32 \[40, 64\]/);
    await refused(variant("other-step", (d) => {
      const f = join(d, CHECKPOINT_FILES.state);
      writeFileSync(f, readFileSync(f, "utf8").replace('"step": 1', '"step": 7'));
    }), "FORMAT", /from step 1 but state\.json says step 7/);
    await refused(variant("newer", (d) => {
      const f = join(d, CHECKPOINT_FILES.state);
      writeFileSync(f, readFileSync(f, "utf8").replace('"version": 1', '"version": 9'));
    }), "UNSUPPORTED", /version 9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
