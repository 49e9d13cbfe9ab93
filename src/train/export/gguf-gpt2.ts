/**
 * A trained GPT-2-style model (LayerNorm, learned positions, GELU) as a GGUF `gpt2` file that llama.cpp and
 * Peel's loader run. The format's quirks (model/architectures/gpt2.ts): Q, K and V go in one fused matrix
 * (rows Q, then K, then V) and every projection has a bias, which llama.cpp requires; Peel's GPT-2 preset
 * trains without linear biases, so they are written as zeros (the same function). LayerNorm gains and
 * shifts and all biases stay F32; matrices take the chosen type.
 */

import { kv, type GgufWriteSpec } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { GPT2_KEYS, GPT2_TENSORS, gpt2LayerTensors } from "../../model/architectures/gpt2.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import { headDimOf, type TrainModelConfig } from "../model/config.js";
import { sinusoidalTable } from "../ops/embedding.js";
import { makeParam, type ModelParams, type Param } from "../model/params.js";
import { checkExportInputs, checkOptions, generalMetadata, matrixTensor, vectorTensor, type GgufExportDType, type GgufExportOptions } from "./gguf.js";
import { tokenizerGgufMetadata } from "./tokenizer-gguf.js";

/**
 * True for the GPT-2 preset's architecture, the one GGUF `gpt2` describes. Fixed sinusoidal positions fit it
 * too: their table is written as the position embedding, which the model then adds exactly as in training.
 */
export function isGpt2Style(c: TrainModelConfig): boolean {
  return c.norm === "layer" && (c.position === "learned" || c.position === "sinusoidal") && c.activation === "gelu";
}

/** The position table: the learned one, or the sinusoidal table training adds (ops/embedding.ts). */
function positionTable(params: ModelParams): Param {
  const c = params.config;
  if (c.position === "learned") return need(params.posEmbed, "learned position table");
  const p = makeParam("sinusoidalPositions", [c.contextLength, c.dim], false);
  p.data.set(sinusoidalTable(c.contextLength, c.dim));
  return p;
}

function gpt2Metadata(c: TrainModelConfig, dtype: GgufExportDType, opts: GgufExportOptions): Array<[string, GgufKv]> {
  const k = (key: string): string => `gpt2.${key}`;
  const meta = generalMetadata("gpt2", dtype, opts);
  return [
    ...meta,
    [k(GPT2_KEYS.contextLength), kv.u32(c.contextLength)],
    [k(GPT2_KEYS.dim), kv.u32(c.dim)],
    [k(GPT2_KEYS.nLayers), kv.u32(c.nLayers)],
    [k(GPT2_KEYS.hiddenDim), kv.u32(c.hiddenDim)],
    [k(GPT2_KEYS.nHeads), kv.u32(c.nHeads)],
    [k(GPT2_KEYS.nKvHeads), kv.u32(c.nKvHeads)],
    [k(GPT2_KEYS.normEps), kv.f32(c.normEps)],
    [k(GPT2_KEYS.vocabSize), kv.u32(c.vocabSize)],
  ];
}

/** wq, wk, wv stacked by rows: the fused attn_qkv matrix. */
function fusedQkv(name: string, q: Param, k: Param, v: Param): Param {
  const rows = (q.shape[0] as number) + (k.shape[0] as number) + (v.shape[0] as number);
  const p = makeParam(name, [rows, q.shape[1] as number], true);
  p.data.set(q.data, 0);
  p.data.set(k.data, q.data.length);
  p.data.set(v.data, q.data.length + k.data.length);
  return p;
}

const zeros = (name: string, n: number): Tensor => ({ name, dtype: "F32", shape: [n], data: new Uint8Array(4 * n) });

function need(p: Param | undefined, what: string): Param {
  if (p === undefined) throw new PeelError("INVALID_ARGUMENT", `GGUF export: the parameters have no ${what}, which the gpt2 architecture needs`);
  return p;
}

function gpt2Tensors(params: ModelParams, dtype: GgufExportDType): Tensor[] {
  const c = params.config;
  const D = c.dim, H = c.hiddenDim, qDim = headDimOf(c) * c.nHeads, qkv = qDim + 2 * headDimOf(c) * c.nKvHeads;
  const tensors: Tensor[] = [
    matrixTensor(GPT2_TENSORS.tokenEmbd, params.tokEmbed, c.vocabSize, D, dtype),
    // positions are added, not multiplied: F32 keeps them exact whatever the matrix type
    matrixTensor(GPT2_TENSORS.posEmbd, positionTable(params), c.contextLength, D, "F32"),
  ];
  params.layers.forEach((l, i) => {
    const n = gpt2LayerTensors(i);
    tensors.push(
      vectorTensor(n.attnNorm, l.attnNorm, D),
      vectorTensor(n.attnNormBias, need(l.attnNormBias, `layer ${i} attention LayerNorm shift`), D),
      matrixTensor(n.wqkv, fusedQkv(`layers.${i}.wqkv`, l.wq, l.wk, l.wv), qkv, D, dtype),
      zeros(n.bqkv, qkv),
      matrixTensor(n.wo, l.wo, D, qDim, dtype),
      zeros(n.bo, D),
      vectorTensor(n.ffnNorm, l.ffnNorm, D),
      vectorTensor(n.ffnNormBias, need(l.ffnNormBias, `layer ${i} feed-forward LayerNorm shift`), D),
      matrixTensor(n.wUp, l.wUp, H, D, dtype),
      zeros(n.bUp, H),
      matrixTensor(n.wDown, l.wDown, D, H, dtype),
      zeros(n.bDown, D),
    );
  });
  tensors.push(vectorTensor(GPT2_TENSORS.outputNorm, params.finalNorm, D));
  tensors.push(vectorTensor(GPT2_TENSORS.outputNormBias, need(params.finalNormBias, "final LayerNorm shift"), D));
  if (!c.tiedOutput) tensors.push(matrixTensor(GPT2_TENSORS.output, need(params.output, "output matrix"), c.vocabSize, D, dtype));
  return tensors;
}

/** The GGUF `gpt2` file (as a spec for writeGguf) of a GPT-2-style model with its tokenizer. */
export function exportGpt2Gguf(params: ModelParams, tokenizer: TrainedBpe, opts: GgufExportOptions): GgufWriteSpec {
  const c = params.config;
  if (!isGpt2Style(c)) throw new PeelError("UNSUPPORTED", "GGUF export: the gpt2 architecture needs LayerNorm, learned or sinusoidal positions and GELU");
  checkExportInputs(params, tokenizer);
  const dtype = checkOptions(opts);
  return { metadata: [...gpt2Metadata(c, dtype, opts), ...tokenizerGgufMetadata(tokenizer)], tensors: gpt2Tensors(params, dtype) };
}
