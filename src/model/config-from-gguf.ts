/**
 * Builds a ModelConfig from GGUF metadata (and the tensor table, which decides tied vs separate output and
 * the vocabulary size when the metadata does not say): the family comes from `general.architecture`, each
 * family's keys from architectures/. Missing or inconsistent values are CONFIG errors that name the key;
 * architectures Peel does not run are UNSUPPORTED errors listing the ones it does.
 */

import type { GgufMetadata } from "../formats/gguf/types.js";
import { getNumber, getString } from "../formats/gguf/metadata.js";
import { PeelError } from "../util/errors.js";
import { GPT2_ARCHITECTURES, GPT2_KEYS, GPT2_TENSORS } from "./architectures/gpt2.js";
import { LLAMA_ARCHITECTURES, LLAMA_DEFAULTS, LLAMA_KEYS, LLAMA_TENSORS, llamaLayerTensors, type LlamaVariant } from "./architectures/llama.js";
import type { Gpt2Config, LlamaConfig, ModelConfig, RopeScaling } from "./config.js";
import { validateConfig } from "./validate-config.js";

/** What config parsing needs to know about the tensors: their shapes by name. */
export type TensorShapes = ReadonlyMap<string, readonly number[]>;

/** Reads `{arch}.`-prefixed numbers; `req` throws CONFIG naming the full key. */
interface KeyReader {
  key(k: string): string;
  req(k: string): number;
  opt(k: string): number | undefined;
}

function keyReader(meta: GgufMetadata, arch: string): KeyReader {
  const key = (k: string) => `${arch}.${k}`;
  return {
    key,
    req(k) {
      const v = getNumber(meta, key(k));
      if (v === undefined) throw new PeelError("CONFIG", `GGUF: missing required metadata key "${key(k)}"`);
      return v;
    },
    opt: (k) => getNumber(meta, key(k)),
  };
}

/** Rows of the token embedding table: the vocabulary size when the metadata does not give it. */
function embeddingRows(shapes: TensorShapes, name: string): number {
  const shape = shapes.get(name);
  if (shape === undefined) throw new PeelError("CONFIG", `GGUF: missing required tensor "${name}"`);
  return shape[0] as number;
}

export function configFromGguf(meta: GgufMetadata, shapes: TensorShapes): ModelConfig {
  const arch = getString(meta, "general.architecture");
  if (arch === undefined) throw new PeelError("CONFIG", `GGUF: missing required metadata key "general.architecture"`);
  const variant = LLAMA_ARCHITECTURES[arch];
  const config = variant !== undefined ? llamaConfig(meta, shapes, arch, variant)
    : GPT2_ARCHITECTURES.includes(arch) ? gpt2Config(meta, shapes, arch) : undefined;
  if (config === undefined) {
    const supported = [...Object.keys(LLAMA_ARCHITECTURES), ...GPT2_ARCHITECTURES];
    throw new PeelError("UNSUPPORTED", `model architecture "${arch}" is not supported yet; supported: ${supported.join(", ")}`);
  }
  validateConfig(config);
  return config;
}

/**
 * Whether this file's q/k/v carry biases: taken when layer 0 has attn_q.bias, as llama.cpp takes them (the
 * shape check then names any other missing one). Per-head q/k norms on an architecture without them are
 * refused, as llama.cpp refuses tensors it does not expect: ignoring them would run a different model than
 * the file describes.
 */
function resolveQkvBias(arch: string, variant: LlamaVariant, shapes: TensorShapes): boolean {
  const first = llamaLayerTensors(0);
  if (!variant.qkNorm && shapes.has(first.qNorm)) {
    throw new PeelError("CONFIG", `GGUF: architecture "${arch}" has no per-head q/k norms, but the file has "${first.qNorm}"`);
  }
  return shapes.has(first.bq);
}

function llamaConfig(meta: GgufMetadata, shapes: TensorShapes, arch: string, variant: LlamaVariant): LlamaConfig {
  const { key, req, opt } = keyReader(meta, arch);
  const dim = req(LLAMA_KEYS.dim);
  const nHeads = req(LLAMA_KEYS.nHeads);
  const nKvHeads = opt(LLAMA_KEYS.nKvHeads) ?? nHeads;
  const headDim = opt(LLAMA_KEYS.keyLength) ?? (nHeads > 0 ? dim / nHeads : 0);
  const valueLength = opt(LLAMA_KEYS.valueLength);
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new PeelError("UNSUPPORTED", `GGUF: ${key(LLAMA_KEYS.valueLength)} = ${valueLength} differs from key_length ${headDim}; separate value head sizes are not supported`);
  }
  return {
    family: "llama",
    architecture: arch,
    dim,
    hiddenDim: req(LLAMA_KEYS.hiddenDim),
    nLayers: req(LLAMA_KEYS.nLayers),
    nHeads,
    nKvHeads,
    headDim,
    kvDim: nKvHeads * headDim,
    vocabSize: opt(LLAMA_KEYS.vocabSize) ?? embeddingRows(shapes, LLAMA_TENSORS.tokenEmbd),
    contextLength: req(LLAMA_KEYS.contextLength),
    normEps: opt(LLAMA_KEYS.normEps) ?? LLAMA_DEFAULTS.normEps,
    rope: {
      style: variant.rope,
      nRot: opt(LLAMA_KEYS.ropeDims) ?? headDim,
      theta: opt(LLAMA_KEYS.ropeTheta) ?? LLAMA_DEFAULTS.ropeTheta,
      scaling: ropeScaling(meta, key),
    },
    tiedOutput: !shapes.has(LLAMA_TENSORS.output),
    qkvBias: resolveQkvBias(arch, variant, shapes),
    qkNorm: variant.qkNorm,
  };
}

/** GPT-2 as llama.cpp reads it: the LayerNorm epsilon is required; heads split dim evenly (no key_length). */
function gpt2Config(meta: GgufMetadata, shapes: TensorShapes, arch: string): Gpt2Config {
  const { req, opt } = keyReader(meta, arch);
  const dim = req(GPT2_KEYS.dim);
  const nHeads = req(GPT2_KEYS.nHeads);
  const nKvHeads = opt(GPT2_KEYS.nKvHeads) ?? nHeads;
  const headDim = nHeads > 0 ? dim / nHeads : 0;
  return {
    family: "gpt2",
    architecture: arch,
    dim,
    hiddenDim: req(GPT2_KEYS.hiddenDim),
    nLayers: req(GPT2_KEYS.nLayers),
    nHeads,
    nKvHeads,
    headDim,
    kvDim: nKvHeads * headDim,
    vocabSize: opt(GPT2_KEYS.vocabSize) ?? embeddingRows(shapes, GPT2_TENSORS.tokenEmbd),
    contextLength: req(GPT2_KEYS.contextLength),
    normEps: req(GPT2_KEYS.normEps),
    tiedOutput: !shapes.has(GPT2_TENSORS.output),
  };
}

function ropeScaling(meta: GgufMetadata, key: (k: string) => string): RopeScaling {
  const type = getString(meta, key(LLAMA_KEYS.ropeScalingType));
  const factor = getNumber(meta, key(LLAMA_KEYS.ropeScalingFactor));
  const legacyLinear = getNumber(meta, key(LLAMA_KEYS.ropeScaleLinear));
  if (type === undefined || type === "none") {
    return legacyLinear !== undefined && legacyLinear !== 1 ? { type: "linear", factor: legacyLinear } : { type: "none" };
  }
  if (factor === undefined) throw new PeelError("CONFIG", `GGUF: "${key(LLAMA_KEYS.ropeScalingType)}" is "${type}" but "${key(LLAMA_KEYS.ropeScalingFactor)}" is missing`);
  if (type === "linear") return { type: "linear", factor };
  if (type === "llama3") {
    return {
      type: "llama3",
      factor,
      lowFreqFactor: getNumber(meta, key(LLAMA_KEYS.ropeLowFreqFactor)) ?? 1,
      highFreqFactor: getNumber(meta, key(LLAMA_KEYS.ropeHighFreqFactor)) ?? 4,
      originalContextLength: getNumber(meta, key(LLAMA_KEYS.ropeOrigContext)) ?? 8192,
    };
  }
  throw new PeelError("UNSUPPORTED", `GGUF: RoPE scaling type "${type}" is not supported; supported: none, linear, llama3`);
}
