/**
 * The weights of an encoder–decoder (T5) as llama.cpp names them: `enc.blk.*` and `dec.blk.*` blocks,
 * `enc.output_norm`, `dec.output_norm`, the shared `token_embd` and an optional `output` head. The decoder's
 * blocks become the model's `layers` (with their cross-attention), so the decoder runs through the same
 * stages as any decoder; the encoder's blocks and both stacks' relative-position biases go in `seq2seq`.
 * Tensor presence and shapes are checked from the header first (`checkSeq2SeqShapes`), as weights.ts does for
 * the other architectures: a missing decoder or a bias table of the wrong shape fails at load, by name.
 * It does not know T5's math: the stages (attention.ts, cross-attention.ts, encode.ts) do.
 */

import type { Kernels } from "../kernels/kernels.js";
import type { Tensor } from "../tensor/tensor.js";
import { PeelError } from "../util/errors.js";
import { GGUF_TENSORS, GGUF_T5_TENSORS, ggufT5LayerTensors } from "./architectures/gguf-names.js";
import type { ModelConfig, Seq2SeqConfig } from "./config.js";
import { positionBiasTable } from "./relative-position.js";
import { checkShapes, isGated, matrix, vector, type LayerWeights, type ModelWeights, type NormWeights, type PositionBias } from "./weights.js";

function seq2seqOf(c: ModelConfig): Seq2SeqConfig {
  if (c.seq2seq === undefined) throw new PeelError("CONFIG", `model: "${c.architecture}" is not an encoder–decoder model`);
  return c.seq2seq;
}

/** The tensors of one block of a stack, with shapes (the decoder's with its cross-attention). */
function blockShapes(c: ModelConfig, stack: "enc" | "dec", i: number, out: Map<string, readonly number[]>): void {
  const n = ggufT5LayerTensors(stack, i);
  const qDim = c.nHeads * c.headDim;
  out.set(n.attnNorm, [c.dim]).set(n.wq, [qDim, c.dim]).set(n.wk, [c.kvDim, c.dim]).set(n.wv, [c.kvDim, c.dim]).set(n.wo, [c.dim, qDim]);
  if (stack === "dec") {
    out.set(n.crossNorm, [c.dim]).set(n.crossQ, [qDim, c.dim]).set(n.crossK, [c.kvDim, c.dim]).set(n.crossV, [c.kvDim, c.dim]).set(n.crossO, [c.dim, qDim]);
  }
  out.set(n.ffnNorm, [c.dim]);
  if (isGated(c)) out.set(n.wGate, [c.hiddenDim, c.dim]);
  out.set(n.wUp, [c.hiddenDim, c.dim]).set(n.wDown, [c.dim, c.hiddenDim]);
}

/** Every tensor the config requires, with its shape (outermost-first). */
export function expectedSeq2SeqShapes(c: ModelConfig): Map<string, readonly number[]> {
  const s = seq2seqOf(c);
  const shapes = new Map<string, readonly number[]>([[GGUF_TENSORS.tokenEmbd, [c.vocabSize, c.dim]]]);
  const bias = [s.relBuckets, c.nHeads];
  for (let i = 0; i < s.encoderLayers; i++) blockShapes(c, "enc", i, shapes);
  shapes.set(ggufT5LayerTensors("enc", 0).relBias, bias).set(GGUF_T5_TENSORS.encoderNorm, [c.dim]);
  for (let i = 0; i < c.nLayers; i++) blockShapes(c, "dec", i, shapes);
  shapes.set(ggufT5LayerTensors("dec", 0).relBias, bias).set(GGUF_T5_TENSORS.decoderNorm, [c.dim]);
  if (!c.tiedOutput) shapes.set(GGUF_TENSORS.output, [c.vocabSize, c.dim]);
  return shapes;
}

/**
 * Checks a T5 file's tensor table: every required tensor with its shape, the optional per-block bias tables
 * (blocks after 0 may have their own; the decoder's unused cross-attention bias is tolerated, as llama.cpp
 * loads and ignores it) with theirs, and nothing else.
 */
export function checkSeq2SeqShapes(c: ModelConfig, shapes: ReadonlyMap<string, readonly number[]>): void {
  const s = seq2seqOf(c);
  const expected = expectedSeq2SeqShapes(c);
  const bias = [s.relBuckets, c.nHeads];
  for (const [stack, n] of [["enc", s.encoderLayers], ["dec", c.nLayers]] as const) {
    for (let i = 0; i < n; i++) {
      const t = ggufT5LayerTensors(stack, i);
      if (shapes.has(t.relBias)) expected.set(t.relBias, bias);
      if (stack === "dec" && shapes.has(t.crossRelBias)) expected.set(t.crossRelBias, bias);
    }
  }
  if (!shapes.has(ggufT5LayerTensors("dec", 0).wq)) {
    throw new PeelError("CONFIG", `model: this "${c.architecture}" file has no decoder (no "dec.blk.0.attn_q.weight"); ` +
      `Peel runs T5 encoder–decoder files, not encoder-only exports (llama.cpp's t5encoder)`);
  }
  checkShapes(expected, shapes);
  for (const name of shapes.keys()) {
    if (!expected.has(name)) {
      throw new PeelError("CONFIG", `model: tensor "${name}" is not part of a "${c.architecture}" model as this file's metadata describes it ` +
        `(${s.encoderLayers} encoder and ${c.nLayers} decoder blocks${isGated(c) ? ", gated feed-forwards" : ""}; llama.cpp refuses such files too)`);
    }
  }
}

function bindBlock(c: ModelConfig, tensors: ReadonlyMap<string, Tensor>, k: Kernels, stack: "enc" | "dec", i: number): LayerWeights {
  const n = ggufT5LayerTensors(stack, i);
  const qDim = c.nHeads * c.headDim, dim = c.dim, h = c.hiddenDim;
  const norm = (name: string): NormWeights => ({ gain: vector(tensors, name, dim), shift: undefined });
  return {
    attnNorm: norm(n.attnNorm),
    wq: matrix(k, tensors, n.wq, qDim, dim), wk: matrix(k, tensors, n.wk, c.kvDim, dim), wv: matrix(k, tensors, n.wv, c.kvDim, dim),
    qkvBias: undefined, qkNorm: undefined,
    wo: matrix(k, tensors, n.wo, dim, qDim), bo: undefined, postAttnNorm: undefined,
    ffnNorm: norm(n.ffnNorm),
    wGate: isGated(c) ? matrix(k, tensors, n.wGate, h, dim) : undefined,
    wUp: matrix(k, tensors, n.wUp, h, dim), bUp: undefined,
    wDown: matrix(k, tensors, n.wDown, dim, h), bDown: undefined,
    postFfnNorm: undefined,
    ...(stack === "dec" ? {
      cross: {
        norm: norm(n.crossNorm),
        wq: matrix(k, tensors, n.crossQ, qDim, dim), wk: matrix(k, tensors, n.crossK, c.kvDim, dim),
        wv: matrix(k, tensors, n.crossV, c.kvDim, dim), wo: matrix(k, tensors, n.crossO, dim, qDim),
      },
    } : {}),
  };
}

/** Each block's bias table: its own `attn_rel_b` where the file has one, else block 0's (llama.cpp's fallback). */
function stackBiases(c: ModelConfig, s: Seq2SeqConfig, tensors: ReadonlyMap<string, Tensor>, stack: "enc" | "dec", n: number): PositionBias[] {
  const size = s.relBuckets * c.nHeads;
  const first = positionBiasTable(vector(tensors, ggufT5LayerTensors(stack, 0).relBias, size), c.nHeads, s.relBuckets, stack === "enc", s.relMaxDistance);
  return Array.from({ length: n }, (_, i) => {
    const own = ggufT5LayerTensors(stack, i).relBias;
    return i === 0 || !tensors.has(own) ? first : positionBiasTable(vector(tensors, own, size), c.nHeads, s.relBuckets, stack === "enc", s.relMaxDistance);
  });
}

export function bindSeq2SeqWeights(c: ModelConfig, tensors: ReadonlyMap<string, Tensor>, k: Kernels): ModelWeights {
  const s = seq2seqOf(c);
  checkSeq2SeqShapes(c, new Map([...tensors].map(([name, t]) => [name, t.shape])));
  const tokenEmbd = matrix(k, tensors, GGUF_TENSORS.tokenEmbd, c.vocabSize, c.dim);
  const gain = (name: string): NormWeights => ({ gain: vector(tensors, name, c.dim), shift: undefined });
  return {
    tokenEmbd,
    posEmbd: undefined, tokenType0: undefined, embedNorm: undefined, classifier: undefined,
    layers: Array.from({ length: c.nLayers }, (_, i) => bindBlock(c, tensors, k, "dec", i)),
    outputNorm: gain(GGUF_T5_TENSORS.decoderNorm),
    // tied: the embeddings as they are; llama.cpp scales nothing (HF's tied T5 v1.0 multiplies by dim^-0.5 first)
    output: c.tiedOutput ? tokenEmbd : matrix(k, tensors, GGUF_TENSORS.output, c.vocabSize, c.dim),
    ropeFreqs: undefined,
    seq2seq: {
      encoderLayers: Array.from({ length: s.encoderLayers }, (_, i) => bindBlock(c, tensors, k, "enc", i)),
      encoderNorm: gain(GGUF_T5_TENSORS.encoderNorm),
      encoderBias: stackBiases(c, s, tensors, "enc", s.encoderLayers),
      decoderBias: stackBiases(c, s, tensors, "dec", c.nLayers),
    },
  };
}
