/** The learning-rate schedule: linear warmup to maxLr, then a half-cosine down to minLr at totalSteps. */

import { PeelError } from "../../util/errors.js";

export interface LrSchedule {
  readonly maxLr: number;
  readonly minLr: number;
  /** Steps of linear warmup (0 for none). */
  readonly warmupSteps: number;
  /** The step at which the cosine reaches minLr; later steps stay at minLr. */
  readonly totalSteps: number;
}

/**
 * Learning rate for 0-based `step`: maxLr·(step+1)/warmupSteps while step < warmupSteps (so the first step
 * is not 0 and the last warmup step reaches maxLr), then minLr + ½(maxLr−minLr)(1+cos(π·progress)) with
 * progress going 0 → 1 from warmupSteps to totalSteps, then minLr.
 */
export function learningRateAt(step: number, s: LrSchedule): number {
  validateSchedule(s);
  if (!(Number.isInteger(step) && step >= 0)) throw bad(`step must be an integer ≥ 0, got ${step}`);
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const progress = (step - s.warmupSteps) / (s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (s.maxLr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Throws INVALID_ARGUMENT naming the first field out of range. */
export function validateSchedule(s: LrSchedule): void {
  if (!(s.maxLr > 0 && Number.isFinite(s.maxLr))) throw bad(`maxLr must be a finite number > 0, got ${s.maxLr}`);
  if (!(s.minLr >= 0 && s.minLr <= s.maxLr)) throw bad(`minLr must be in 0..maxLr (${s.maxLr}), got ${s.minLr}`);
  if (!(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0)) throw bad(`warmupSteps must be an integer ≥ 0, got ${s.warmupSteps}`);
  if (!(Number.isInteger(s.totalSteps) && s.totalSteps >= 1)) throw bad(`totalSteps must be an integer ≥ 1, got ${s.totalSteps}`);
  if (s.warmupSteps > s.totalSteps) throw bad(`warmupSteps (${s.warmupSteps}) must not exceed totalSteps (${s.totalSteps})`);
}

function bad(msg: string): PeelError {
  return new PeelError("INVALID_ARGUMENT", `learning-rate schedule: ${msg}`);
}
