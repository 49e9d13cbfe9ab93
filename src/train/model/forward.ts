/**
 * The training forward pass: a batch of B windows of T tokens in parallel (teacher forcing), every op taped.
 * It mirrors model/ (the inference graph) stage by stage: embed → (+ positions) → nLayers × [norm → attention
 * → residual, norm → feed-forward → residual] → final norm → LM head. A test holds the two to equal logits.
 */

import type { RopeSpec } from "../../kernels/kernels.js";
import { ropeSpec } from "../../model/rope.js";
import { PeelError } from "../../util/errors.js";
import type { Tape, Value } from "../autograd/tape.js";
import { causalAttention } from "../ops/attention.js";
import { crossEntropy } from "../ops/cross-entropy.js";
import { add, gelu, relu, swiglu } from "../ops/elementwise.js";
import { addLearnedPositions, addSinusoidalPositions, embedding } from "../ops/embedding.js";
import { linear } from "../ops/linear.js";
import { layerNorm, rmsNorm } from "../ops/norm.js";
import { rope } from "../ops/rope.js";
import { headDimOf, type TrainModelConfig } from "./config.js";
import type { LayerParams, ModelParams, Param } from "./params.js";

/** RoPE over whole heads, adjacent pairs, unscaled: inference's own ropeSpec, so both use the same frequencies. */
export function trainRopeSpec(c: TrainModelConfig): RopeSpec {
  return ropeSpec({ style: "normal", nRot: headDimOf(c), theta: c.ropeTheta, localTheta: undefined, scaling: { type: "none" } }, undefined);
}

function norm(tape: Tape, c: TrainModelConfig, x: Value, gain: Param, bias: Param | undefined): Value {
  if (c.norm === "rms") return rmsNorm(tape, x, tape.param(gain), c.normEps);
  if (bias === undefined) throw new Error("unreachable: LayerNorm without a bias parameter");
  return layerNorm(tape, x, tape.param(gain), tape.param(bias), c.normEps);
}

function attentionBlock(tape: Tape, c: TrainModelConfig, l: LayerParams, x: Value, B: number, T: number, spec: RopeSpec): Value {
  const hd = headDimOf(c);
  const a = norm(tape, c, x, l.attnNorm, l.attnNormBias);
  let q = linear(tape, a, tape.param(l.wq));
  let k = linear(tape, a, tape.param(l.wk));
  const v = linear(tape, a, tape.param(l.wv));
  if (c.position === "rope") {
    q = rope(tape, q, T, c.nHeads, hd, spec);
    k = rope(tape, k, T, c.nKvHeads, hd, spec);
  }
  const o = causalAttention(tape, q, k, v, { batch: B, seqLen: T, nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: hd });
  return add(tape, x, linear(tape, o, tape.param(l.wo)));
}

function feedForwardBlock(tape: Tape, c: TrainModelConfig, l: LayerParams, x: Value): Value {
  const m = norm(tape, c, x, l.ffnNorm, l.ffnNormBias);
  const up = linear(tape, m, tape.param(l.wUp));
  let act: Value;
  if (c.activation === "swiglu") {
    if (l.wGate === undefined) throw new Error("unreachable: SwiGLU without a gate matrix");
    act = swiglu(tape, linear(tape, m, tape.param(l.wGate)), up);
  } else {
    act = c.activation === "gelu" ? gelu(tape, up) : relu(tape, up);
  }
  return add(tape, x, linear(tape, act, tape.param(l.wDown)));
}

/** Logits (B·T, vocab) for `inputs` (B·T ids, B windows of T). */
export function forwardLogits(tape: Tape, params: ModelParams, inputs: Int32Array, batch: number, seqLen: number): Value {
  const c = params.config;
  if (inputs.length !== batch * seqLen) throw new PeelError("INVALID_ARGUMENT", `train: ${inputs.length} input ids for a batch of ${batch}×${seqLen}`);
  if (seqLen > c.contextLength) throw new PeelError("INVALID_ARGUMENT", `train: a window of ${seqLen} tokens is longer than the model's context of ${c.contextLength}`);
  let x = embedding(tape, tape.param(params.tokEmbed), inputs);
  if (c.position === "learned") {
    if (params.posEmbed === undefined) throw new Error("unreachable: learned positions without a table");
    x = addLearnedPositions(tape, x, tape.param(params.posEmbed), seqLen);
  } else if (c.position === "sinusoidal") {
    x = addSinusoidalPositions(tape, x, seqLen);
  }
  const spec = trainRopeSpec(c);
  for (const l of params.layers) {
    x = attentionBlock(tape, c, l, x, batch, seqLen, spec);
    x = feedForwardBlock(tape, c, l, x);
  }
  x = norm(tape, c, x, params.finalNorm, params.finalNormBias);
  return linear(tape, x, tape.param(params.output ?? params.tokEmbed));
}

/** Mean next-token cross-entropy of a batch: targets[i] is the token after inputs[i]. */
export function forwardLoss(tape: Tape, params: ModelParams, inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): Value {
  return crossEntropy(tape, forwardLogits(tape, params, inputs, batch, seqLen), targets);
}
