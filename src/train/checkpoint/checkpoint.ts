/**
 * Checkpoints: everything a run needs to continue exactly, as three files' contents —
 *   model.safetensors      the parameters (F32, Peel's names), metadata: format and step
 *   optimizer.safetensors  AdamW's moments as `m.<name>` and `v.<name>` (F32), metadata: t
 *   state.json             step, the model config, hyperparameters, the data sampler's generator, loss history
 * Decoding checks every name, shape and field against the config it claims, so a corrupt or mismatched
 * checkpoint fails with a message naming what is wrong instead of training on garbage. Files: checkpoint.node.ts.
 */

import type { RngState } from "../../sample/rng.js";
import type { Tensor } from "../../tensor/tensor.js";
import { PeelError } from "../../util/errors.js";
import type { SafetensorsWriteSpec } from "../../formats/safetensors/write.js";
import { validateTrainModelConfig, type TrainModelConfig } from "../model/config.js";
import { createParams, type ModelParams } from "../model/params.js";
import type { AdamWState } from "../optim/adamw.js";
import type { TrainHyperparameters, TrainerSnapshot } from "../loop/trainer.js";

export const CHECKPOINT_FORMAT = "peel-train-checkpoint";
export const CHECKPOINT_VERSION = 1;

export interface LossHistory {
  readonly train: ReadonlyArray<{ readonly step: number; readonly loss: number }>;
  readonly val: ReadonlyArray<{ readonly step: number; readonly loss: number }>;
}

/** state.json, as stored. */
export interface CheckpointState {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly step: number;
  readonly model: TrainModelConfig;
  readonly hyper: TrainHyperparameters;
  readonly rng: RngState;
  /** Training time so far, for tokens/s and the model card. */
  readonly elapsedMs: number;
  readonly history: LossHistory;
  /** Free-form run facts the CLI keeps (data files, tokenizer, token counts). */
  readonly run: Readonly<Record<string, string | number | boolean>>;
}

export interface CheckpointContents {
  readonly params: ModelParams;
  readonly snapshot: TrainerSnapshot;
  readonly state: CheckpointState;
}

const f32Bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const asTensor = (name: string, shape: readonly number[], data: Float32Array): Tensor => ({ name, dtype: "F32", shape, data: f32Bytes(data) });

export function modelSpec(params: ModelParams, step: number): SafetensorsWriteSpec {
  return {
    tensors: params.list.map((p) => asTensor(p.name, p.shape, p.data)),
    metadata: { format: CHECKPOINT_FORMAT, step: String(step) },
  };
}

export function optimizerSpec(params: ModelParams, opt: AdamWState): SafetensorsWriteSpec {
  const tensors: Tensor[] = [];
  for (const p of params.list) {
    tensors.push(asTensor(`m.${p.name}`, p.shape, opt.m.get(p.name) ?? new Float32Array(p.data.length)));
    tensors.push(asTensor(`v.${p.name}`, p.shape, opt.v.get(p.name) ?? new Float32Array(p.data.length)));
  }
  return { tensors, metadata: { format: CHECKPOINT_FORMAT, t: String(opt.t) } };
}

/** state.json text; Infinity (no clipping) is written as the string "Infinity" since JSON has no such number. */
export function encodeState(state: CheckpointState): string {
  return JSON.stringify(state, (_k, v: unknown) => (v === Infinity ? "Infinity" : v), 2) + "\n";
}

export function decodeState(text: string, where: string): CheckpointState {
  let raw: unknown;
  try {
    raw = JSON.parse(text, (_k, v: unknown) => (v === "Infinity" ? Infinity : v));
  } catch (e) {
    throw new PeelError("FORMAT", `${where}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const s = raw as Partial<CheckpointState> | null;
  const fail = (m: string): PeelError => new PeelError("FORMAT", `${where}: ${m}; it is not a Peel checkpoint or it is damaged`);
  if (s === null || typeof s !== "object" || s.format !== CHECKPOINT_FORMAT) throw fail(`"format" is not "${CHECKPOINT_FORMAT}"`);
  if (s.version !== CHECKPOINT_VERSION) throw new PeelError("UNSUPPORTED", `${where}: checkpoint version ${String(s.version)}; this Peel reads version ${CHECKPOINT_VERSION}`);
  if (!(Number.isInteger(s.step) && (s.step as number) >= 0)) throw fail(`"step" is ${String(s.step)}`);
  if (typeof s.model !== "object" || s.model === null) throw fail(`"model" is missing`);
  try {
    validateTrainModelConfig(s.model);
  } catch (e) {
    throw fail(`its model config is invalid (${(e as Error).message})`);
  }
  if (typeof s.hyper !== "object" || s.hyper === null) throw fail(`"hyper" is missing`);
  if (!Array.isArray(s.rng?.s) || s.rng.s.length !== 4) throw fail(`"rng" is not a generator state`);
  if (typeof s.history !== "object" || s.history === null || !Array.isArray(s.history.train) || !Array.isArray(s.history.val)) throw fail(`"history" is missing`);
  if (typeof s.elapsedMs !== "number") throw fail(`"elapsedMs" is missing`);
  return { ...(s as CheckpointState), run: s.run ?? {} };
}

/** Fresh params for `config` filled from model.safetensors tensors; FORMAT naming any missing, extra or misshapen tensor. */
export function paramsFromTensors(config: TrainModelConfig, tensors: ReadonlyMap<string, Tensor>, where: string): ModelParams {
  const params = createParams(config);
  for (const p of params.list) p.data.set(f32Of(tensors, p.name, p.shape, where));
  const extra = [...tensors.keys()].filter((n) => !params.list.some((p) => p.name === n));
  if (extra.length > 0) throw new PeelError("FORMAT", `${where}: tensors ${extra.slice(0, 5).join(", ")} are not parameters of the checkpoint's model config; the files do not belong together`);
  return params;
}

export function optimizerFromTensors(params: ModelParams, tensors: ReadonlyMap<string, Tensor>, t: number, where: string): AdamWState {
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const p of params.list) {
    m.set(p.name, f32Of(tensors, `m.${p.name}`, p.shape, where));
    v.set(p.name, f32Of(tensors, `v.${p.name}`, p.shape, where));
  }
  if (!(Number.isInteger(t) && t >= 0)) throw new PeelError("FORMAT", `${where}: optimizer step count "${t}" is not an integer ≥ 0`);
  return { t, m, v };
}

function f32Of(tensors: ReadonlyMap<string, Tensor>, name: string, shape: readonly number[], where: string): Float32Array {
  const t = tensors.get(name);
  if (t === undefined) throw new PeelError("FORMAT", `${where}: tensor "${name}" is missing; the checkpoint does not match its model config`);
  if (t.dtype !== "F32" || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new PeelError("FORMAT", `${where}: tensor "${name}" is ${t.dtype} [${t.shape.join(", ")}], expected F32 [${shape.join(", ")}]`);
  }
  const out = new Float32Array(t.data.length / 4);
  new Uint8Array(out.buffer).set(t.data);
  return out;
}
