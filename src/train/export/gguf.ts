/**
 * A trained Llama-style model (RMSNorm, RoPE, SwiGLU) and its trained BPE as a GGUF `llama` file that
 * llama.cpp and Peel's own loader run: llama metadata, the tokenizer's `tokenizer.ggml.*` keys
 * (tokenizer-gguf.ts), and the tensors under llama.cpp's names. Peel's parameters are already (rows =
 * outputs, cols = inputs) with adjacent-pair RoPE, GGUF llama's layout, so tensors are copied without
 * transposes or the q/k row permutation HF checkpoints need. Norm gains stay F32; matrices take the chosen
 * type. Browser-safe: it builds a GgufWriteSpec (writeGguf makes bytes; gguf.node.ts writes files).
 */

import { kv, type GgufWriteSpec } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { quantize } from "../../formats/gguf/quant/index.js";
import { LLAMA_KEYS, LLAMA_TENSORS, llamaLayerTensors } from "../../model/architectures/llama.js";
import { DTYPES } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import { headDimOf, validateTrainModelConfig, type TrainModelConfig } from "../model/config.js";
import type { ModelParams, Param } from "../model/params.js";
import { tokenizerGgufMetadata } from "./tokenizer-gguf.js";

/** Storage types the export offers for matrices. */
export type GgufExportDType = "F32" | "F16" | "Q8_0";
export const GGUF_EXPORT_DTYPES: readonly GgufExportDType[] = ["F32", "F16", "Q8_0"];

export interface GgufExportOptions {
  /** `general.name`. */
  readonly name: string;
  /** Storage type of the matrices (embeddings included); norm gains are always F32. Default "F32". */
  readonly dtype?: GgufExportDType;
  /** `general.description`. */
  readonly description?: string;
  /** `general.author`. */
  readonly author?: string;
  /** `general.license`. */
  readonly license?: string;
}

/** llama.cpp's `llama_ftype` for a file whose matrices are all of one type. */
export const FILE_TYPE: Readonly<Record<GgufExportDType, number>> = { F32: 0, F16: 1, Q8_0: 7 };
const F16_MAX = 65504;

/** True for the Llama-style preset's architecture, the one GGUF `llama` describes. */
export function isLlamaStyle(c: TrainModelConfig): boolean {
  return c.norm === "rms" && c.position === "rope" && c.activation === "swiglu";
}

/** Throws UNSUPPORTED unless the config is the Llama-style preset's architecture (GGUF `llama`). */
export function checkGgufExportable(c: TrainModelConfig): void {
  const off: string[] = [];
  if (c.norm !== "rms") off.push(`norm "${c.norm}" (needs "rms")`);
  if (c.position !== "rope") off.push(`position "${c.position}" (needs "rope")`);
  if (c.activation !== "swiglu") off.push(`activation "${c.activation}" (needs "swiglu")`);
  if (off.length > 0) {
    throw new PeelError("UNSUPPORTED", `GGUF export: only the Llama-style preset (RMSNorm, RoPE, SwiGLU) exports to GGUF llama; ` +
      `this model has ${off.join(", ")}. GPT-2-style models export to GGUF gpt2 (exportGguf picks the architecture); ` +
      `other mixes stay as safetensors checkpoints.`);
  }
}

/** general.* keys: architecture, name, the optional description/author/licence, the file type. */
export function generalMetadata(arch: string, dtype: GgufExportDType, opts: GgufExportOptions): Array<[string, GgufKv]> {
  const general: Array<[string, GgufKv]> = [["general.architecture", kv.str(arch)], ["general.name", kv.str(opts.name)]];
  if (opts.description !== undefined) general.push(["general.description", kv.str(opts.description)]);
  if (opts.author !== undefined) general.push(["general.author", kv.str(opts.author)]);
  if (opts.license !== undefined) general.push(["general.license", kv.str(opts.license)]);
  general.push(["general.file_type", kv.u32(FILE_TYPE[dtype])]);
  if (dtype === "Q8_0") general.push(["general.quantization_version", kv.u32(2)]);
  return general;
}

/** What every export checks first: a valid config, and the tokenizer the model was trained with. */
export function checkExportInputs(params: ModelParams, tokenizer: TrainedBpe): void {
  const c = params.config;
  validateTrainModelConfig(c);
  if (tokenizer.vocab.length !== c.vocabSize) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: the tokenizer has ${tokenizer.vocab.length} tokens but the model's vocabulary size is ${c.vocabSize}; ` +
      `export the model with the tokenizer it was trained with`);
  }
  if (params.layers.length !== c.nLayers) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: the parameters have ${params.layers.length} layers but the config says ${c.nLayers}`);
  }
}

export function checkOptions(opts: GgufExportOptions): GgufExportDType {
  if (typeof opts.name !== "string" || opts.name.trim() === "") throw new PeelError("INVALID_ARGUMENT", "GGUF export: name must be a non-empty string");
  const dtype = opts.dtype ?? "F32";
  if (!GGUF_EXPORT_DTYPES.includes(dtype)) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: dtype must be one of ${GGUF_EXPORT_DTYPES.join(", ")}, got ${JSON.stringify(dtype)}`);
  }
  return dtype;
}

/** Refuses NaN/Infinity (a diverged run) and, for F16, values that would round to infinity. */
export function checkValues(p: Param, dtype: GgufExportDType): void {
  const limit = dtype === "F16" ? F16_MAX : Infinity;
  for (let i = 0; i < p.data.length; i++) {
    const v = p.data[i] as number;
    if (!Number.isFinite(v)) throw new PeelError("INVALID_ARGUMENT", `GGUF export: ${p.name} holds ${v} at index ${i}; the weights are not finite (did training diverge?)`);
    if (Math.abs(v) > limit) throw new PeelError("INVALID_ARGUMENT", `GGUF export: ${p.name} holds ${v}, beyond the F16 range (±${F16_MAX}); export as F32`);
  }
}

export function checkShape(p: Param, shape: readonly number[]): void {
  if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i]) || p.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: ${p.name} has shape [${p.shape.join(", ")}] (${p.data.length} values) but the config needs [${shape.join(", ")}]`);
  }
}

/** A copy of a gain vector (F32), so later training steps do not change what gets written. */
export function vectorTensor(name: string, p: Param, n: number): Tensor {
  checkShape(p, [n]);
  checkValues(p, "F32");
  return { name, dtype: "F32", shape: [n], data: new Uint8Array(Float32Array.from(p.data).buffer) };
}

export function matrixTensor(name: string, p: Param, rows: number, cols: number, dtype: GgufExportDType): Tensor {
  checkShape(p, [rows, cols]);
  const block = DTYPES[dtype].blockElems;
  if (cols % block !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: ${dtype} stores each row in blocks of ${block} values, but ${p.name} (${name}) has rows of ${cols}; ` +
      `export as F16 or F32, or use dimensions that are multiples of ${block}`);
  }
  checkValues(p, dtype);
  return { name, dtype, shape: [rows, cols], data: quantize(dtype, p.data) };
}

function llamaMetadata(c: TrainModelConfig, dtype: GgufExportDType, opts: GgufExportOptions): Array<[string, GgufKv]> {
  const k = (key: string): string => `llama.${key}`;
  const general = generalMetadata("llama", dtype, opts);
  return [
    ...general,
    [k(LLAMA_KEYS.contextLength), kv.u32(c.contextLength)],
    [k(LLAMA_KEYS.dim), kv.u32(c.dim)],
    [k(LLAMA_KEYS.nLayers), kv.u32(c.nLayers)],
    [k(LLAMA_KEYS.hiddenDim), kv.u32(c.hiddenDim)],
    [k(LLAMA_KEYS.nHeads), kv.u32(c.nHeads)],
    [k(LLAMA_KEYS.nKvHeads), kv.u32(c.nKvHeads)],
    [k(LLAMA_KEYS.normEps), kv.f32(c.normEps)],
    [k(LLAMA_KEYS.ropeDims), kv.u32(headDimOf(c))],
    [k(LLAMA_KEYS.ropeTheta), kv.f32(c.ropeTheta)],
    [k(LLAMA_KEYS.vocabSize), kv.u32(c.vocabSize)],
  ];
}

function llamaTensors(params: ModelParams, dtype: GgufExportDType): Tensor[] {
  const c = params.config;
  const D = c.dim, H = c.hiddenDim, qDim = headDimOf(c) * c.nHeads, kvDim = headDimOf(c) * c.nKvHeads;
  const tensors: Tensor[] = [matrixTensor(LLAMA_TENSORS.tokenEmbd, params.tokEmbed, c.vocabSize, D, dtype)];
  params.layers.forEach((l, i) => {
    const n = llamaLayerTensors(i);
    if (l.wGate === undefined) throw new PeelError("INVALID_ARGUMENT", `GGUF export: layer ${i} has no gate matrix, which SwiGLU needs`);
    tensors.push(
      vectorTensor(n.attnNorm, l.attnNorm, D),
      matrixTensor(n.wq, l.wq, qDim, D, dtype),
      matrixTensor(n.wk, l.wk, kvDim, D, dtype),
      matrixTensor(n.wv, l.wv, kvDim, D, dtype),
      matrixTensor(n.wo, l.wo, D, qDim, dtype),
      vectorTensor(n.ffnNorm, l.ffnNorm, D),
      matrixTensor(n.wGate, l.wGate, H, D, dtype),
      matrixTensor(n.wUp, l.wUp, H, D, dtype),
      matrixTensor(n.wDown, l.wDown, D, H, dtype),
    );
  });
  tensors.push(vectorTensor(LLAMA_TENSORS.outputNorm, params.finalNorm, D));
  // A tied head has no output.weight: llama.cpp and Peel then read token_embd for the logits.
  if (!c.tiedOutput) {
    if (params.output === undefined) throw new PeelError("INVALID_ARGUMENT", "GGUF export: the config says the head is untied but the parameters have no output matrix");
    tensors.push(matrixTensor(LLAMA_TENSORS.output, params.output, c.vocabSize, D, dtype));
  }
  return tensors;
}

/**
 * The GGUF file (as a spec for `writeGguf`) of a Llama-style model with its tokenizer. Throws UNSUPPORTED
 * for other architectures, INVALID_ARGUMENT when the tokenizer's vocabulary does not match the model's, a
 * Q8_0 row length is not a multiple of 32, or a weight is not finite. The tensors are copies: training
 * may go on while the spec waits to be written.
 */
export function exportLlamaGguf(params: ModelParams, tokenizer: TrainedBpe, opts: GgufExportOptions): GgufWriteSpec {
  const c = params.config;
  checkGgufExportable(c);
  checkExportInputs(params, tokenizer);
  const dtype = checkOptions(opts);
  return {
    metadata: [...llamaMetadata(c, dtype, opts), ...tokenizerGgufMetadata(tokenizer)],
    tensors: llamaTensors(params, dtype),
  };
}
