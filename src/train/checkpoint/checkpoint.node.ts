/**
 * Checkpoint directories on disk. A save writes a complete new directory beside the old one and then swaps
 * them by rename, so a crash or Ctrl-C during a save never leaves a half-written checkpoint as the only copy.
 */

import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openFileSource } from "../../formats/byte-source.node.js";
import { readSafetensors } from "../../formats/safetensors/read.js";
import { writeSafetensorsFile } from "../../formats/safetensors/write.node.js";
import { PeelError } from "../../util/errors.js";
import type { ModelParams } from "../model/params.js";
import type { TrainerSnapshot } from "../loop/trainer.js";
import {
  decodeState, encodeState, modelSpec, optimizerFromTensors, optimizerSpec, paramsFromTensors,
  type CheckpointContents, type CheckpointState,
} from "./checkpoint.js";

export const CHECKPOINT_FILES = { model: "model.safetensors", optimizer: "optimizer.safetensors", state: "state.json" } as const;

/** Writes `dir` (replacing an earlier checkpoint there) with the params, optimizer and state. */
export async function saveCheckpoint(dir: string, params: ModelParams, snapshot: TrainerSnapshot, state: Omit<CheckpointState, "step" | "rng">): Promise<void> {
  const tmp = `${dir}.saving`, old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await writeSafetensorsFile(join(tmp, CHECKPOINT_FILES.model), modelSpec(params, snapshot.step));
    await writeSafetensorsFile(join(tmp, CHECKPOINT_FILES.optimizer), optimizerSpec(params, snapshot.optimizer));
    await writeFile(join(tmp, CHECKPOINT_FILES.state), encodeState({ ...state, step: snapshot.step, rng: snapshot.rng }));
    if (existsSync(dir)) await rename(dir, old);
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
  } catch (e) {
    throw e instanceof PeelError ? e : new PeelError("IO", `cannot save the checkpoint ${dir}: ${String(e)}`, { cause: e });
  }
}

/** Reads and cross-checks a checkpoint directory written by saveCheckpoint. */
export async function loadCheckpoint(dir: string): Promise<CheckpointContents> {
  for (const f of Object.values(CHECKPOINT_FILES)) {
    if (!existsSync(join(dir, f))) throw new PeelError("IO", `${dir} is not a Peel checkpoint: ${f} is missing`);
  }
  const statePath = join(dir, CHECKPOINT_FILES.state);
  const state = decodeState(await readFile(statePath, "utf8"), statePath);
  const modelPath = join(dir, CHECKPOINT_FILES.model), optPath = join(dir, CHECKPOINT_FILES.optimizer);
  const model = await readFileTensors(modelPath);
  const params = paramsFromTensors(state.model, model.tensors, modelPath);
  const modelStep = model.header.metadata["step"];
  if (modelStep !== String(state.step)) {
    throw new PeelError("FORMAT", `${dir}: ${CHECKPOINT_FILES.model} is from step ${modelStep ?? "?"} but ${CHECKPOINT_FILES.state} says step ${state.step}; the files do not belong together`);
  }
  const opt = await readFileTensors(optPath);
  const t = Number(opt.header.metadata["t"]);
  const optimizer = optimizerFromTensors(params, opt.tensors, t, optPath);
  return { params, state, snapshot: { step: state.step, rng: state.rng, optimizer } };
}

async function readFileTensors(path: string): ReturnType<typeof readSafetensors> {
  const source = await openFileSource(path);
  try {
    return await readSafetensors(source);
  } finally {
    await source.close();
  }
}
