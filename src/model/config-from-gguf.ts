/**
 * Builds a ModelConfig from GGUF metadata and the tensor table, through the architecture's table
 * (architectures/): the table says which choices the architecture makes and which keys it reads; the file
 * supplies sizes, optional tensors (biases, a separate head) and the keys' values. Missing or inconsistent
 * values are CONFIG errors that name the key; architectures Peel does not run are UNSUPPORTED errors listing
 * the ones it does.
 */

import type { GgufMetadata } from "../formats/gguf/types.js";
import { getArray, getBool, getNumber, getString } from "../formats/gguf/metadata.js";
import { PeelError } from "../util/errors.js";
import { GGUF_KEYS, GGUF_POOLING, GGUF_TENSORS, ggufLayerTensors, ggufT5LayerTensors } from "./architectures/gguf-names.js";
import { GGUF_ARCHITECTURES } from "./architectures/registry.js";
import type { ArchitectureTable, Presence } from "./architectures/table.js";
import type { EncoderConfig, ModelConfig, PoolingKind, RopeConfig, RopeScaling, Seq2SeqConfig } from "./config.js";
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
  const table = Object.hasOwn(GGUF_ARCHITECTURES, arch) ? GGUF_ARCHITECTURES[arch] : undefined;
  if (table === undefined) {
    throw new PeelError("UNSUPPORTED", `GGUF: architecture "${arch}" is not supported; supported: ${Object.keys(GGUF_ARCHITECTURES).join(", ")}`);
  }
  const config = configFromTable(meta, shapes, table);
  validateConfig(config);
  return config;
}

/** A required/optional/none presence resolved against the file: optional means "when layer 0 has `probe`". */
function present(p: Presence, shapes: TensorShapes, probe: string): boolean {
  return p === "required" || (p === "optional" && shapes.has(probe));
}

/** 1/√x rounded as llama.cpp's `1.0f/sqrtf(float(x))`. */
const invSqrtF32 = (x: number) => Math.fround(1 / Math.fround(Math.sqrt(x)));

function configFromTable(meta: GgufMetadata, shapes: TensorShapes, t: ArchitectureTable): ModelConfig {
  const arch = t.name;
  const { key, req, opt } = keyReader(meta, arch);
  const dim = req(GGUF_KEYS.dim);
  // an encoder–decoder's block_count is its encoder's; the decoder's (the model's nLayers) may differ
  const nLayers = t.seq2seq !== undefined ? opt(GGUF_KEYS.decoderLayers) ?? req(GGUF_KEYS.nLayers) : req(GGUF_KEYS.nLayers);
  const nHeads = req(GGUF_KEYS.nHeads);
  const nKvHeads = opt(GGUF_KEYS.nKvHeads) ?? nHeads;
  const headDim = opt(GGUF_KEYS.keyLength) ?? (nHeads > 0 ? dim / nHeads : 0);
  const valueLength = opt(GGUF_KEYS.valueLength);
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new PeelError("UNSUPPORTED", `GGUF: ${key(GGUF_KEYS.valueLength)} = ${valueLength} differs from key_length ${headDim}; separate value head sizes are not supported`);
  }
  const l0 = ggufLayerTensors(0);
  const fusedQkv = t.qkv === "fused" || (t.qkv === "either" && shapes.has(l0.wqkv));
  const largeModel = t.attnScale.largeLayers !== undefined && t.attnScale.largeLayers === nLayers;
  const parallel = t.parallelResidual;
  return {
    architecture: arch,
    dim,
    hiddenDim: req(GGUF_KEYS.hiddenDim),
    nLayers,
    nHeads,
    nKvHeads,
    headDim,
    kvDim: nKvHeads * headDim,
    vocabSize: opt(GGUF_KEYS.vocabSize) ?? embeddingRows(shapes, GGUF_TENSORS.tokenEmbd),
    contextLength: req(GGUF_KEYS.contextLength),
    norm: t.norm,
    normEps: t.normEps.default === undefined ? req(t.normEps.key) : opt(t.normEps.key) ?? t.normEps.default,
    postNorms: t.postNorms,
    position: t.position,
    rope: t.position === "rope" ? ropeConfig(meta, t, key, opt, headDim) : undefined,
    activation: t.seq2seq !== undefined && shapes.has(ggufT5LayerTensors("dec", 0).wGate) ? t.seq2seq.gatedActivation : t.activation,
    biases: {
      qkv: present(t.biases.qkv, shapes, fusedQkv ? l0.bqkv : l0.bq),
      attnOut: present(t.biases.attnOut, shapes, l0.bo),
      ffn: present(t.biases.ffn, shapes, l0.bUp),
    },
    qkNorm: t.qkNorm,
    parallelResidual: typeof parallel === "boolean" ? parallel : requireBool(meta, key(parallel.key)),
    embedScale: t.embedScale === "sqrtDim" ? Math.fround(Math.sqrt(dim)) : 1,
    // llama.cpp's 27B Gemmas scale by 1/√(n_embd / n_head) in integer division. A q scale is an f32 operand
    // of ggml_scale; a score scale stays a double, as the attention kernels have always taken it
    attnScale: t.attnScale.unscaled === true ? 1 : t.attnScale.at === "query" ? invSqrtF32(largeModel ? Math.floor(dim / nHeads) : headDim) : 1 / Math.sqrt(headDim),
    attnScaleAt: t.attnScale.at,
    attnSoftcap: softcapValue(meta, key(GGUF_KEYS.attnSoftcap), t.softcap?.attn),
    finalSoftcap: softcapValue(meta, key(GGUF_KEYS.finalSoftcap), t.softcap?.final),
    layerWindows: layerWindows(meta, t, key, nLayers),
    tiedOutput: t.tiedOutput === "always" || !shapes.has(GGUF_TENSORS.output),
    layout: { fusedQkv, fusedGateUp: t.gateUp === "fused" },
    ...(t.encoder !== undefined ? { encoder: encoderConfig(meta, shapes, t.encoder.defaultPooling, key) } : {}),
    ...(t.seq2seq !== undefined ? { seq2seq: seq2seqConfig(req, opt) } : {}),
  };
}

/** An encoder–decoder's encoder depth, relative-position buckets and decoder start token. */
function seq2seqConfig(req: (k: string) => number, opt: (k: string) => number | undefined): Seq2SeqConfig {
  return {
    encoderLayers: req(GGUF_KEYS.nLayers),
    relBuckets: req(GGUF_KEYS.relBuckets),
    relMaxDistance: 128, // llama.cpp's llama_relative_position_bucket fixes it; no T5 uses another
    decoderStartId: opt(GGUF_KEYS.decoderStart),
  };
}

/** An encoder's pooling (the file's `pooling_type`, else the table's default) and its token-type rows. */
function encoderConfig(meta: GgufMetadata, shapes: TensorShapes, fallback: PoolingKind, key: (k: string) => string): EncoderConfig {
  const n = getNumber(meta, key(GGUF_KEYS.poolingType));
  const tokenTypes = shapes.get(GGUF_TENSORS.tokenTypes)?.[0] ?? 0;
  if (n === 4) { // rank: the [CLS] vector through the classifier head (llama.cpp's build_pooling)
    if (!shapes.has(GGUF_TENSORS.clsOut)) throw new PeelError("UNSUPPORTED", `GGUF: pooling_type 4 (rank) without a "${GGUF_TENSORS.clsOut}" classifier is not supported`);
    const labels = getArray(meta, key(GGUF_KEYS.classifierLabels));
    return { pooling: "cls", tokenTypes, classifier: { hidden: shapes.has(GGUF_TENSORS.cls), outputs: labels?.values.length ?? 1 } };
  }
  const pooling = n === undefined ? fallback : GGUF_POOLING[n];
  if (pooling === undefined) {
    throw new PeelError("UNSUPPORTED", `GGUF: "${key(GGUF_KEYS.poolingType)}" = ${n}${n === 4 ? " (rank: a reranker's classifier head)" : ""} is not supported; supported: 0 none, 1 mean, 2 cls, 3 last`);
  }
  if (getBool(meta, key(GGUF_KEYS.causal)) === true) {
    throw new PeelError("UNSUPPORTED", `GGUF: "${key(GGUF_KEYS.causal)}" is true; Peel runs encoders bidirectionally only`);
  }
  return { pooling, tokenTypes };
}

function requireBool(meta: GgufMetadata, k: string): boolean {
  const v = getBool(meta, k);
  if (v === undefined) throw new PeelError("CONFIG", `GGUF: missing required metadata key "${k}"`);
  return v;
}

/** A soft cap for architectures that have one: the key's value, else the table's default; 0 means none. */
function softcapValue(meta: GgufMetadata, k: string, fallback: number | undefined): number | undefined {
  if (fallback === undefined) return undefined;
  const v = getNumber(meta, k) ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new PeelError("CONFIG", `GGUF: "${k}" must be a non-negative number, got ${v}`);
  return v > 0 ? v : undefined;
}

/** Per layer, its window (0: global), by the table's rule and the file's window and pattern keys. */
function layerWindows(meta: GgufMetadata, t: ArchitectureTable, key: (k: string) => string, nLayers: number): number[] {
  const rule = t.slidingWindow;
  const global = Array.from({ length: Math.max(0, nLayers) }, () => 0);
  if (rule === undefined) return global;
  const window = getNumber(meta, key(GGUF_KEYS.slidingWindow)) ?? rule.defaultWindow;
  if (window === undefined || window === 0) return global;
  if (!Number.isInteger(window) || window < 0) throw new PeelError("CONFIG", `GGUF: "${key(GGUF_KEYS.slidingWindow)}" must be a positive integer, got ${window}`);
  const patternKey = key(GGUF_KEYS.slidingWindowPattern);
  if (meta.get(patternKey)?.type === "ARRAY") {
    const arr = getArray(meta, patternKey)!;
    if (arr.elementType !== "BOOL" || arr.values.length !== nLayers) {
      throw new PeelError("CONFIG", `GGUF: "${patternKey}" must be a number or ${nLayers} booleans (one per layer), got ${arr.values.length} ${arr.elementType} values`);
    }
    return arr.values.map((slides) => (slides ? window : 0));
  }
  const pattern = getNumber(meta, patternKey) ?? rule.defaultPattern;
  if (!Number.isInteger(pattern) || pattern < 0) throw new PeelError("CONFIG", `GGUF: "${patternKey}" must be a non-negative integer, got ${pattern}`);
  // llama.cpp's set_swa_pattern: 0 slides every layer, n slides all but the last of every n
  return global.map((_, il) => (pattern === 0 || il % pattern < pattern - 1 ? window : 0));
}

function ropeConfig(meta: GgufMetadata, t: ArchitectureTable, key: (k: string) => string, opt: (k: string) => number | undefined, headDim: number): RopeConfig {
  const theta = opt(GGUF_KEYS.ropeTheta) ?? 10000;
  const local = t.slidingWindow?.localTheta;
  return {
    style: t.ropeStyle,
    nRot: opt(GGUF_KEYS.ropeDims) ?? headDim,
    theta,
    localTheta: local === undefined ? undefined : opt(GGUF_KEYS.ropeThetaLocal) ?? (local === "global" ? theta : local),
    scaling: ropeScaling(meta, key),
  };
}

function ropeScaling(meta: GgufMetadata, key: (k: string) => string): RopeScaling {
  const type = getString(meta, key(GGUF_KEYS.ropeScalingType));
  const factor = getNumber(meta, key(GGUF_KEYS.ropeScalingFactor));
  const legacyLinear = getNumber(meta, key(GGUF_KEYS.ropeScaleLinear));
  if (type === undefined || type === "none") {
    return legacyLinear !== undefined && legacyLinear !== 1 ? { type: "linear", factor: legacyLinear } : { type: "none" };
  }
  if (factor === undefined) throw new PeelError("CONFIG", `GGUF: "${key(GGUF_KEYS.ropeScalingType)}" is "${type}" but "${key(GGUF_KEYS.ropeScalingFactor)}" is missing`);
  if (type === "linear") return { type: "linear", factor };
  if (type === "llama3") {
    return {
      type: "llama3",
      factor,
      lowFreqFactor: getNumber(meta, key(GGUF_KEYS.ropeLowFreqFactor)) ?? 1,
      highFreqFactor: getNumber(meta, key(GGUF_KEYS.ropeHighFreqFactor)) ?? 4,
      originalContextLength: getNumber(meta, key(GGUF_KEYS.ropeOrigContext)) ?? 8192,
    };
  }
  throw new PeelError("UNSUPPORTED", `GGUF: RoPE scaling type "${type}" is not supported; supported: none, linear, llama3`);
}
