/**
 * A 2-D principal component projection, written plainly: centre the points, find the two leading
 * eigenvectors of their covariance by power iteration (the second kept orthogonal to the first), project.
 * The covariance is never formed: C·v = Xᵀ(X·v) / (n − 1) costs two passes over the points, so a few
 * hundred 4096-wide embeddings are cheap. Deterministic: a fixed start vector (a seeded Rng) and a fixed
 * sign (each axis's largest component positive). For a handful of points to plot, not for big matrices.
 */

import { createRng } from "../sample/rng.js";
import { PeelError } from "../util/errors.js";

export interface Pca2d {
  /** (dim) the points' mean. */
  readonly mean: Float64Array;
  /** Two unit axes (dim each), the first along the most variance. */
  readonly axes: readonly [Float64Array, Float64Array];
  /** Variance along each axis (sample variance, divided by n − 1). */
  readonly variance: readonly [number, number];
  /** (n, 2) each point's coordinates on the axes, relative to the mean. */
  readonly coords: Float64Array;
}

const MAX_ITERATIONS = 1000;

/** points (n, dim), n ≥ 2, dim ≥ 2. */
export function pca2d(points: ArrayLike<number>, n: number, dim: number): Pca2d {
  if (!(Number.isInteger(n) && n >= 2 && Number.isInteger(dim) && dim >= 2 && points.length === n * dim)) {
    throw new PeelError("INVALID_ARGUMENT", `pca2d: expected (n ≥ 2, dim ≥ 2) points in ${n} × ${dim} = ${n * dim} values, got ${points.length}`);
  }
  const mean = new Float64Array(dim);
  for (let p = 0; p < n; p++) for (let i = 0; i < dim; i++) mean[i] = (mean[i] as number) + (points[p * dim + i] as number) / n;
  const x = new Float64Array(n * dim); // centred
  for (let p = 0; p < n; p++) for (let i = 0; i < dim; i++) x[p * dim + i] = (points[p * dim + i] as number) - (mean[i] as number);

  const proj = new Float64Array(n);
  /** out (dim) = C·v. */
  const covTimes = (out: Float64Array, v: Float64Array) => {
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += (x[p * dim + i] as number) * (v[i] as number);
      proj[p] = s;
    }
    out.fill(0);
    for (let p = 0; p < n; p++) for (let i = 0; i < dim; i++) out[i] = (out[i] as number) + (x[p * dim + i] as number) * (proj[p] as number) / (n - 1);
  };
  const total = dot(x, x) / (n - 1); // trace of C: the scale below which what is left is rounding
  const first = leadingAxis(covTimes, dim, total, undefined);
  const second = leadingAxis(covTimes, dim, total, first.axis);
  const coords = new Float64Array(n * 2);
  for (let p = 0; p < n; p++) {
    coords[p * 2] = dot(x.subarray(p * dim, (p + 1) * dim), first.axis);
    coords[p * 2 + 1] = dot(x.subarray(p * dim, (p + 1) * dim), second.axis);
  }
  return { mean, axes: [first.axis, second.axis], variance: [first.variance, second.variance], coords };
}

/** Power iteration for the leading eigenvector of C, orthogonal to `against` when given. */
function leadingAxis(covTimes: (out: Float64Array, v: Float64Array) => void, dim: number, total: number,
  against: Float64Array | undefined): { axis: Float64Array; variance: number } {
  const rng = createRng(against === undefined ? 1 : 2);
  let v = Float64Array.from({ length: dim }, () => rng.next() - 0.5);
  let w = new Float64Array(dim);
  orthonormalise(v, against);
  orthonormalise(v, against);
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    covTimes(w, v);
    project(w, against); // keeps the second axis out of the first's direction despite rounding
    // nothing left in this subspace (points on a line): C·v is rounding noise, so keep v, variance ≈ 0
    if (Math.sqrt(dot(w, w)) <= 1e-12 * total) break;
    orthonormalise(w, against); // twice: one projection of a nearly parallel vector leaves rounding along `against`
    const converged = 1 - Math.abs(dot(v, w)) < 1e-15;
    [v, w] = [w, v];
    if (converged) break;
  }
  // a fixed sign: the largest component positive
  let big = 0;
  for (let i = 1; i < dim; i++) if (Math.abs(v[i] as number) > Math.abs(v[big] as number)) big = i;
  if ((v[big] as number) < 0) for (let i = 0; i < dim; i++) v[i] = -(v[i] as number);
  return { axis: v, variance: Math.max(0, rayleigh(covTimes, v)) };
}

function rayleigh(covTimes: (out: Float64Array, v: Float64Array) => void, v: Float64Array): number {
  const cv = new Float64Array(v.length);
  covTimes(cv, v);
  return dot(v, cv);
}

/** v ← v − (v·a)a. */
function project(v: Float64Array, a: Float64Array | undefined): void {
  if (a === undefined) return;
  const d = dot(v, a);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) - d * (a[i] as number);
}

/** v ← (v − (v·a)a) / ‖…‖; a zero result stays zero. */
function orthonormalise(v: Float64Array, a: Float64Array | undefined): void {
  project(v, a);
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}
