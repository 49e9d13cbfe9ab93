/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"): Adam's moment estimates with bias
 * correction, and weight decay applied to the weights directly (p -= lr·wd·p) rather than folded into the
 * gradient, only to params marked `decay`. Moments are stored per param, keyed by name, so a checkpoint can
 * save and restore them.
 */

import { PeelError } from "../../util/errors.js";
import type { Param } from "../model/params.js";

export interface AdamWOptions {
  readonly beta1: number;
  readonly beta2: number;
  /** Added to sqrt(v̂) so a param with tiny gradients does not take huge steps. */
  readonly eps: number;
  readonly weightDecay: number;
}

/** Everything needed to continue optimizing exactly: the step count and both moments per param name. */
export interface AdamWState {
  readonly t: number;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
}

export interface AdamW {
  /** Applies one update from the params' current `grad` with learning rate `lr`. */
  step(lr: number): void;
  /** Steps taken so far (the exponent of the bias correction). */
  readonly t: number;
  /** A copy of the optimizer state. */
  state(): AdamWState;
  /** Replaces the state with a copy of `state`; INVALID_ARGUMENT naming the param if it does not fit. */
  restore(state: AdamWState): void;
}

export function createAdamW(params: readonly Param[], opts: AdamWOptions): AdamW {
  validateAdamWOptions(opts);
  checkUniqueNames(params);
  const { beta1: b1, beta2: b2, eps, weightDecay: wd } = opts;
  const m = params.map((p) => new Float32Array(p.data.length));
  const v = params.map((p) => new Float32Array(p.data.length));
  let t = 0;
  return {
    get t(): number {
      return t;
    },
    step(lr: number): void {
      if (!(Number.isFinite(lr) && lr >= 0)) throw bad(`learning rate must be a finite number ≥ 0, got ${lr}`);
      t++;
      const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
      params.forEach((p, i) => updateParam(p, m[i]!, v[i]!, { b1, b2, eps, lr, decay: p.decay ? lr * wd : 0, bc1, bc2 }));
    },
    state(): AdamWState {
      const names = params.map((p) => p.name);
      return { t, m: new Map(names.map((n, i) => [n, m[i]!.slice()])), v: new Map(names.map((n, i) => [n, v[i]!.slice()])) };
    },
    restore(state: AdamWState): void {
      checkState(params, state);
      params.forEach((p, i) => {
        m[i]!.set(state.m.get(p.name)!);
        v[i]!.set(state.v.get(p.name)!);
      });
      t = state.t;
    },
  };
}

interface StepConsts {
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly lr: number;
  /** lr·wd for params that decay, 0 otherwise. */
  readonly decay: number;
  readonly bc1: number;
  readonly bc2: number;
}

function updateParam(p: Param, m: Float32Array, v: Float32Array, k: StepConsts): void {
  const { data, grad } = p;
  const keep = 1 - k.decay;
  for (let j = 0; j < data.length; j++) {
    const g = grad[j]!;
    const mj = k.b1 * m[j]! + (1 - k.b1) * g;
    const vj = k.b2 * v[j]! + (1 - k.b2) * g * g;
    m[j] = mj;
    v[j] = vj;
    // decay uses the weight before this step's Adam update, as in the paper's Algorithm 2
    data[j] = data[j]! * keep - (k.lr * (mj / k.bc1)) / (Math.sqrt(vj / k.bc2) + k.eps);
  }
}

/** Throws INVALID_ARGUMENT naming the first hyperparameter out of range. */
export function validateAdamWOptions(o: AdamWOptions): void {
  for (const key of ["beta1", "beta2"] as const) {
    if (!(o[key] >= 0 && o[key] < 1)) throw bad(`${key} must be in [0, 1), got ${o[key]}`);
  }
  if (!(o.eps > 0 && Number.isFinite(o.eps))) throw bad(`eps must be a finite number > 0, got ${o.eps}`);
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) throw bad(`weightDecay must be a finite number ≥ 0, got ${o.weightDecay}`);
}

function checkUniqueNames(params: readonly Param[]): void {
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) throw bad(`param name ${p.name} appears twice; optimizer state is keyed by name`);
    seen.add(p.name);
  }
}

function checkState(params: readonly Param[], s: AdamWState): void {
  if (!(Number.isInteger(s.t) && s.t >= 0)) throw bad(`state step count must be an integer ≥ 0, got ${s.t}`);
  for (const [label, map] of [["m", s.m], ["v", s.v]] as const) {
    for (const p of params) {
      const a = map.get(p.name);
      if (a === undefined) throw bad(`state has no ${label} for param ${p.name}`);
      if (a.length !== p.data.length) throw bad(`state ${label} for param ${p.name} has ${a.length} values, the param has ${p.data.length}`);
    }
    const names = new Set(params.map((p) => p.name));
    for (const name of map.keys()) if (!names.has(name)) throw bad(`state ${label} has param ${name}, which this model does not have`);
  }
}

function bad(msg: string): PeelError {
  return new PeelError("INVALID_ARGUMENT", `AdamW: ${msg}`);
}
