/**
 * A whole training run in one directory: prepare the data (or reload it on --resume), build or load the
 * model, loop trainer steps with validation, logs, the loss curve and checkpoints, stop cleanly on abort
 * (saving a checkpoint first), and export the result to GGUF when the architecture allows. The terminal
 * output is the caller's (the CLI's) business: everything reportable goes through `hooks`.
 */

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { totalmem } from "node:os";
import type { Kernels } from "../../kernels/kernels.js";
import type { BpeKind, TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import { yieldToEventLoop } from "../../util/yield.js";
import { loadCheckpoint, saveCheckpoint } from "../checkpoint/checkpoint.node.js";
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type LossHistory } from "../checkpoint/checkpoint.js";
import { splitTokens } from "../data/batches.js";
import { writeGgufFile } from "../export/gguf.node.js";
import { ggufArchitectureOf } from "../export/export-gguf.js";
import { GGUF_EXPORT_DTYPES, type GgufExportDType } from "../export/gguf.js";
import { createTrainer, type StepResult, type TrainData, type TrainHyperparameters, type Trainer } from "../loop/trainer.js";
import { validateTrainModelConfig, type TrainModelConfig } from "../model/config.js";
import { countParams, createParams, initParams, type ModelParams } from "../model/params.js";
import { estimateTrainingBytes, parameterCount } from "../model/memory.js";
import { createJsonlLog } from "../report/jsonl.node.js";
import { lossCurveSvg } from "../report/loss-curve-svg.js";
import { loadPreparedData, prepareData, RUN_FILES, savePreparedData } from "./prepare-data.node.js";

export interface NewRunOptions {
  readonly files: readonly string[];
  readonly tokenizerFile?: string;
  readonly vocabSize: number;
  readonly tokenizerKind: BpeKind;
  readonly valFraction: number;
  /** Everything but vocabSize, which the tokenizer decides. */
  readonly model: Omit<TrainModelConfig, "vocabSize">;
  readonly hyper: TrainHyperparameters;
  /** Replace an existing, non-empty output directory. */
  readonly force: boolean;
}

/** How a run is reported and exported; saved with the checkpoint so --resume keeps them unless given again. */
export interface RunReporting {
  /** Validation loss every N steps (default 100). */
  readonly evalEvery: number;
  /** Checkpoint every N steps (default 5 × evalEvery); the last step is always saved. */
  readonly saveEvery: number;
  /** Matrix type of the exported GGUF (default F32). */
  readonly exportDtype: GgufExportDType;
  /** general.name of the exported model (default "peel-trained"). */
  readonly name: string;
}

export interface TrainRunOptions extends Partial<RunReporting> {
  readonly outDir: string;
  /** A new run; absent means resume the checkpoint in outDir. */
  readonly fresh?: NewRunOptions;
  readonly kernels: Kernels;
  readonly signal?: AbortSignal;
  readonly hooks?: TrainRunHooks;
}

export interface TrainRunHooks {
  onPhase?(message: string): void;
  onTokenizerProgress?(done: number, total: number): void;
  onStart?(info: RunInfo): void;
  onStep?(r: StepResult, elapsedMs: number): void;
  onEval?(step: number, valLoss: number): void;
  onSave?(step: number, dir: string): void;
}

export interface RunInfo {
  readonly config: TrainModelConfig;
  readonly hyper: TrainHyperparameters;
  readonly parameters: number;
  readonly trainTokens: number;
  readonly valTokens: number;
  readonly startStep: number;
}

export interface RunSummary {
  readonly steps: number;
  readonly interrupted: boolean;
  readonly trainLoss: number | undefined;
  readonly valLoss: number | undefined;
  readonly elapsedMs: number;
  readonly tokensPerSecond: number;
  /** The exported model, when the architecture exports to GGUF and the run finished. */
  readonly gguf: string | undefined;
  /** Why no GGUF was written, when none was. */
  readonly noGgufReason: string | undefined;
}

interface Prepared {
  readonly trained: TrainedBpe;
  readonly params: ModelParams;
  readonly trainer: Trainer;
  readonly history: { train: Array<{ step: number; loss: number }>; val: Array<{ step: number; loss: number }> };
  readonly elapsedMs: number;
  readonly run: Record<string, string | number | boolean>;
  /** The token split the trainer reads. */
  readonly split: TrainData;
}

/** splitTokens, with "too little data" reported as a data problem (FORMAT, exit 65), not a usage error. */
function splitForRun(tokens: Uint32Array, valFraction: number, seqLen: number): TrainData {
  try {
    return splitTokens(tokens, valFraction, seqLen);
  } catch (e) {
    if (e instanceof PeelError && e.code === "INVALID_ARGUMENT") throw new PeelError("FORMAT", `train: not enough data: ${e.message}`, { cause: e });
    throw e;
  }
}

function checkOutDir(dir: string, force: boolean): void {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new PeelError("INVALID_ARGUMENT", `${dir} already exists and is not empty; pass --force to train into it anyway (its files will be replaced), or --resume to continue the run saved there`);
  }
  // a replaced run's files must go now: a GPT-2 or interrupted run writes no model.gguf, and a crash before the first save would leave the old checkpoint beside the new tokens
  for (const f of Object.values(RUN_FILES)) rmSync(join(dir, f), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/** Refuses, before any file is touched, a model whose training would not fit in this machine's memory. */
function checkMemory(f: NewRunOptions): void {
  const upper: TrainModelConfig = { ...f.model, vocabSize: f.vocabSize };
  const need = estimateTrainingBytes(upper, f.hyper.batchSize, f.hyper.seqLen);
  const have = totalmem();
  if (need > 0.8 * have) {
    throw new PeelError("INVALID_ARGUMENT", `train: this model would need about ${(need / 2 ** 30).toFixed(1)} GiB to train ` +
      `(${(parameterCount(upper) / 1e6).toFixed(1)}M parameters, batch ${f.hyper.batchSize}×${f.hyper.seqLen}), more than this machine's ` +
      `${(have / 2 ** 30).toFixed(1)} GiB allows; use a smaller --dim, --layers, --hidden, --vocab-size, --batch or --context`);
  }
}

async function startFresh(o: TrainRunOptions, f: NewRunOptions): Promise<Prepared> {
  checkMemory(f);
  checkOutDir(o.outDir, f.force);
  const data = await prepareData({
    files: f.files, vocabSize: f.vocabSize, kind: f.tokenizerKind,
    ...(f.tokenizerFile !== undefined ? { tokenizerFile: f.tokenizerFile } : {}),
    ...(o.hooks?.onPhase ? { onPhase: (m: string) => o.hooks?.onPhase?.(m) } : {}),
    ...(o.hooks?.onTokenizerProgress ? { onTokenizerProgress: (d: number, t: number) => o.hooks?.onTokenizerProgress?.(d, t) } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const config: TrainModelConfig = { ...f.model, vocabSize: data.tokenizer.vocabSize };
  validateTrainModelConfig(config);
  const split = splitForRun(data.tokens, f.valFraction, f.hyper.seqLen);
  await savePreparedData(o.outDir, data); // only once the data is known to be usable: a failed start leaves no files
  const params = createParams(config);
  initParams(params, f.hyper.seed);
  const trainer = createTrainer(o.kernels, params, f.hyper, split);
  const run = { dataFiles: f.files.join(", "), textBytes: data.textBytes, tokens: data.tokens.length, valFraction: f.valFraction };
  return { trained: data.trained, params, trainer, history: { train: [], val: [] }, elapsedMs: 0, run, split };
}

async function resume(o: TrainRunOptions): Promise<Prepared> {
  const ckDir = join(o.outDir, RUN_FILES.checkpoint);
  const ck = await loadCheckpoint(ckDir);
  const data = await loadPreparedData(o.outDir);
  if (data.tokenizer.vocabSize !== ck.state.model.vocabSize) {
    throw new PeelError("FORMAT", `${o.outDir}: the checkpoint's model has ${ck.state.model.vocabSize} tokens but tokenizer.json has ${data.tokenizer.vocabSize}`);
  }
  const valFraction = Number(ck.state.run["valFraction"]);
  if (!(valFraction > 0 && valFraction < 1)) throw new PeelError("FORMAT", `${ckDir}: state.json has no valid run.valFraction`);
  if (ck.state.step >= ck.state.hyper.steps) {
    throw new PeelError("INVALID_ARGUMENT", `${o.outDir}: the saved run already finished its ${ck.state.hyper.steps} steps; nothing to resume`);
  }
  const split = splitForRun(data.tokens, valFraction, ck.state.hyper.seqLen);
  const trainer = createTrainer(o.kernels, ck.params, ck.state.hyper, split, ck.snapshot);
  const history = { train: [...ck.state.history.train], val: [...ck.state.history.val] };
  return { trained: data.trained, params: ck.params, trainer, history, elapsedMs: ck.state.elapsedMs, run: { ...ck.state.run }, split };
}

const REPORTING_KEYS = ["evalEvery", "saveEvery", "exportDtype", "name"] as const;

/** The caller's settings, else those the run saved (on resume), else the defaults; checked. */
function reportingOf(o: TrainRunOptions, saved: Readonly<Record<string, string | number | boolean>>): RunReporting {
  const num = (k: "evalEvery" | "saveEvery"): number | undefined => o[k] ?? (typeof saved[k] === "number" ? saved[k] : undefined);
  const evalEvery = num("evalEvery") ?? 100;
  const savedDtype = GGUF_EXPORT_DTYPES.find((d) => d === saved["exportDtype"]);
  const r: RunReporting = {
    evalEvery,
    saveEvery: num("saveEvery") ?? 5 * evalEvery,
    exportDtype: o.exportDtype ?? savedDtype ?? "F32",
    name: o.name ?? (typeof saved["name"] === "string" ? saved["name"] : "peel-trained"),
  };
  for (const k of ["evalEvery", "saveEvery"] as const) {
    if (!(Number.isInteger(r[k]) && r[k] >= 1)) throw new PeelError("INVALID_ARGUMENT", `train: ${k} must be an integer ≥ 1, got ${r[k]}`);
  }
  if (!GGUF_EXPORT_DTYPES.includes(r.exportDtype)) throw new PeelError("INVALID_ARGUMENT", `train: exportDtype must be one of ${GGUF_EXPORT_DTYPES.join(", ")}, got ${String(r.exportDtype)}`);
  if (typeof r.name !== "string" || r.name === "") throw new PeelError("INVALID_ARGUMENT", "train: the model name must be a non-empty string");
  return r;
}

export async function runTraining(o: TrainRunOptions): Promise<RunSummary> {
  if (o.fresh !== undefined) reportingOf(o, {}); // settings are checked before any file is touched
  let exportProblem: string | undefined;
  const p = o.fresh !== undefined ? await startFresh(o, o.fresh) : await resume(o);
  const rep = reportingOf(o, p.run);
  for (const k of REPORTING_KEYS) p.run[k] = rep[k];
  try { ggufArchitectureOf(p.params.config); } catch (e) { exportProblem = (e as Error).message; }
  const { trainer, history } = p;
  const hyper = trainer.hyper;
  const log = createJsonlLog(join(o.outDir, RUN_FILES.log), { append: o.fresh === undefined });
  o.hooks?.onStart?.({ config: p.params.config, hyper, parameters: countParams(p.params), trainTokens: p.split.train.length, valTokens: p.split.val.length, startStep: trainer.step });
  const startedAt = performance.now();
  const elapsed = (): number => p.elapsedMs + (performance.now() - startedAt);
  const save = async (): Promise<void> => {
    const dir = join(o.outDir, RUN_FILES.checkpoint);
    await saveCheckpoint(dir, p.params, trainer.snapshot(), {
      format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: p.params.config, hyper, elapsedMs: elapsed(), history: history as LossHistory, run: p.run,
    });
    writeFileSync(join(o.outDir, RUN_FILES.curve), lossCurveSvg(history, { title: `${rep.name}: loss by step` }));
    o.hooks?.onSave?.(trainer.step, dir);
  };
  let interrupted = false, tokens = 0, lastTrain: number | undefined;
  try {
    while (trainer.step < hyper.steps) {
      if (o.signal?.aborted) { interrupted = true; break; }
      const r = trainer.trainStep();
      tokens += r.tokens;
      lastTrain = r.loss;
      history.train.push({ step: r.step, loss: r.loss });
      log.write({ type: "step", step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, tokens: r.tokens, elapsedMs: Math.round(elapsed()) });
      o.hooks?.onStep?.(r, elapsed());
      if (r.step % rep.evalEvery === 0 || r.step === hyper.steps) {
        const val = trainer.evaluate();
        history.val.push({ step: r.step, loss: val });
        log.write({ type: "eval", step: r.step, valLoss: val });
        o.hooks?.onEval?.(r.step, val);
      }
      if (r.step % rep.saveEvery === 0 || r.step === hyper.steps) await save();
      await yieldToEventLoop(); // lets Ctrl-C (the abort signal) through between steps
    }
    if (interrupted) await save();
  } finally {
    log.close();
  }
  let gguf: string | undefined;
  if (!interrupted && exportProblem === undefined) {
    gguf = join(o.outDir, RUN_FILES.gguf);
    await writeGgufFile(gguf, p.params, p.trained, { name: rep.name, dtype: rep.exportDtype, force: true, description: `trained by peel train for ${trainer.step} steps` });
  }
  const ms = performance.now() - startedAt;
  return {
    steps: trainer.step, interrupted, trainLoss: lastTrain, valLoss: history.val.at(-1)?.loss, elapsedMs: elapsed(),
    tokensPerSecond: ms > 0 ? tokens / (ms / 1000) : 0, gguf, noGgufReason: interrupted ? "the run was interrupted" : exportProblem,
  };
}
