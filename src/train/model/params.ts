/**
 * The trainable parameters of a TrainModelConfig: one Param per tensor, named in Peel's own camelCase
 * (`tokEmbed`, `layers.3.wq`, ...; export/ maps them to a file format's names), with its gradient buffer
 * beside it. Matrices are (rows = outputs, cols = inputs), the layout the inference kernels read.
 */

import { createRng } from "../../sample/rng.js";
import { headDimOf, kvDimOf, type TrainModelConfig } from "./config.js";

export interface Param {
  readonly name: string;
  /** Outermost first: (rows, cols) for matrices, (n) for gains and biases. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Gradient accumulated by backward passes; zeroed by the training loop. */
  readonly grad: Float32Array;
  /** AdamW applies weight decay to matrices only (not to norm gains, biases). */
  readonly decay: boolean;
}

export interface LayerParams {
  readonly attnNorm: Param;
  /** LayerNorm only. */
  readonly attnNormBias: Param | undefined;
  readonly wq: Param;
  readonly wk: Param;
  readonly wv: Param;
  readonly wo: Param;
  readonly ffnNorm: Param;
  readonly ffnNormBias: Param | undefined;
  /** SwiGLU only: silu(x·wGateᵀ) · (x·wUpᵀ). */
  readonly wGate: Param | undefined;
  readonly wUp: Param;
  readonly wDown: Param;
}

export interface ModelParams {
  readonly config: TrainModelConfig;
  readonly tokEmbed: Param;
  /** Learned positions only: (contextLength, dim). */
  readonly posEmbed: Param | undefined;
  readonly layers: readonly LayerParams[];
  readonly finalNorm: Param;
  readonly finalNormBias: Param | undefined;
  /** Untied head only: (vocabSize, dim). Tied heads read tokEmbed. */
  readonly output: Param | undefined;
  /** Every Param once, in a fixed order (checkpoints and the optimizer walk this). */
  readonly list: readonly Param[];
}

export function makeParam(name: string, shape: readonly number[], decay: boolean): Param {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, data: new Float32Array(n), grad: new Float32Array(n), decay };
}

/** Allocates every parameter of `c`, zeroed; `initParams` fills them. */
export function createParams(c: TrainModelConfig): ModelParams {
  const list: Param[] = [];
  const add = (name: string, shape: readonly number[], decay: boolean): Param => {
    const p = makeParam(name, shape, decay);
    list.push(p);
    return p;
  };
  const D = c.dim, H = c.hiddenDim, qDim = headDimOf(c) * c.nHeads, kvDim = kvDimOf(c);
  const layer = c.norm === "layer";
  const tokEmbed = add("tokEmbed", [c.vocabSize, D], true);
  const posEmbed = c.position === "learned" ? add("posEmbed", [c.contextLength, D], true) : undefined;
  const layers: LayerParams[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const p = `layers.${i}.`;
    layers.push({
      attnNorm: add(`${p}attnNorm`, [D], false),
      attnNormBias: layer ? add(`${p}attnNormBias`, [D], false) : undefined,
      wq: add(`${p}wq`, [qDim, D], true),
      wk: add(`${p}wk`, [kvDim, D], true),
      wv: add(`${p}wv`, [kvDim, D], true),
      wo: add(`${p}wo`, [D, qDim], true),
      ffnNorm: add(`${p}ffnNorm`, [D], false),
      ffnNormBias: layer ? add(`${p}ffnNormBias`, [D], false) : undefined,
      wGate: c.activation === "swiglu" ? add(`${p}wGate`, [H, D], true) : undefined,
      wUp: add(`${p}wUp`, [H, D], true),
      wDown: add(`${p}wDown`, [D, H], true),
    });
  }
  const finalNorm = add("finalNorm", [D], false);
  const finalNormBias = layer ? add("finalNormBias", [D], false) : undefined;
  const output = c.tiedOutput ? undefined : add("output", [c.vocabSize, D], true);
  return { config: c, tokEmbed, posEmbed, layers, finalNorm, finalNormBias, output, list };
}

/**
 * GPT-2's initialisation, seeded: matrices ~ N(0, 0.02²), the two projections that write into the residual
 * stream (wo, wDown) scaled by 1/sqrt(2·nLayers) so the stream's variance does not grow with depth;
 * norm gains 1, biases 0. The same seed gives the same weights on every platform.
 */
export function initParams(params: ModelParams, seed: number): void {
  const rng = createRng(seed);
  const normal = (): number => {
    // Box-Muller from two uniforms in (0, 1]
    const u = 1 - rng.next(), v = rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const residualStd = 0.02 / Math.sqrt(2 * params.config.nLayers);
  for (const p of params.list) {
    if (!p.decay) {
      p.data.fill(p.name.endsWith("Bias") ? 0 : 1);
      continue;
    }
    const std = p.name.endsWith(".wo") || p.name.endsWith(".wDown") ? residualStd : 0.02;
    for (let i = 0; i < p.data.length; i++) p.data[i] = normal() * std;
  }
}

export const countParams = (params: ModelParams): number => params.list.reduce((a, p) => a + p.data.length, 0);
