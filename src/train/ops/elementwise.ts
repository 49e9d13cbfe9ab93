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
    if (a.needsGrad) tape.addGrad(a, g);
    if (b.needsGrad) tape.addGrad(b, g);
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

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), forward and backward on the backend's kernels. */
export function gelu(tape: Tape, x: Value): Value {
  const y = tape.output(x.shape, [x]);
  tape.kernels.gelu(y.data, x.data, y.data.length);
  tape.record(y, (g) => tape.kernels.geluBackward(tape.grad(x), x.data, g, g.length));
  return y;
}

/** silu(gate) · up, the forward computed by the same kernel inference uses. */
export function swiglu(tape: Tape, gate: Value, up: Value): Value {
  sameSize(gate, up, "swiglu");
  const y = tape.output(gate.shape, [gate, up]);
  tape.kernels.swiglu(y.data, gate.data, up.data, y.data.length);
  tape.record(y, (g) => {
    // both gradients are computed together; a side that needs none gets a throwaway buffer
    const gg = gate.needsGrad ? tape.grad(gate) : new Float32Array(g.length);
    const gu = up.needsGrad ? tape.grad(up) : new Float32Array(g.length);
    tape.kernels.swigluBackward(gg, gu, gate.data, up.data, g, g.length);
  });
  return y;
}
