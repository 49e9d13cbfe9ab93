/**
 * One training run's state and its step: sample micro-batches, forward with the tape, backward (gradients
 * accumulate over `accumulation` micro-batches, each seeded with 1/accumulation so the sum is a mean), clip by
 * global norm, AdamW at the scheduled learning rate. Everything that decides the next step (weights, optimizer
 * moments, the data sampler's generator, the step count) is in `TrainerState`, so a checkpoint of it resumes a
 * run exactly. Browser-safe; files and the terminal are in the CLI and checkpoint/*.node.ts.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { createRng, restoreRng, type RngState, type StatefulRng } from "../../sample/rng.js";
import { PeelError } from "../../util/errors.js";
import { Tape } from "../autograd/tape.js";
import { evalBatches, sampleBatch, type Batch, type EvalBatch } from "../data/batches.js";
import { forwardLoss } from "../model/forward.js";
import type { ModelParams } from "../model/params.js";
import { createAdamW, validateAdamWOptions, type AdamW, type AdamWOptions, type AdamWState } from "../optim/adamw.js";
import { clipGradNorm } from "../optim/clip.js";
import { learningRateAt, validateSchedule, type LrSchedule } from "../optim/schedule.js";

export interface TrainHyperparameters {
  /** Windows per micro-batch. */
  readonly batchSize: number;
  /** Tokens per window (≤ the model's contextLength). */
  readonly seqLen: number;
  /** Micro-batches per optimizer step. */
  readonly accumulation: number;
  /** Optimizer steps in the whole run (the schedule's length). */
  readonly steps: number;
  readonly schedule: LrSchedule;
  readonly adamw: AdamWOptions;
  /** Global gradient-norm limit; Infinity to only measure. */
  readonly clipNorm: number;
  /** Seeds the weights and the data sampler. */
  readonly seed: number;
  /** Validation windows are evaluated in batches of batchSize, at most this many batches. */
  readonly evalBatches: number;
}

export interface TrainData {
  readonly train: Uint32Array;
  readonly val: Uint32Array;
}

/** What a checkpoint stores besides the weights. */
export interface TrainerSnapshot {
  readonly step: number;
  readonly rng: RngState;
  readonly optimizer: AdamWState;
}

export interface StepResult {
  /** 1-based number of the step just taken. */
  readonly step: number;
  /** Mean training loss over the step's micro-batches. */
  readonly loss: number;
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Tokens the step trained on. */
  readonly tokens: number;
}

export interface Trainer {
  readonly params: ModelParams;
  readonly hyper: TrainHyperparameters;
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** Takes one optimizer step on `accumulation` micro-batches drawn by the seeded sampler. */
  trainStep(): StepResult;
  /** Takes one optimizer step on the given micro-batches (benchmarks, custom data feeds); the sampler is not used. */
  trainStepOn(batches: readonly Batch[]): StepResult;
  /** Mean loss over the fixed validation windows (no gradients). */
  evaluate(): number;
  snapshot(): TrainerSnapshot;
}

export function validateHyperparameters(h: TrainHyperparameters, contextLength: number): void {
  const int = (name: string, v: number, lo: number, hi: number): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new PeelError("INVALID_ARGUMENT", `train: ${name} must be an integer in ${lo}..${hi}, got ${v}`);
  };
  int("batchSize", h.batchSize, 1, 1 << 16);
  int("seqLen", h.seqLen, 1, contextLength);
  int("accumulation", h.accumulation, 1, 1 << 16);
  int("steps", h.steps, 1, 1e9);
  int("evalBatches", h.evalBatches, 1, 1 << 20);
  int("seed", h.seed, 0, 0xffffffff);
  if (!(h.clipNorm > 0)) throw new PeelError("INVALID_ARGUMENT", `train: clipNorm must be > 0 (Infinity for no clipping), got ${h.clipNorm}`);
  validateSchedule(h.schedule);
  validateAdamWOptions(h.adamw);
}

/**
 * A trainer over `params` (already initialised or loaded) and `data`. With `resume`, the optimizer, the data
 * sampler and the step count continue from the snapshot; otherwise the sampler is seeded from `hyper.seed`.
 */
export function createTrainer(kernels: Kernels, params: ModelParams, hyper: TrainHyperparameters, data: TrainData, resume?: TrainerSnapshot): Trainer {
  validateHyperparameters(hyper, params.config.contextLength);
  const optimizer: AdamW = createAdamW(params.list, hyper.adamw);
  // the sampler's stream is separate from the init stream (seed + 1), so both are reproducible on their own
  let rng: StatefulRng = createRng((hyper.seed + 1) >>> 0);
  let step = 0;
  if (resume !== undefined) {
    optimizer.restore(resume.optimizer);
    rng = restoreRng(resume.rng);
    step = resume.step;
  }
  const T = hyper.seqLen, B = hyper.batchSize;
  let valBatches: EvalBatch[] | undefined;

  return {
    params,
    hyper,
    get step() { return step; },
    trainStep(): StepResult {
      return this.trainStepOn(Array.from({ length: hyper.accumulation }, () => sampleBatch(data.train, B, T, rng)));
    },
    trainStepOn(batches: readonly Batch[]): StepResult {
      for (const p of params.list) p.grad.fill(0);
      let lossSum = 0;
      for (const batch of batches) {
        const tape = new Tape(kernels);
        const loss = forwardLoss(tape, params, batch.inputs, batch.targets, batch.inputs.length / T, T);
        lossSum += loss.data[0] as number;
        tape.backward(loss, 1 / batches.length);
      }
      const loss = lossSum / batches.length;
      if (!Number.isFinite(loss)) {
        throw new PeelError("INVALID_ARGUMENT", `train: the loss became ${loss} at step ${step + 1}; lower the learning rate (now ${learningRateAt(step, hyper.schedule)}) or the clip norm`);
      }
      const gradNorm = clipGradNorm(params.list, hyper.clipNorm);
      const lr = learningRateAt(step, hyper.schedule);
      optimizer.step(lr);
      step++;
      return { step, loss, lr, gradNorm, tokens: batches.reduce((n, b) => n + b.inputs.length, 0) };
    },
    evaluate(): number {
      valBatches ??= evalBatches(data.val, B, T, hyper.evalBatches);
      let sum = 0, rows = 0;
      for (const b of valBatches) {
        const loss = forwardLoss(new Tape(kernels, { grad: false }), params, b.inputs, b.targets, b.rows, T);
        sum += (loss.data[0] as number) * b.rows;
        rows += b.rows;
      }
      return sum / rows;
    },
    snapshot(): TrainerSnapshot {
      return { step, rng: rng.state(), optimizer: optimizer.state() };
    },
  };
}
