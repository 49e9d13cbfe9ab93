/**
 * How much memory training a config takes, estimated before anything is allocated, so an absurd size is a
 * clear error instead of minutes of swapping and an out-of-memory crash. Counted in f32 values:
 *  - parameters ×4: weights, gradients and AdamW's two moments;
 *  - per micro-batch of n = B·T tokens, what the tape keeps for the backward pass and its gradients (×2):
 *    per layer about 12·dim + 4·hidden values a token plus the attention probabilities (B·H·T²), and the
 *    logits with their softmax (2·vocab a token).
 */

import { headDimOf, kvDimOf, type TrainModelConfig } from "./config.js";

export function parameterCount(c: TrainModelConfig): number {
  const D = c.dim, qDim = headDimOf(c) * c.nHeads, kv = kvDimOf(c), norms = c.norm === "layer" ? 2 : 1;
  const ffn = (c.activation === "swiglu" ? 3 : 2) * D * c.hiddenDim;
  const layer = 2 * norms * D + D * qDim + 2 * D * kv + qDim * D + ffn;
  return c.vocabSize * D + (c.position === "learned" ? c.contextLength * D : 0) + c.nLayers * layer + norms * D + (c.tiedOutput ? 0 : c.vocabSize * D);
}

export function estimateTrainingBytes(c: TrainModelConfig, batchSize: number, seqLen: number): number {
  const n = batchSize * seqLen;
  const perLayer = n * (12 * c.dim + 4 * c.hiddenDim) + batchSize * c.nHeads * seqLen * seqLen;
  const activations = 2 * (c.nLayers * perLayer + n * 2 * c.vocabSize);
  return 4 * (4 * parameterCount(c) + activations);
}
