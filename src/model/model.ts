/**
 * A loaded model: its config, weights bound to a kernels backend, its tokenizer, and a description of the
 * file it came from (for `peel info` and the inspector). Built from parts by `createModel`; the file
 * loaders in load.ts produce the parts. Holds no per-conversation state: that lives in a Session.
 */

import type { Kernels } from "../kernels/kernels.js";
import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Tokenizer, EncodeOptions } from "../tokenizer/types.js";
import type { ModelConfig } from "./config.js";
import { layerRopes } from "./rope.js";
import type { Transformer } from "./transformer.js";
import { bindSeq2SeqWeights } from "./seq2seq-weights.js";
import { bindWeights } from "./weights.js";
import { PeelError } from "../util/errors.js";

export interface TensorSummary {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly bytes: number;
}

export interface ModelInfo {
  readonly format: "gguf" | "llama2c" | "hf";
  /** Where the model came from (a path or a description of the bytes). */
  readonly source: string;
  /** Model name from the file's metadata, if any. */
  readonly name: string | undefined;
  /** File-format details worth showing (GGUF version, llama2.c version, file type). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  readonly tensors: readonly TensorSummary[];
  /**
   * The Jinja chat templates the file carries, by name: "default" for GGUF `tokenizer.chat_template` or
   * tokenizer_config.json's `chat_template`, other names for named ones (`tokenizer.chat_template.NAME`, or
   * the list form). Absent or empty when the model has none.
   */
  readonly chatTemplates?: Readonly<Record<string, string>>;
}

/** What a model file says about itself without its weights: enough for `peel info` and tokenizing. */
export interface ModelDescription {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly info: ModelInfo;
}

export interface Model extends ModelDescription {
  readonly transformer: Transformer;
  /** Text → ids; BOS/EOS as the model's tokenizer says unless `addSpecial` is false. */
  tokenize(text: string, opts?: EncodeOptions): number[];
  /** Ids → text. */
  detokenize(ids: ArrayLike<number>): string;
  /** Releases the backend's threads (optional: idle workers never keep a process alive). */
  dispose(): Promise<void>;
}

export interface ModelParts {
  readonly config: ModelConfig;
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly tokenizer: Tokenizer;
  readonly info: ModelInfo;
  readonly kernels: Kernels;
}

export function createModel(p: ModelParts): Model {
  if (p.tokenizer.vocabSize > p.config.vocabSize) {
    throw new PeelError("CONFIG", `model: the tokenizer has ${p.tokenizer.vocabSize} tokens but the embedding table only ${p.config.vocabSize} rows`);
  }
  // say up front when the weights cannot fit the backend (wasm: 4 GiB), naming the model's size
  let weightBytes = 0;
  for (const t of p.tensors.values()) if (t.shape.length >= 2) weightBytes += t.data.length;
  p.kernels.reserveWeights?.(weightBytes, `the model ${p.info.name !== undefined ? `"${p.info.name}" ` : ""}(${p.info.source})`);
  const transformer = bindTransformer(p.config, p.tensors, p.kernels);
  const kernels = p.kernels; // not p: the model must not keep the loader's tensors (a second copy of the weights) alive
  return {
    config: p.config,
    tokenizer: p.tokenizer,
    info: p.info,
    transformer,
    tokenize: (text, opts) => p.tokenizer.encode(text, opts),
    detokenize: (ids) => p.tokenizer.decode(ids),
    dispose: async () => { await kernels.dispose?.(); },
  };
}

/** Binds the weights the config implies and the per-layer rotary tables. */
function bindTransformer(config: ModelConfig, tensors: ReadonlyMap<string, Tensor>, kernels: Kernels): Transformer {
  if (config.seq2seq === undefined) {
    const weights = bindWeights(config, tensors, kernels);
    return { config, weights, ropes: layerRopes(config, weights.ropeFreqs), kernels };
  }
  const weights = bindSeq2SeqWeights(config, tensors, kernels);
  const { seq2seq: s, ...shared } = weights;
  const { seq2seq: _, ...plain } = config;
  const nEnc = config.seq2seq.encoderLayers;
  if (s === undefined) throw new PeelError("CONFIG", "model: an encoder–decoder's weights came without an encoder");
  const encoderStack: Transformer = {
    config: { ...plain, nLayers: nEnc, layerWindows: Array.from({ length: nEnc }, () => 0) },
    weights: { ...shared, layers: s.encoderLayers, outputNorm: s.encoderNorm, output: undefined },
    ropes: undefined, kernels, positionBias: s.encoderBias, bidirectional: true,
  };
  return { config, weights, ropes: undefined, kernels, positionBias: s.decoderBias, encoderStack };
}
