// pca2d on point sets whose principal axes are known: points on a line recover its direction with all the
// variance; a Gaussian cloud with covariance diag(9, 4, 1) rotated recovers the rotated axes and variances;
// the result is deterministic and its axes orthonormal; bad shapes are PeelErrors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "../sample/rng.js";
import { PeelError } from "../util/errors.js";
import { pca2d } from "./pca.js";

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * (b[i] as number), 0);

test("points on a line: the first axis is the line, the second carries no variance", () => {
  const dir = [3, -4, 12].map((v) => v / 13); // a unit vector
  const ts = [-2, -0.5, 0, 1, 3.5];
  const pts = ts.flatMap((t) => dir.map((d, i) => 10 + i + t * d)); // offset by (10, 11, 12)
  const r = pca2d(pts, ts.length, 3);
  assert.ok(Math.abs(Math.abs(dot(r.axes[0], dir)) - 1) < 1e-12);
  const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
  const variance = ts.reduce((a, t) => a + (t - mean) ** 2, 0) / (ts.length - 1);
  assert.ok(Math.abs(r.variance[0] - variance) < 1e-12);
  assert.ok(r.variance[1] < 1e-20);
  assert.ok(Math.abs(dot(r.axes[0], r.axes[1])) < 1e-12 && Math.abs(dot(r.axes[1], r.axes[1]) - 1) < 1e-12);
  assert.deepEqual([...r.mean].map((m) => Math.round(m * 1e9) / 1e9), [10 + mean * dir[0]!, 11 + mean * dir[1]!, 12 + mean * dir[2]!].map((m) => Math.round(m * 1e9) / 1e9));
  for (const [p, t] of ts.entries()) assert.ok(Math.abs(Math.abs(r.coords[p * 2]!) - Math.abs(t - mean)) < 1e-12);
});

test("a rotated Gaussian cloud with variances 9, 4, 1 gives the rotated axes and about those variances", () => {
  // an orthonormal basis: rotation by 30° in the (x, y) plane, then z
  const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
  const basis = [[c, s, 0], [-s, c, 0], [0, 0, 1]];
  const sd = [3, 2, 1];
  const rng = createRng(4);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const n = 20000;
  const pts = new Float64Array(n * 3);
  for (let p = 0; p < n; p++) {
    const z = sd.map((x) => x * gauss());
    for (let i = 0; i < 3; i++) pts[p * 3 + i] = basis.reduce((a, b, j) => a + (z[j] as number) * (b[i] as number), 0);
  }
  const r = pca2d(pts, n, 3);
  assert.ok(Math.abs(dot(r.axes[0], basis[0]!)) > 0.999, `axis 1 · (cos 30°, sin 30°, 0) = ${dot(r.axes[0], basis[0]!)}`);
  assert.ok(Math.abs(dot(r.axes[1], basis[1]!)) > 0.999);
  assert.ok(Math.abs(r.variance[0] - 9) < 0.3 && Math.abs(r.variance[1] - 4) < 0.15, `${r.variance}`);
  const again = pca2d(pts, n, 3);
  assert.deepEqual([...again.coords], [...r.coords], "deterministic");
});

test("bad shapes are INVALID_ARGUMENT", () => {
  assert.throws(() => pca2d([1, 2], 1, 2), PeelError);
  assert.throws(() => pca2d([1, 2, 3], 3, 1), PeelError);
  assert.throws(() => pca2d([1, 2, 3], 2, 2), PeelError);
});
