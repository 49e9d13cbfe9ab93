/**
 * What the training benchmarks share, so that Peel and TensorFlow.js train the same thing: the model shape,
 * the optimizer settings, the FLOP count per token and the batches (same ids for every engine).
 */

/** A GPT-2-style decoder: tied token embedding + learned positions, nLayers pre-LayerNorm blocks, no biases in linear layers. */
export interface TrainBenchShape {
  readonly vocabSize: number;
  readonly dim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  /** Width of the feed-forward layer (dim → hiddenDim → dim, GELU with the tanh approximation). */
  readonly hiddenDim: number;
  readonly contextLength: number;
  readonly batchSize: number;
}

/**
 * Default bench shape: small enough that a step takes seconds on a 2-core machine in the slowest engine,
 * large enough that matrix products dominate (1024 tokens a step; about 1.05M matmul parameters).
 */
export const DEFAULT_TRAIN_BENCH_SHAPE: TrainBenchShape = {
  vocabSize: 2048, dim: 128, nLayers: 4, nHeads: 4, hiddenDim: 512, contextLength: 128, batchSize: 8,
};

/**
 * AdamW as in PyTorch's defaults but for the rate: decay is decoupled (p ← p·(1 − lr·weightDecay) before the
 * Adam step) and applies to the 2-D weights only (not LayerNorm gains and shifts).
 */
export const TRAIN_BENCH_OPTIMIZER = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;

/** Parameters that take part in matrix products: per layer q, k, v, o (4·d²) and the feed-forward (2·d·h), plus the tied head (V·d). */
export function matmulParams(s: TrainBenchShape): number {
  return s.nLayers * (4 * s.dim * s.dim + 2 * s.dim * s.hiddenDim) + s.vocabSize * s.dim;
}

/**
 * Training FLOPs per token (forward + backward): 6·N + 12·L·T·d, with N = matmulParams (the embedding gather
 * is not a product; the tied head is), L layers, T the context length, d the model width. 6·N: 2 FLOPs per
 * weight per token forward, twice that backward (gradient for the input and for the weight). 12·L·T·d: the
 * two attention products (Q·Kᵀ and P·V), 2·T·d each forward, times 3 for training — the accounting of
 * Chowdhery et al. 2022 (PaLM, appendix B); Kaplan et al. 2020 count Q·Kᵀ only (6·N + 6·L·T·d). T, not T/2:
 * dense implementations compute the masked half too, and it is the figure FLOP/s ratios are usually quoted
 * with. Elementwise work (LayerNorm, GELU, softmax, the optimizer) is left out, as customary.
 */
export function trainFlopsPerToken(s: TrainBenchShape): number {
  return 6 * matmulParams(s) + 12 * s.nLayers * s.contextLength * s.dim;
}

/** One batch: inputs and targets (inputs shifted by one), row-major [batchSize, contextLength]. */
export interface TrainBenchBatch {
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
}

/**
 * Batch `step` of a deterministic, learnable stream: each row starts at a pseudo-random token and goes on by
 * next = (a·prev + c) mod V, so the loss falls from ln V towards 0 and shows that training works. The same
 * (shape, step) gives the same ids in every engine.
 */
export function trainBenchBatch(s: TrainBenchShape, step: number): TrainBenchBatch {
  const T = s.contextLength, n = s.batchSize * T;
  const inputs = new Int32Array(n), targets = new Int32Array(n);
  let seed = (step * 2654435761 + 12345) >>> 0;
  for (let b = 0; b < s.batchSize; b++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    let tok = seed % s.vocabSize;
    for (let t = 0; t <= T; t++) {
      if (t < T) inputs[b * T + t] = tok;
      if (t > 0) targets[b * T + t - 1] = tok;
      tok = (tok * 5 + 3) % s.vocabSize;
    }
  }
  return { inputs, targets };
}
