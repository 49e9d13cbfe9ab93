/**
 * The wasm backend's element-wise kernels (activations, their training backwards, adds, scales, softmax):
 * thin wrappers that stage their arrays (staging.ts) and call the module's SIMD loops; SwiGLU, GeGLU and soft
 * caps are split across the pool when they are big. GELU reads the reference's f16 table, copied into wasm
 * memory on first use, so both backends round the same way.
 */

import type { Kernels } from "../kernels.js";
import { geluF16Table } from "../ts/elementwise.js";
import { OP, type OpCode } from "./pool-protocol.js";
import { MIN_PARALLEL_NORM, type Staging } from "./staging.js";

export type ElementwiseKernels = Pick<Kernels, "relu" | "swiglu" | "geglu" | "scale" | "softcap" | "geluRounded" | "gelu" |
  "geluBackward" | "swigluBackward" | "addInPlace" | "addBias" | "softmax">;

export function createElementwiseKernels(st: Staging): ElementwiseKernels {
  const { ex, heap, input, output } = st;
  /** The GELU table (65536 f32) in wasm memory, copied from the reference's on first use: both backends read the same values. */
  let geluTable = -1;
  function geluTablePtr(): number {
    if (geluTable < 0) {
      const t = geluF16Table();
      geluTable = heap.alloc(t.length * 4, "the GELU table");
      heap.f32(geluTable, t.length).set(t);
    }
    return geluTable;
  }
  /** Runs a job over n values on this thread, or split across the pool (on multiples of 16) when it is big. */
  function split(n: number, serial: () => void, op: OpCode, setArgs: (args: Float64Array) => void): void {
    const pool = st.pool();
    if (pool === undefined || n < MIN_PARALLEL_NORM) serial();
    else pool.run(op, n, 16, setArgs);
  }
  return {
    swiglu(out, gate, up, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      output(out, n, "out", false, (op) => split(n, () => ex.swiglu(op, gp, upp, n), OP.swiglu, (a) => { a[0] = op; a[1] = gp; a[2] = upp; }));
    },
    relu(out, x, n) {
      // one compare per value: not worth a trip through the staging buffers
      for (let i = 0; i < n; i++) { const v = x[i] as number; out[i] = v > 0 ? v : 0; }
    },
    geglu(out, gate, up, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      const tp = geluTablePtr();
      output(out, n, "out", false, (op) =>
        split(n, () => ex.geglu(op, gp, upp, n, tp), OP.geglu, (a) => { a[0] = op; a[1] = gp; a[2] = upp; a[3] = tp; }));
    },
    scale(x, s, n) {
      output(x, n, "io-x", true, (xp) => ex.scaleInPlace(xp, s, n));
    },
    softcap(x, cap, n) {
      const inv = Math.fround(1 / cap);
      output(x, n, "io-x", true, (xp) => split(n, () => ex.softcap(xp, cap, inv, n), OP.softcap, (a) => { a[0] = xp; a[1] = cap; a[2] = inv; }));
    },
    geluRounded(out, x, n) {
      const xp = input(x, n, "in-x");
      const tp = geluTablePtr();
      output(out, n, "out", false, (op) => ex.geluRounded(op, xp, n, tp));
    },
    gelu(out, x, n) {
      const xp = input(x, n, "in-x");
      output(out, n, "out", false, (op) => ex.gelu(op, xp, n));
    },
    geluBackward(dx, x, dy, n) {
      const xp = input(x, n, "in-x");
      const dyp = input(dy, n, "in-w");
      output(dx, n, "io-x", true, (dxp) => ex.geluBackward(dxp, xp, dyp, n));
    },
    swigluBackward(dGate, dUp, gate, up, dy, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      const dyp = input(dy, n, "in-q");
      output(dGate, n, "io-x", true, (dgp) => output(dUp, n, "io-x2", true, (dup) => ex.swigluBackward(dgp, dup, gp, upp, dyp, n)));
    },
    addInPlace(acc, x, n) {
      const xp = input(x, n, "in-x");
      output(acc, n, "io-x2", true, (ap) => ex.addInPlace(ap, xp, n));
    },
    addBias(x, bias, nTokens, dim) {
      const bp = input(bias, dim, "in-b");
      output(x, nTokens * dim, "io-x2", true, (xp) => ex.addBias(xp, bp, nTokens, dim));
    },
    softmax(x, n) {
      output(x, n, "io-x", true, (xp) => ex.softmax(xp, n));
    },
  };
}
