/**
 * Pointwise ops and their derivatives: residual add, ReLU, GELU (tanh approximation, as GPT-2 and ggml use),
 * and SwiGLU (silu(gate) · up, Llama's feed-forward).
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

function sameSize(a: Value, b: Value, op: string): void {
  if (a.data.length !== b.data.length) {
    throw new PeelError("INVALID_ARGUMENT", `train: ${op} of shapes (${a.shape.join(", ")}) and (${b.shape.join(", ")})`);
  }
}

/** a + b (same shape): the residual connection. */
export function add(tape: Tape, a: Value, b: Value): Value {
  sameSize(a, b, "add");
  const y = tape.output(a.shape, [a, b]);
  for (let i = 0; i < y.data.length; i++) y.data[i] = (a.data[i] as number) + (b.data[i] as number);
  tape.record(y, (g) => {
    for (const v of [a, b]) {
      if (!v.needsGrad) continue;
      const gv = tape.grad(v);
      for (let i = 0; i < g.length; i++) gv[i] = (gv[i] as number) + (g[i] as number);
    }
  });
  return y;
}

export function relu(tape: Tape, x: Value): Value {
  const y = tape.output(x.shape, [x]);
  for (let i = 0; i < y.data.length; i++) y.data[i] = Math.max(0, x.data[i] as number);
  tape.record(y, (g) => {
    const gx = tape.grad(x);
    for (let i = 0; i < g.length; i++) if ((x.data[i] as number) > 0) gx[i] = (gx[i] as number) + (g[i] as number);
  });
  return y;
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(tape: Tape, x: Value): Value {
  const y = tape.output(x.shape, [x]);
  for (let i = 0; i < y.data.length; i++) {
    const v = x.data[i] as number;
    y.data[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
  }
  tape.record(y, (g) => {
    const gx = tape.grad(x);
    for (let i = 0; i < g.length; i++) {
      const v = x.data[i] as number;
      const th = Math.tanh(GELU_C * (v + 0.044715 * v * v * v));
      const d = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * GELU_C * (1 + 3 * 0.044715 * v * v);
      gx[i] = (gx[i] as number) + (g[i] as number) * d;
    }
  });
  return y;
}

/** silu(gate) · up, the forward computed by the same kernel inference uses. */
export function swiglu(tape: Tape, gate: Value, up: Value): Value {
  sameSize(gate, up, "swiglu");
  const y = tape.output(gate.shape, [gate, up]);
  tape.kernels.swiglu(y.data, gate.data, up.data, y.data.length);
  tape.record(y, (g) => {
    const gg = gate.needsGrad ? tape.grad(gate) : undefined;
    const gu = up.needsGrad ? tape.grad(up) : undefined;
    for (let i = 0; i < g.length; i++) {
      const a = gate.data[i] as number, u = up.data[i] as number, gi = g[i] as number;
      const s = 1 / (1 + Math.exp(-a));
      if (gg) gg[i] = (gg[i] as number) + gi * u * s * (1 + a * (1 - s));
      if (gu) gu[i] = (gu[i] as number) + gi * a * s;
    }
  });
  return y;
}
