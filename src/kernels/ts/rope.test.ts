// RoPE on a hand case (headDim 4, position 1, invFreq [1, 0.01]) in both pair layouts, the pass-through of
// dims past nRot, and the round trip: rotating by p then by −p gives the input back.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { RopeSpec, RopeStyle } from "../kernels.js";
import { rope } from "./rope.js";

function close(got: ArrayLike<number>, want: readonly number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs((got[i] as number) - (want[i] as number)) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

const spec = (style: RopeStyle, nRot: number, invFreq: number[]): RopeSpec => ({ style, nRot, invFreq: new Float32Array(invFreq) });
const { cos, sin } = Math;

test("rope normal: adjacent pairs (0,1) at angle 1 and (2,3) at angle 0.01", () => {
  const x = new Float32Array([1, 2, 3, 4]);
  rope(x, new Int32Array([1]), 1, 1, 4, spec("normal", 4, [1, 0.01]));
  close(x, [cos(1) - 2 * sin(1), sin(1) + 2 * cos(1), 3 * cos(0.01) - 4 * sin(0.01), 3 * sin(0.01) + 4 * cos(0.01)], 1e-6, "normal");
});

test("rope neox: half-split pairs (0,2) at angle 1 and (1,3) at angle 0.01", () => {
  const x = new Float32Array([1, 2, 3, 4]);
  rope(x, new Int32Array([1]), 1, 1, 4, spec("neox", 4, [1, 0.01]));
  close(x, [cos(1) - 3 * sin(1), 2 * cos(0.01) - 4 * sin(0.01), sin(1) + 3 * cos(1), 2 * sin(0.01) + 4 * cos(0.01)], 1e-6, "neox");
});

test("rope: position 0 is the identity; angles scale with position; every head turns alike", () => {
  // 2 tokens at positions 0 and 3, 2 heads of 4 dims
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
  rope(x, new Int32Array([0, 3]), 2, 2, 4, spec("normal", 4, [1, 0.01]));
  close(x.subarray(0, 8), [1, 2, 3, 4, 5, 6, 7, 8], 0, "pos 0");
  close(x.subarray(8, 10), [cos(3) - 2 * sin(3), sin(3) + 2 * cos(3)], 1e-6, "pos 3 head 0");
  close(x.subarray(12, 14), [5 * cos(3) - 6 * sin(3), 5 * sin(3) + 6 * cos(3)], 1e-6, "pos 3 head 1");
});

for (const style of ["normal", "neox"] as const) {
  test(`rope ${style}: nRot 4 < headDim 6 leaves dims 4 and 5 untouched`, () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]); // 2 heads
    rope(x, new Int32Array([7]), 1, 2, 6, spec(style, 4, [1, 0.5]));
    assert.deepEqual([x[4], x[5], x[10], x[11]], [5, 6, -5, -6]);
    assert.notEqual(x[0], 1);
    // the rotated dims keep their norm
    const n2 = (x[0] as number) ** 2 + (x[1] as number) ** 2 + (x[2] as number) ** 2 + (x[3] as number) ** 2;
    assert.ok(Math.abs(n2 - 30) < 1e-4);
  });

  test(`rope ${style}: rotating by p then by -p is the identity`, () => {
    const headDim = 8, nHeads = 3, nTokens = 2;
    const x0 = new Float32Array(nTokens * nHeads * headDim).map((_, i) => Math.cos(i * 0.7) * 2);
    const x = x0.slice();
    const s = spec(style, 8, [1, 0.1, 0.01, 0.001]);
    rope(x, new Int32Array([5, 17]), nTokens, nHeads, headDim, s);
    rope(x, new Int32Array([-5, -17]), nTokens, nHeads, headDim, s);
    close(x, [...x0], 1e-5, "round trip");
  });
}
