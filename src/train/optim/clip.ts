/** Gradient clipping by global L2 norm: one norm over every param's gradient, so the update keeps its direction. */

import { PeelError } from "../../util/errors.js";
import type { Param } from "../model/params.js";

/**
 * Returns the global L2 norm of all grads (summed in float64, in `params` order, so the result is
 * reproducible) and, when it exceeds `maxNorm`, scales every grad by maxNorm/norm. `maxNorm` = Infinity
 * measures only. A non-finite norm (an overflowed or NaN gradient) is returned without scaling so the
 * caller can notice and skip the step.
 */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new PeelError("INVALID_ARGUMENT", `gradient clip norm must be > 0 (Infinity to only measure), got ${maxNorm}`);
  let sum = 0;
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sum);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / norm;
    for (const p of params) {
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
    }
  }
  return norm;
}
