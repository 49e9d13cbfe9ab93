/**
 * The GPT-2 family's weights record: like Llama's (weights.ts), views over the loaded tensors in their storage
 * type, checked against the config from the header alone. The file's fused QKV matrix (rows: Q, then K, then
 * V) is bound as three row ranges of the same bytes, so attention runs the same three products as Llama;
 * each output row is one dot product either way, so the results equal a fused product's.
 */

import type { Kernels, WeightMatrix } from "../kernels/kernels.js";
import { DTYPES } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { PeelError } from "../util/errors.js";
import { GPT2_TENSORS, gpt2LayerTensors } from "./architectures/gpt2.js";
import type { Gpt2Config } from "./config.js";
import { checkShapes, matrix, requireTensor, vector } from "./weights.js";

export interface Gpt2LayerWeights {
  readonly attnNorm: Float32Array; // (dim)
  readonly attnNormBias: Float32Array; // (dim)
  readonly wq: WeightMatrix; // (dim, dim) rows 0.. of attn_qkv
  readonly wk: WeightMatrix; // (kvDim, dim) the next kvDim rows
  readonly wv: WeightMatrix; // (kvDim, dim) the last kvDim rows
  readonly bq: Float32Array; // (dim)
  readonly bk: Float32Array; // (kvDim)
  readonly bv: Float32Array; // (kvDim)
  readonly wo: WeightMatrix; // (dim, dim)
  readonly bo: Float32Array; // (dim)
  readonly ffnNorm: Float32Array; // (dim)
  readonly ffnNormBias: Float32Array; // (dim)
  readonly wUp: WeightMatrix; // (hiddenDim, dim)
  readonly bUp: Float32Array; // (hiddenDim)
  readonly wDown: WeightMatrix; // (dim, hiddenDim)
  readonly bDown: Float32Array; // (dim)
}

export interface Gpt2Weights {
  readonly tokenEmbd: WeightMatrix; // (vocabSize, dim)
  readonly posEmbd: WeightMatrix; // (contextLength, dim)
  readonly layers: readonly Gpt2LayerWeights[];
  readonly outputNorm: Float32Array; // (dim)
  readonly outputNormBias: Float32Array; // (dim)
  readonly output: WeightMatrix; // (vocabSize, dim); the same matrix as tokenEmbd when tied
}

/** Every tensor a GPT-2 model needs, with the shape its config implies (outermost-first). */
export function expectedGpt2Shapes(c: Gpt2Config): Map<string, readonly number[]> {
  const qkvRows = c.dim + 2 * c.kvDim;
  const shapes = new Map<string, readonly number[]>([[GPT2_TENSORS.tokenEmbd, [c.vocabSize, c.dim]], [GPT2_TENSORS.posEmbd, [c.contextLength, c.dim]]]);
  for (let i = 0; i < c.nLayers; i++) {
    const n = gpt2LayerTensors(i);
    shapes.set(n.attnNorm, [c.dim]).set(n.attnNormBias, [c.dim]).set(n.wqkv, [qkvRows, c.dim]).set(n.bqkv, [qkvRows])
      .set(n.wo, [c.dim, c.dim]).set(n.bo, [c.dim]).set(n.ffnNorm, [c.dim]).set(n.ffnNormBias, [c.dim])
      .set(n.wUp, [c.hiddenDim, c.dim]).set(n.bUp, [c.hiddenDim]).set(n.wDown, [c.dim, c.hiddenDim]).set(n.bDown, [c.dim]);
  }
  shapes.set(GPT2_TENSORS.outputNorm, [c.dim]).set(GPT2_TENSORS.outputNormBias, [c.dim]);
  if (!c.tiedOutput) shapes.set(GPT2_TENSORS.output, [c.vocabSize, c.dim]);
  return shapes;
}

/** Checks a file's tensor table against the config, before any weight is read. */
export function checkGpt2TensorShapes(c: Gpt2Config, shapes: ReadonlyMap<string, readonly number[]>): void {
  checkShapes(expectedGpt2Shapes(c), shapes);
}

/** Rows first..first+rows-1 of a (·, cols) tensor as a weight matrix over the same bytes. */
function matrixRows(k: Kernels, t: Tensor, first: number, rows: number, cols: number): WeightMatrix {
  const { blockElems, blockBytes } = DTYPES[t.dtype];
  if (cols % blockElems !== 0) {
    throw new PeelError("CONFIG", `model: tensor "${t.name}" (${t.dtype}) has rows of ${cols} values, not a whole number of ${blockElems}-value blocks`);
  }
  const rowBytes = (cols / blockElems) * blockBytes;
  return k.prepareWeight(t.dtype, rows, cols, t.data.subarray(first * rowBytes, (first + rows) * rowBytes));
}

export function bindGpt2Weights(c: Gpt2Config, tensors: ReadonlyMap<string, Tensor>, k: Kernels): Gpt2Weights {
  checkGpt2TensorShapes(c, new Map([...tensors].map(([name, t]) => [name, t.shape])));
  const tokenEmbd = matrix(k, tensors, GPT2_TENSORS.tokenEmbd, c.vocabSize, c.dim);
  const layers: Gpt2LayerWeights[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = gpt2LayerTensors(i);
    const qkv = requireTensor(tensors, n.wqkv);
    const bqkv = vector(tensors, n.bqkv, c.dim + 2 * c.kvDim);
    layers.push({
      attnNorm: vector(tensors, n.attnNorm, c.dim),
      attnNormBias: vector(tensors, n.attnNormBias, c.dim),
      wq: matrixRows(k, qkv, 0, c.dim, c.dim),
      wk: matrixRows(k, qkv, c.dim, c.kvDim, c.dim),
      wv: matrixRows(k, qkv, c.dim + c.kvDim, c.kvDim, c.dim),
      bq: bqkv.subarray(0, c.dim),
      bk: bqkv.subarray(c.dim, c.dim + c.kvDim),
      bv: bqkv.subarray(c.dim + c.kvDim),
      wo: matrix(k, tensors, n.wo, c.dim, c.dim),
      bo: vector(tensors, n.bo, c.dim),
      ffnNorm: vector(tensors, n.ffnNorm, c.dim),
      ffnNormBias: vector(tensors, n.ffnNormBias, c.dim),
      wUp: matrix(k, tensors, n.wUp, c.hiddenDim, c.dim),
      bUp: vector(tensors, n.bUp, c.hiddenDim),
      wDown: matrix(k, tensors, n.wDown, c.dim, c.hiddenDim),
      bDown: vector(tensors, n.bDown, c.dim),
    });
  }
  return {
    tokenEmbd,
    posEmbd: matrix(k, tensors, GPT2_TENSORS.posEmbd, c.contextLength, c.dim),
    layers,
    outputNorm: vector(tensors, GPT2_TENSORS.outputNorm, c.dim),
    outputNormBias: vector(tensors, GPT2_TENSORS.outputNormBias, c.dim),
    output: c.tiedOutput ? tokenEmbd : matrix(k, tensors, GPT2_TENSORS.output, c.vocabSize, c.dim),
  };
}
