/**
 * The weights record: views over the loaded tensors, kept in their storage type and handed to the kernels
 * backend once (`prepareWeight`). Which tensors a model has follows from its config alone (norm kind, biases,
 * q/k norms, post-norms, gating, positions, tied head, fused layouts), so every tensor's presence and shape
 * is checked from the header (`checkTensorShapes`) before any weight is read, and a wrong file fails at load
 * with the tensor's name, not deep inside a forward pass. Fused matrices (q/k/v, gate/up) are bound as row
 * ranges of the same bytes: each output row is one dot product either way, so the results equal a fused
 * product's.
 */

import type { Kernels, WeightMatrix } from "../kernels/kernels.js";
import { DTYPES } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { dequantize } from "../formats/gguf/dequant/index.js";
import { PeelError } from "../util/errors.js";
import { GGUF_TENSORS, ggufLayerTensors } from "./architectures/gguf-names.js";
import type { ModelConfig } from "./config.js";

/** A norm's gain (dim) and, for LayerNorm, its shift (dim). */
export interface NormWeights {
  readonly gain: Float32Array;
  readonly shift: Float32Array | undefined;
}

export interface LayerWeights {
  /** The attention sub-block's norm: before it (decoders), or after its residual add (encoders, attn_output_norm). */
  readonly attnNorm: NormWeights;
  readonly wq: WeightMatrix; // (nHeads·headDim, dim)
  readonly wk: WeightMatrix; // (kvDim, dim)
  readonly wv: WeightMatrix; // (kvDim, dim)
  /** q/k/v biases (nHeads·headDim), (kvDim), (kvDim) where the config has them. */
  readonly qkvBias: { readonly q: Float32Array; readonly k: Float32Array; readonly v: Float32Array } | undefined;
  /** Per-head RMSNorm gains of q and k, (headDim) each, where the config has them. */
  readonly qkNorm: { readonly q: Float32Array; readonly k: Float32Array } | undefined;
  readonly wo: WeightMatrix; // (dim, nHeads·headDim)
  readonly bo: Float32Array | undefined; // (dim)
  readonly postAttnNorm: NormWeights | undefined;
  /** The feed-forward's norm: before it (decoders), or after its residual add (encoders, layer_output_norm). */
  readonly ffnNorm: NormWeights;
  /** Gated feed-forwards only. */
  readonly wGate: WeightMatrix | undefined; // (hiddenDim, dim)
  readonly wUp: WeightMatrix; // (hiddenDim, dim)
  readonly bUp: Float32Array | undefined; // (hiddenDim)
  readonly wDown: WeightMatrix; // (dim, hiddenDim)
  readonly bDown: Float32Array | undefined; // (dim)
  readonly postFfnNorm: NormWeights | undefined;
  /** An encoder–decoder's decoder blocks: cross-attention over the encoder's output (seq2seq-weights.ts). */
  readonly cross?: CrossWeights;
}

/** A T5 decoder block's cross-attention: its RMS norm and projections; keys and values read the encoder's output. */
export interface CrossWeights {
  readonly norm: NormWeights;
  readonly wq: WeightMatrix; // (nHeads·headDim, dim)
  readonly wk: WeightMatrix; // (kvDim, dim)
  readonly wv: WeightMatrix; // (kvDim, dim)
  readonly wo: WeightMatrix; // (dim, nHeads·headDim)
}

/** A stack's relative-position bias as the attention kernel takes it (kernels.ts AttentionShape.positionBias). */
export interface PositionBias {
  /** (nHeads, 2·span + 1): head h's bias for key − query = d at [h · (2·span + 1) + d + span]. */
  readonly table: Float32Array;
  /** Distances beyond ±span take the edge value (T5: the bucket function saturates at its max distance). */
  readonly span: number;
}

/** An encoder–decoder's encoder stack and both stacks' position biases (config.seq2seq). */
export interface Seq2SeqWeights {
  readonly encoderLayers: readonly LayerWeights[];
  /** The encoder's final norm (enc.output_norm), applied to its output before the decoder reads it. */
  readonly encoderNorm: NormWeights;
  /** Per encoder block (bidirectional buckets). */
  readonly encoderBias: readonly PositionBias[];
  /** Per decoder block (causal buckets). */
  readonly decoderBias: readonly PositionBias[];
}

export interface ClassifierWeights {
  /** tanh(hidden · x + hiddenBias) first, where the head has that layer: (dim, dim), (dim). */
  readonly hidden: { readonly w: WeightMatrix; readonly b: Float32Array } | undefined;
  readonly out: WeightMatrix; // (outputs, dim)
  readonly outBias: Float32Array; // (outputs)
}

export interface ModelWeights {
  readonly tokenEmbd: WeightMatrix; // (vocabSize, dim)
  /** Learned positions (contextLength, dim). */
  readonly posEmbd: WeightMatrix | undefined;
  /** Encoders: token-type row 0 (dim), added to every token, or undefined without a type table. */
  readonly tokenType0: Float32Array | undefined;
  /** Encoders: the LayerNorm on the summed embeddings. */
  readonly embedNorm: NormWeights | undefined;
  /** Rerankers: the classifier head on the [CLS] vector (config.encoder.classifier). */
  readonly classifier: ClassifierWeights | undefined;
  readonly layers: readonly LayerWeights[];
  /** The final norm and LM head; undefined for encoders, which pool token vectors instead. */
  readonly outputNorm: NormWeights | undefined;
  readonly output: WeightMatrix | undefined; // (vocabSize, dim); the same matrix as tokenEmbd when tied
  /** Optional per-pair RoPE frequency divisors (nRot/2), as llama.cpp's `rope_freqs` tensor. */
  readonly ropeFreqs: Float32Array | undefined;
  /** Encoder–decoder models only: the encoder and the position biases; `layers` are the decoder's. */
  readonly seq2seq?: Seq2SeqWeights;
}

export const isGated = (c: Pick<ModelConfig, "activation">): boolean => c.activation === "swiglu" || c.activation === "geglu";

/** Every tensor the config implies, with its shape (outermost-first). */
export function expectedShapes(c: ModelConfig): Map<string, readonly number[]> {
  const qDim = c.nHeads * c.headDim;
  const shifted = c.norm === "layer";
  const shapes = new Map<string, readonly number[]>([[GGUF_TENSORS.tokenEmbd, [c.vocabSize, c.dim]]]);
  if (c.position === "learned") shapes.set(GGUF_TENSORS.posEmbd, [c.contextLength, c.dim]);
  const enc = c.encoder;
  if (enc !== undefined) {
    if (enc.tokenTypes > 0) shapes.set(GGUF_TENSORS.tokenTypes, [enc.tokenTypes, c.dim]);
    shapes.set(GGUF_TENSORS.embedNorm, [c.dim]).set(GGUF_TENSORS.embedNormBias, [c.dim]);
    const cls = enc.classifier;
    if (cls !== undefined) {
      if (cls.hidden) shapes.set(GGUF_TENSORS.cls, [c.dim, c.dim]).set(GGUF_TENSORS.clsBias, [c.dim]);
      shapes.set(GGUF_TENSORS.clsOut, [cls.outputs, c.dim]).set(GGUF_TENSORS.clsOutBias, [cls.outputs]);
    }
  }
  for (let i = 0; i < c.nLayers; i++) {
    const n = layerNames(c, i);
    shapes.set(n.attnNorm, [c.dim]);
    if (shifted) shapes.set(n.attnNormBias, [c.dim]);
    if (c.layout.fusedQkv) {
      shapes.set(n.wqkv, [qDim + 2 * c.kvDim, c.dim]);
      if (c.biases.qkv) shapes.set(n.bqkv, [qDim + 2 * c.kvDim]);
    } else {
      shapes.set(n.wq, [qDim, c.dim]).set(n.wk, [c.kvDim, c.dim]).set(n.wv, [c.kvDim, c.dim]);
      if (c.biases.qkv) shapes.set(n.bq, [qDim]).set(n.bk, [c.kvDim]).set(n.bv, [c.kvDim]);
    }
    if (c.qkNorm) shapes.set(n.qNorm, [c.headDim]).set(n.kNorm, [c.headDim]);
    shapes.set(n.wo, [c.dim, qDim]);
    if (c.biases.attnOut) shapes.set(n.bo, [c.dim]);
    if (c.postNorms) shapes.set(n.postAttnNorm, [c.dim]).set(n.postFfnNorm, [c.dim]);
    if (c.postNorms && shifted) shapes.set(n.postAttnNormBias, [c.dim]).set(n.postFfnNormBias, [c.dim]);
    shapes.set(n.ffnNorm, [c.dim]);
    if (shifted) shapes.set(n.ffnNormBias, [c.dim]);
    if (isGated(c) && c.layout.fusedGateUp) shapes.set(n.wUp, [2 * c.hiddenDim, c.dim]);
    else {
      if (isGated(c)) shapes.set(n.wGate, [c.hiddenDim, c.dim]);
      shapes.set(n.wUp, [c.hiddenDim, c.dim]);
    }
    shapes.set(n.wDown, [c.dim, c.hiddenDim]);
    if (c.biases.ffn) shapes.set(n.bUp, [c.hiddenDim]).set(n.bDown, [c.dim]);
  }
  if (enc !== undefined) return shapes; // no head
  shapes.set(GGUF_TENSORS.outputNorm, [c.dim]);
  if (shifted) shapes.set(GGUF_TENSORS.outputNormBias, [c.dim]);
  if (!c.tiedOutput) shapes.set(GGUF_TENSORS.output, [c.vocabSize, c.dim]);
  return shapes;
}

function bindClassifier(c: ModelConfig, tensors: ReadonlyMap<string, Tensor>, k: Kernels): ClassifierWeights | undefined {
  const cls = c.encoder?.classifier;
  if (cls === undefined) return undefined;
  return {
    hidden: cls.hidden ? { w: matrix(k, tensors, GGUF_TENSORS.cls, c.dim, c.dim), b: vector(tensors, GGUF_TENSORS.clsBias, c.dim) } : undefined,
    out: matrix(k, tensors, GGUF_TENSORS.clsOut, cls.outputs, c.dim),
    outBias: vector(tensors, GGUF_TENSORS.clsOutBias, cls.outputs),
  };
}

/** Block i's tensor names, its two norms named as the config places them (after the residual adds for encoders). */
function layerNames(c: ModelConfig, i: number): Record<keyof ReturnType<typeof ggufLayerTensors>, string> {
  const n = ggufLayerTensors(i);
  if (c.encoder === undefined) return n;
  return { ...n, attnNorm: n.attnOutNorm, attnNormBias: n.attnOutNormBias, ffnNorm: n.layerOutNorm, ffnNormBias: n.layerOutNormBias };
}

/**
 * Checks a file's tensor table against the config: every implied tensor present with its shape, the
 * optional rope_freqs with nRot/2 entries, and nothing else. llama.cpp refuses a file with tensors its graph
 * does not use, and so does Peel: ignoring one (a bias, a norm) would run a different model than the file
 * describes. Runs on header data alone, before any weight is read.
 */
export function checkTensorShapes(c: ModelConfig, shapes: ReadonlyMap<string, readonly number[]>): void {
  const expected = expectedShapes(c);
  if (c.rope !== undefined && shapes.has(GGUF_TENSORS.ropeFreqs)) expected.set(GGUF_TENSORS.ropeFreqs, [c.rope.nRot / 2]);
  checkShapes(expected, shapes);
  for (const name of shapes.keys()) {
    if (expected.has(name)) continue;
    if (/^rope_factors_(long|short)\.weight$/.test(name)) {
      throw new PeelError("UNSUPPORTED", `model: "${name}" holds "longrope" scaling factors (long-context Phi-3), which Peel does not support yet`);
    }
    throw new PeelError("CONFIG", `model: tensor "${name}" is not part of a "${c.architecture}" model as this file's metadata describes it ` +
      `(llama.cpp refuses such files too); expected only: ${[...expected.keys()].filter((k) => !k.startsWith("blk.") || k.startsWith("blk.0.")).join(", ")} (and the same per block)`);
  }
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
  return named(name, () => k.prepareWeight(t.dtype, rows, cols, t.data));
}

/** A backend's refusal of one matrix (a type it lacks, a buffer over a GPU limit), with the tensor's name added. */
function named(name: string, prepare: () => WeightMatrix): WeightMatrix {
  try {
    return prepare();
  } catch (e) {
    if (e instanceof PeelError && e.code === "UNSUPPORTED") throw new PeelError("UNSUPPORTED", `tensor "${name}": ${e.message}`, { cause: e });
    throw e;
  }
}

/** Rows first..first+rows-1 of a (·, cols) tensor as a weight matrix over the same bytes. */
function matrixRows(k: Kernels, t: Tensor, first: number, rows: number, cols: number): WeightMatrix {
  const { blockElems, blockBytes } = DTYPES[t.dtype];
  if (cols % blockElems !== 0) {
    throw new PeelError("CONFIG", `model: tensor "${t.name}" (${t.dtype}) has rows of ${cols} values, not a whole number of ${blockElems}-value blocks`);
  }
  const rowBytes = (cols / blockElems) * blockBytes;
  return named(t.name, () => k.prepareWeight(t.dtype, rows, cols, t.data.subarray(first * rowBytes, (first + rows) * rowBytes)));
}

/** 1-D tensors (norm gains, biases, rope factors) are tiny: dequantize them to f32 once. */
export function vector(tensors: ReadonlyMap<string, Tensor>, name: string, n: number): Float32Array {
  const t = requireTensor(tensors, name);
  const out = new Float32Array(n);
  dequantize(t.dtype, t.data, out, n);
  return out;
}

export function bindWeights(c: ModelConfig, tensors: ReadonlyMap<string, Tensor>, k: Kernels): ModelWeights {
  checkTensorShapes(c, new Map([...tensors].map(([name, t]) => [name, t.shape])));
  const qDim = c.nHeads * c.headDim, kv = c.kvDim, h = c.hiddenDim, dim = c.dim;
  const norm = (gain: string, shift: string): NormWeights =>
    ({ gain: vector(tensors, gain, dim), shift: c.norm === "layer" ? vector(tensors, shift, dim) : undefined });
  const tokenEmbd = matrix(k, tensors, GGUF_TENSORS.tokenEmbd, c.vocabSize, dim);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = layerNames(c, i);
    let qkv: Pick<LayerWeights, "wq" | "wk" | "wv" | "qkvBias">;
    if (c.layout.fusedQkv) {
      const t = requireTensor(tensors, n.wqkv);
      const b = c.biases.qkv ? vector(tensors, n.bqkv, qDim + 2 * kv) : undefined;
      qkv = {
        wq: matrixRows(k, t, 0, qDim, dim), wk: matrixRows(k, t, qDim, kv, dim), wv: matrixRows(k, t, qDim + kv, kv, dim),
        qkvBias: b && { q: b.subarray(0, qDim), k: b.subarray(qDim, qDim + kv), v: b.subarray(qDim + kv) },
      };
    } else {
      qkv = {
        wq: matrix(k, tensors, n.wq, qDim, dim), wk: matrix(k, tensors, n.wk, kv, dim), wv: matrix(k, tensors, n.wv, kv, dim),
        qkvBias: c.biases.qkv ? { q: vector(tensors, n.bq, qDim), k: vector(tensors, n.bk, kv), v: vector(tensors, n.bv, kv) } : undefined,
      };
    }
    let gateUp: Pick<LayerWeights, "wGate" | "wUp">;
    if (isGated(c) && c.layout.fusedGateUp) {
      const t = requireTensor(tensors, n.wUp);
      gateUp = { wGate: matrixRows(k, t, 0, h, dim), wUp: matrixRows(k, t, h, h, dim) };
    } else {
      gateUp = { wGate: isGated(c) ? matrix(k, tensors, n.wGate, h, dim) : undefined, wUp: matrix(k, tensors, n.wUp, h, dim) };
    }
    layers.push({
      attnNorm: norm(n.attnNorm, n.attnNormBias),
      ...qkv,
      qkNorm: c.qkNorm ? { q: vector(tensors, n.qNorm, c.headDim), k: vector(tensors, n.kNorm, c.headDim) } : undefined,
      wo: matrix(k, tensors, n.wo, dim, qDim),
      bo: c.biases.attnOut ? vector(tensors, n.bo, dim) : undefined,
      postAttnNorm: c.postNorms ? norm(n.postAttnNorm, n.postAttnNormBias) : undefined,
      ffnNorm: norm(n.ffnNorm, n.ffnNormBias),
      ...gateUp,
      bUp: c.biases.ffn ? vector(tensors, n.bUp, h) : undefined,
      wDown: matrix(k, tensors, n.wDown, dim, h),
      bDown: c.biases.ffn ? vector(tensors, n.bDown, dim) : undefined,
      postFfnNorm: c.postNorms ? norm(n.postFfnNorm, n.postFfnNormBias) : undefined,
    });
  }
  return {
    tokenEmbd,
    posEmbd: c.position === "learned" ? matrix(k, tensors, GGUF_TENSORS.posEmbd, c.contextLength, dim) : undefined,
    tokenType0: c.encoder !== undefined && c.encoder.tokenTypes > 0 ? vector(tensors, GGUF_TENSORS.tokenTypes, dim) : undefined, // its first row
    embedNorm: c.encoder !== undefined ? norm(GGUF_TENSORS.embedNorm, GGUF_TENSORS.embedNormBias) : undefined,
    classifier: bindClassifier(c, tensors, k),
    layers,
    outputNorm: c.encoder !== undefined ? undefined : norm(GGUF_TENSORS.outputNorm, GGUF_TENSORS.outputNormBias),
    output: c.encoder !== undefined ? undefined : c.tiedOutput ? tokenEmbd : matrix(k, tensors, GGUF_TENSORS.output, c.vocabSize, dim),
    ropeFreqs: c.rope !== undefined && tensors.has(GGUF_TENSORS.ropeFreqs) ? vector(tensors, GGUF_TENSORS.ropeFreqs, c.rope.nRot / 2) : undefined,
  };
}
