/**
 * Builds a ModelConfig from GGUF metadata (and the tensor table, which decides tied vs separate output and
 * the vocabulary size when the metadata does not say). Missing or inconsistent values are CONFIG errors
 * that name the key; architectures Peel does not run are UNSUPPORTED errors listing the ones it does.
 */

import type { GgufMetadata } from "../formats/gguf/types.js";
import { getNumber, getString } from "../formats/gguf/metadata.js";
import { PeelError } from "../util/errors.js";
import { LLAMA_ARCHITECTURES, LLAMA_DEFAULTS, LLAMA_KEYS, LLAMA_TENSORS } from "./architectures/llama.js";
import type { LlamaConfig, RopeScaling } from "./config.js";
import { validateConfig } from "./validate-config.js";

/** What config parsing needs to know about the tensors: their shapes by name. */
export type TensorShapes = ReadonlyMap<string, readonly number[]>;

export function configFromGguf(meta: GgufMetadata, shapes: TensorShapes): LlamaConfig {
  const arch = getString(meta, "general.architecture");
  if (arch === undefined) throw new PeelError("CONFIG", `GGUF: missing required metadata key "general.architecture"`);
  const ropeStyle = LLAMA_ARCHITECTURES[arch];
  if (ropeStyle === undefined) {
    throw new PeelError("UNSUPPORTED", `model architecture "${arch}" is not supported yet; supported: ${Object.keys(LLAMA_ARCHITECTURES).join(", ")}`);
  }
  const key = (k: string) => `${arch}.${k}`;
  const req = (k: string): number => {
    const v = getNumber(meta, key(k));
    if (v === undefined) throw new PeelError("CONFIG", `GGUF: missing required metadata key "${key(k)}"`);
    return v;
  };
  const opt = (k: string): number | undefined => getNumber(meta, key(k));

  const dim = req(LLAMA_KEYS.dim);
  const nHeads = req(LLAMA_KEYS.nHeads);
  const nKvHeads = opt(LLAMA_KEYS.nKvHeads) ?? nHeads;
  const headDim = opt(LLAMA_KEYS.keyLength) ?? (nHeads > 0 ? dim / nHeads : 0);
  const embdShape = shapes.get(LLAMA_TENSORS.tokenEmbd);
  if (embdShape === undefined) throw new PeelError("CONFIG", `GGUF: missing required tensor "${LLAMA_TENSORS.tokenEmbd}"`);
  const vocabSize = opt(LLAMA_KEYS.vocabSize) ?? (embdShape[0] as number);

  const config: LlamaConfig = {
    family: "llama",
    architecture: arch,
    dim,
    hiddenDim: req(LLAMA_KEYS.hiddenDim),
    nLayers: req(LLAMA_KEYS.nLayers),
    nHeads,
    nKvHeads,
    headDim,
    kvDim: nKvHeads * headDim,
    vocabSize,
    contextLength: req(LLAMA_KEYS.contextLength),
    normEps: opt(LLAMA_KEYS.normEps) ?? LLAMA_DEFAULTS.normEps,
    rope: {
      style: ropeStyle,
      nRot: opt(LLAMA_KEYS.ropeDims) ?? headDim,
      theta: opt(LLAMA_KEYS.ropeTheta) ?? LLAMA_DEFAULTS.ropeTheta,
      scaling: ropeScaling(meta, key),
    },
    tiedOutput: !shapes.has(LLAMA_TENSORS.output),
  };
  const valueLength = opt(LLAMA_KEYS.valueLength);
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new PeelError("UNSUPPORTED", `GGUF: ${key(LLAMA_KEYS.valueLength)} = ${valueLength} differs from key_length ${headDim}; separate value head sizes are not supported`);
  }
  validateConfig(config);
  return config;
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
