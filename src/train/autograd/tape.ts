/**
 * Reverse-mode automatic differentiation as a tape: each differentiable op computes its output, then
 * records a closure that, given the output's gradient, adds its inputs' gradients. `backward` replays the
 * closures last to first. Values are flat Float32Arrays with a shape; gradients are allocated only for values
 * something depends on, and parameters accumulate straight into their Param.grad (which is how gradient
 * accumulation across micro-batches works). The tape is for one forward/backward pass; inference never uses it.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { PeelError } from "../../util/errors.js";
import type { Param } from "../model/params.js";

export interface Value {
  readonly data: Float32Array;
  /** Outermost first, e.g. (tokens, dim). */
  readonly shape: readonly number[];
  /** True when some parameter's gradient flows through this value. */
  readonly needsGrad: boolean;
  /** Set by the tape once something adds to it; read through `Tape.grad`. */
  grad: Float32Array | undefined;
}

export class Tape {
  private steps: Array<() => void> = [];
  private done = false;

  /**
   * `kernels` does the heavy products (matmulF32) and the ops the inference path shares (rope, rmsNorm).
   * With `opts.grad` false nothing is recorded (evaluation): parameters enter as constants.
   */
  constructor(readonly kernels: Kernels, private readonly opts: { readonly grad: boolean } = { grad: true }) {}

  /** A parameter as a tape value: its gradient is the Param's own grad buffer, so backward accumulates into it. */
  param(p: Param): Value {
    return { data: p.data, shape: p.shape, needsGrad: this.opts.grad, grad: this.opts.grad ? p.grad : undefined };
  }

  /** Data no gradient is wanted for (inputs, constants). */
  constant(data: Float32Array, shape: readonly number[]): Value {
    checkSize(data, shape);
    return { data, shape, needsGrad: false, grad: undefined };
  }

  /** A new op output; it needs a gradient when any input does. */
  output(shape: readonly number[], inputs: readonly Value[]): Value {
    const n = shape.reduce((a, b) => a * b, 1);
    return { data: new Float32Array(n), shape, needsGrad: inputs.some((v) => v.needsGrad), grad: undefined };
  }

  /** Records how to push `out`'s gradient back to its inputs; skipped when nothing needs it. */
  record(out: Value, backward: (gOut: Float32Array) => void): void {
    if (this.done) throw new PeelError("INVALID_ARGUMENT", "train: this tape already ran backward; start a new Tape for the next pass");
    if (out.needsGrad) this.steps.push(() => { if (out.grad !== undefined) backward(out.grad); });
  }

  /** The gradient buffer of v, created zeroed on first use (ops add into it). */
  grad(v: Value): Float32Array {
    v.grad ??= new Float32Array(v.data.length);
    return v.grad;
  }

  /** Adds `g` (same size) into v's gradient, on the backend's addInPlace kernel. */
  addGrad(v: Value, g: Float32Array): void {
    this.kernels.addInPlace(this.grad(v), g, g.length);
  }

  /** Runs the recorded steps last to first from a scalar `loss`, seeded with d(loss) = `scale` (e.g. 1/accumulation). */
  backward(loss: Value, scale = 1): void {
    if (loss.data.length !== 1) throw new PeelError("INVALID_ARGUMENT", `train: backward needs a scalar loss, got shape (${loss.shape.join(", ")})`);
    if (this.done) throw new PeelError("INVALID_ARGUMENT", "train: this tape already ran backward");
    this.grad(loss)[0] = scale;
    for (let i = this.steps.length - 1; i >= 0; i--) (this.steps[i] as () => void)();
    this.steps = [];
    this.done = true;
  }
}

function checkSize(data: Float32Array, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new PeelError("INVALID_ARGUMENT", `train: data of ${data.length} values does not have shape (${shape.join(", ")})`);
}
