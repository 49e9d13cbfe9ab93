/**
 * The weights record of the Llama family, and the binding helpers every family shares (gpt2-weights.ts has
 * GPT-2's): views over the loaded tensors, kept in their storage type and handed to the kernels backend once
 * (`prepareWeight`). Every tensor's presence and shape is checked against the config (from the header alone,
 * by `checkLlamaTensorShapes`), so a wrong file fails at load with the tensor's name, not deep inside a
 * forward pass.
 */

import type { Kernels, WeightMatrix } from "../kernels/kernels.js";
import type { Tensor } from "../tensor/tensor.js";
import { dequantize } from "../formats/gguf/dequant/index.js";
import { PeelError } from "../util/errors.js";
import { LLAMA_TENSORS, llamaLayerTensors } from "./architectures/llama.js";
import type { LlamaConfig } from "./config.js";

export interface LayerWeights {
  readonly attnNorm: Float32Array; // (dim)
  readonly wq: WeightMatrix; // (nHeads·headDim, dim)
  readonly wk: WeightMatrix; // (kvDim, dim)
  readonly wv: WeightMatrix; // (kvDim, dim)
  /** q/k/v biases (nHeads·headDim), (kvDim), (kvDim) where the config has them (Qwen 2). */
  readonly qkvBias: { readonly bq: Float32Array; readonly bk: Float32Array; readonly bv: Float32Array } | undefined;
  /** Per-head RMSNorm gains of q and k, (headDim) each, where the config has them (Qwen 3). */
  readonly qkNorm: { readonly q: Float32Array; readonly k: Float32Array } | undefined;
  readonly wo: WeightMatrix; // (dim, nHeads·headDim)
  readonly ffnNorm: Float32Array; // (dim)
  readonly wGate: WeightMatrix; // (hiddenDim, dim)
  readonly wUp: WeightMatrix; // (hiddenDim, dim)
  readonly wDown: WeightMatrix; // (dim, hiddenDim)
}

export interface LlamaWeights {
  readonly tokenEmbd: WeightMatrix; // (vocabSize, dim)
  readonly layers: readonly LayerWeights[];
  readonly outputNorm: Float32Array; // (dim)
  readonly output: WeightMatrix; // (vocabSize, dim); the same matrix as tokenEmbd when tied
  /** Optional per-pair RoPE frequency divisors (nRot/2), as llama.cpp's `rope_freqs` tensor. */
  readonly ropeFreqs: Float32Array | undefined;
}

/** Every tensor a Llama model needs, with the shape its config implies (outermost-first). */
export function expectedLlamaShapes(c: LlamaConfig): Map<string, readonly number[]> {
  const qDim = c.nHeads * c.headDim;
  const shapes = new Map<string, readonly number[]>([[LLAMA_TENSORS.tokenEmbd, [c.vocabSize, c.dim]]]);
  for (let i = 0; i < c.nLayers; i++) {
    const n = llamaLayerTensors(i);
    shapes.set(n.attnNorm, [c.dim]).set(n.wq, [qDim, c.dim]).set(n.wk, [c.kvDim, c.dim]).set(n.wv, [c.kvDim, c.dim])
      .set(n.wo, [c.dim, qDim]).set(n.ffnNorm, [c.dim]).set(n.wGate, [c.hiddenDim, c.dim]).set(n.wUp, [c.hiddenDim, c.dim])
      .set(n.wDown, [c.dim, c.hiddenDim]);
    if (c.qkvBias) shapes.set(n.bq, [qDim]).set(n.bk, [c.kvDim]).set(n.bv, [c.kvDim]);
    if (c.qkNorm) shapes.set(n.qNorm, [c.headDim]).set(n.kNorm, [c.headDim]);
  }
  shapes.set(LLAMA_TENSORS.outputNorm, [c.dim]);
  if (!c.tiedOutput) shapes.set(LLAMA_TENSORS.output, [c.vocabSize, c.dim]);
  return shapes;
}

/**
 * Checks a file's tensor table against the config: every required tensor present with the implied shape,
 * and the optional rope_freqs with nRot/2 entries. Runs on header data alone, before any weight is read.
 */
export function checkLlamaTensorShapes(c: LlamaConfig, shapes: ReadonlyMap<string, readonly number[]>): void {
  const expected = expectedLlamaShapes(c);
  if (shapes.has(LLAMA_TENSORS.ropeFreqs)) expected.set(LLAMA_TENSORS.ropeFreqs, [c.rope.nRot / 2]);
  checkShapes(expected, shapes);
}

/** Every expected tensor present with its shape; CONFIG errors name the tensor and both shapes. */
export function checkShapes(expected: ReadonlyMap<string, readonly number[]>, shapes: ReadonlyMap<string, readonly number[]>): void {
  for (const [name, want] of expected) {
    const got = shapes.get(name);
    if (got === undefined) throw new PeelError("CONFIG", `model: missing required tensor "${name}" (expected shape [${want.join(", ")}])`);
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new PeelError("CONFIG", `model: tensor "${name}" has shape [${got.join(", ")}], expected [${want.join(", ")}] from the model's hyperparameters`);
    }
  }
}

export function requireTensor(tensors: ReadonlyMap<string, Tensor>, name: string): Tensor {
  const t = tensors.get(name);
  if (t === undefined) throw new PeelError("CONFIG", `model: missing required tensor "${name}"`);
  return t;
}

/** A 2-D tensor handed to the backend as a (rows, cols) weight matrix, still in its storage type. */
export function matrix(k: Kernels, tensors: ReadonlyMap<string, Tensor>, name: string, rows: number, cols: number): WeightMatrix {
  const t = requireTensor(tensors, name);
  return k.prepareWeight(t.dtype, rows, cols, t.data);
}

/** 1-D tensors (norm gains, rope factors) are tiny: dequantize them to f32 once. */
export function vector(tensors: ReadonlyMap<string, Tensor>, name: string, n: number): Float32Array {
  const t = requireTensor(tensors, name);
  const out = new Float32Array(n);
  dequantize(t.dtype, t.data, out, n);
  return out;
}

export function bindLlamaWeights(c: LlamaConfig, tensors: ReadonlyMap<string, Tensor>, k: Kernels): LlamaWeights {
  checkLlamaTensorShapes(c, new Map([...tensors].map(([name, t]) => [name, t.shape])));
  const qDim = c.nHeads * c.headDim;
  const tokenEmbd = matrix(k, tensors, LLAMA_TENSORS.tokenEmbd, c.vocabSize, c.dim);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = llamaLayerTensors(i);
    layers.push({
      attnNorm: vector(tensors, n.attnNorm, c.dim),
      wq: matrix(k, tensors, n.wq, qDim, c.dim),
      wk: matrix(k, tensors, n.wk, c.kvDim, c.dim),
      wv: matrix(k, tensors, n.wv, c.kvDim, c.dim),
      qkvBias: c.qkvBias ? { bq: vector(tensors, n.bq, qDim), bk: vector(tensors, n.bk, c.kvDim), bv: vector(tensors, n.bv, c.kvDim) } : undefined,
      qkNorm: c.qkNorm ? { q: vector(tensors, n.qNorm, c.headDim), k: vector(tensors, n.kNorm, c.headDim) } : undefined,
      wo: matrix(k, tensors, n.wo, c.dim, qDim),
      ffnNorm: vector(tensors, n.ffnNorm, c.dim),
      wGate: matrix(k, tensors, n.wGate, c.hiddenDim, c.dim),
      wUp: matrix(k, tensors, n.wUp, c.hiddenDim, c.dim),
      wDown: matrix(k, tensors, n.wDown, c.dim, c.hiddenDim),
    });
  }
  return {
    tokenEmbd,
    layers,
    outputNorm: vector(tensors, LLAMA_TENSORS.outputNorm, c.dim),
    output: c.tiedOutput ? tokenEmbd : matrix(k, tensors, LLAMA_TENSORS.output, c.vocabSize, c.dim),
    ropeFreqs: tensors.has(LLAMA_TENSORS.ropeFreqs) ? vector(tensors, LLAMA_TENSORS.ropeFreqs, c.rope.nRot / 2) : undefined,
  };
}
