/**
 * The TensorFlow.js side of the training benchmark: the GPT-2-style decoder of train-shape.ts written in
 * tfjs core ops (no Keras layers, so that the computation is exactly the one Peel does), trained with one
 * AdamW step per batch on the batches of trainBenchBatch. Each block: LayerNorm → causal multi-head
 * self-attention (q, k, v, o without biases) → residual, LayerNorm → Linear dim→hidden → GELU (tanh
 * approximation) → Linear hidden→dim → residual; then a final LayerNorm and the head tied to the token
 * embedding; mean cross-entropy over every position (teacher forcing).
 *
 * Backends: "wasm" (@tensorflow/tfjs-backend-wasm, SIMD, one thread: tfjs turns its threaded build off under
 * Node, and forced on it cannot start its workers), "cpu" (pure JS, about 17x slower here), "tensorflow"
 * (@tensorflow/tfjs-node, used when installed; its install downloads libtensorflow from outside the npm
 * registry, which fails on a machine that reaches only that registry).
 * The wasm backend has no UnsortedSegmentSum kernel, the gradient of tf.gather, so the embedding lookup has
 * its own gradient: a scatter-add (tf.scatterND sums repeated ids) — on every backend, for the same program.
 * On the wasm backend a plain 2-D product goes to XNNPACK (about 24 GFLOP/s here) but products with a
 * transposed operand, and batched ones, to a slow loop (0.2-2 GFLOP/s), and tfjs's own gradient of
 * tf.matMul(x, w) is made of transposed products. To give TensorFlow.js its best figure the linear layers
 * (and the tied head) have their own gradient made of explicit transposes and plain products: a wasm step
 * is about 5x faster so, and the cpu backend a little faster too; `plainAutodiff: true` measures tfjs's own
 * gradients instead. Attention stays batched (per-head 2-D products measured slower: the slicing costs more
 * than it saves), so it takes most of a wasm step.
 * AdamW: tfjs has Adam only (tf.train.adam); the decoupled weight decay is applied before each Adam step.
 * Run: npx tsx bench/train-tfjs.ts [--backend wasm|cpu|tensorflow|best|all] [--steps N] [--warmup N] [--plain-autodiff]
 */

import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  DEFAULT_TRAIN_BENCH_SHAPE, TRAIN_BENCH_OPTIMIZER, trainBenchBatch, trainFlopsPerToken, type TrainBenchShape,
} from "./train-shape.js";

/** One training run's figures. */
export interface TfjsTrainingResult {
  readonly backend: string;
  readonly tokensPerSecond: number;
  readonly msPerStep: number;
  /** Loss of the last timed step (before its update). */
  readonly finalLoss: number;
}

interface BlockParams {
  readonly ln1G: tf.Variable; readonly ln1B: tf.Variable;
  readonly wq: tf.Variable; readonly wk: tf.Variable; readonly wv: tf.Variable; readonly wo: tf.Variable;
  readonly ln2G: tf.Variable; readonly ln2B: tf.Variable;
  readonly w1: tf.Variable; readonly w2: tf.Variable;
}

interface ModelParams {
  readonly wte: tf.Variable; readonly wpe: tf.Variable;
  readonly blocks: readonly BlockParams[];
  readonly lnfG: tf.Variable; readonly lnfB: tf.Variable;
  /** The 2-D weights, which weight decay applies to. */
  readonly matrices: readonly tf.Variable[];
  readonly all: readonly tf.Variable[];
}

const TFJS_NODE = "@tensorflow/tfjs-node";

/** Makes `name` the tfjs backend ("tensorflow" loads @tensorflow/tfjs-node first); throws when it cannot start. */
export async function useTfjsBackend(name: string): Promise<void> {
  if (name === "tensorflow" && tf.findBackendFactory("tensorflow") === null) {
    const spec: string = TFJS_NODE; // a variable, so that neither tsc nor tsx resolves an optional package
    await import(spec);
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} failed to initialize`);
  await tf.ready();
}

/** The fastest backend that starts here: tensorflow (native) if installed, else wasm, else cpu. */
export async function bestTfjsBackend(): Promise<string> {
  for (const name of ["tensorflow", "wasm"]) {
    try { await useTfjsBackend(name); return name; } catch { /* not installed or cannot start: try the next */ }
  }
  return "cpu";
}

function initParams(s: TrainBenchShape, seed: number): ModelParams {
  // GPT-2's initialization: N(0, 0.02), the projections into the residual stream scaled by 1/√(2·nLayers).
  let n = seed;
  const normal = (shape: number[], std: number): tf.Variable => tf.variable(tf.randomNormal(shape, 0, std, "float32", n++));
  const ones = (): tf.Variable => tf.variable(tf.ones([s.dim]));
  const zeros = (): tf.Variable => tf.variable(tf.zeros([s.dim]));
  const std = 0.02, resStd = 0.02 / Math.sqrt(2 * s.nLayers);
  const wte = normal([s.vocabSize, s.dim], std), wpe = normal([s.contextLength, s.dim], std);
  const blocks: BlockParams[] = [];
  for (let l = 0; l < s.nLayers; l++) {
    blocks.push({
      ln1G: ones(), ln1B: zeros(),
      wq: normal([s.dim, s.dim], std), wk: normal([s.dim, s.dim], std), wv: normal([s.dim, s.dim], std), wo: normal([s.dim, s.dim], resStd),
      ln2G: ones(), ln2B: zeros(),
      w1: normal([s.dim, s.hiddenDim], std), w2: normal([s.hiddenDim, s.dim], resStd),
    });
  }
  const lnfG = ones(), lnfB = zeros();
  const matrices = [wte, wpe, ...blocks.flatMap((b) => [b.wq, b.wk, b.wv, b.wo, b.w1, b.w2])];
  const all = [...matrices, ...blocks.flatMap((b) => [b.ln1G, b.ln1B, b.ln2G, b.ln2B]), lnfG, lnfB];
  return { wte, wpe, blocks, lnfG, lnfB, matrices, all };
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b);
}

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function gelu(x: tf.Tensor2D): tf.Tensor2D {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}

/** Rows of `table` for `ids`; gradient: scatter-add into the table (see the file comment). */
function embed(table: tf.Variable, ids: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = args[0] as tf.Tensor;
    return { value: tf.gather(t, ids), gradFunc: (dy: tf.Tensor) => tf.scatterND(ids.expandDims(1), dy, t.shape) };
  });
  return f(table) as tf.Tensor2D;
}

/** x·w of an activation [rows, in] and a weight [in, out]. */
type Product = (x: tf.Tensor, w: tf.Tensor) => tf.Tensor2D;

const plainProduct: Product = (x, w) => tf.matMul(x, w);

/** x·w with the gradient as plain products of explicit transposes: dx = dy·wᵀ, dw = xᵀ·dy (see the file comment). */
const fastGradProduct: Product = (x, w) => {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
        return [tf.matMul(dy, sb.transpose()), tf.matMul(sa.transpose(), dy)];
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
};

/** Mean cross-entropy of predicting `targets` from `inputs` (both [batchSize·contextLength] ids). */
function lossOf(
  p: ModelParams, s: TrainBenchShape, inputs: tf.Tensor1D, targets: tf.Tensor1D, mask: tf.Tensor2D, mm: Product,
): tf.Scalar {
  const B = s.batchSize, T = s.contextLength, H = s.nHeads, hd = s.dim / s.nHeads;
  const heads = (x: tf.Tensor2D): tf.Tensor4D => x.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]);
  let x = embed(p.wte, inputs).reshape([B, T, s.dim]).add(p.wpe).reshape([B * T, s.dim]) as tf.Tensor2D;
  for (const b of p.blocks) {
    const h = layerNorm(x, b.ln1G, b.ln1B);
    const q = heads(mm(h, b.wq)), k = heads(mm(h, b.wk)), v = heads(mm(h, b.wv));
    const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)).add(mask);
    const att = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * T, s.dim]) as tf.Tensor2D;
    x = x.add(mm(att, b.wo));
    const h2 = layerNorm(x, b.ln2G, b.ln2B);
    x = x.add(mm(gelu(mm(h2, b.w1)), b.w2));
  }
  const logits = mm(layerNorm(x, p.lnfG, p.lnfB), p.wte.transpose());
  return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, s.vocabSize), logits) as tf.Scalar;
}

/**
 * Trains a freshly initialized model for `warmup` untimed then `steps` timed steps (one AdamW update per
 * batch of batchSize × contextLength tokens) on `opts.backend`, and returns the wall-clock throughput.
 * `plainAutodiff`: tfjs's own gradients for the linear layers (slower on wasm; see the file comment).
 */
export async function benchTfjsTraining(
  shape: TrainBenchShape, opts: { steps: number; warmup: number; backend: string; plainAutodiff?: boolean },
): Promise<TfjsTrainingResult> {
  if (shape.dim % shape.nHeads !== 0) throw new Error(`dim ${shape.dim} is not a multiple of nHeads ${shape.nHeads}`);
  await useTfjsBackend(opts.backend);
  const o = TRAIN_BENCH_OPTIMIZER;
  const T = shape.contextLength;
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -1e9;
  const mask = tf.tensor2d(maskData, [T, T]);
  const params = initParams(shape, 1);
  const optimizer = tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  const decay = 1 - o.learningRate * o.weightDecay;
  const mm = opts.plainAutodiff === true ? plainProduct : fastGradProduct;

  const step = (i: number): number => {
    const batch = trainBenchBatch(shape, i);
    return tf.tidy(() => {
      const inputs = tf.tensor1d(batch.inputs, "int32"), targets = tf.tensor1d(batch.targets, "int32");
      const { value, grads } = tf.variableGrads(() => lossOf(params, shape, inputs, targets, mask, mm), [...params.all]);
      for (const m of params.matrices) m.assign(m.mul(decay)); // AdamW: decay on the pre-step weights
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      return value.dataSync()[0]!; // also waits for the step to finish on asynchronous backends
    });
  };

  try {
    for (let i = 0; i < opts.warmup; i++) step(i);
    let loss = NaN;
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) loss = step(opts.warmup + i);
    const msPerStep = (performance.now() - t0) / opts.steps;
    return { backend: opts.backend + (opts.plainAutodiff === true ? " (tfjs autodiff)" : ""), tokensPerSecond: (shape.batchSize * T * 1000) / msPerStep, msPerStep, finalLoss: loss };
  } finally {
    optimizer.dispose();
    tf.dispose([mask, ...params.all]);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "best" }, steps: { type: "string", default: "5" }, warmup: { type: "string", default: "2" },
      "plain-autodiff": { type: "boolean", default: false },
    },
  });
  const steps = Number(values.steps), warmup = Number(values.warmup);
  const shape = DEFAULT_TRAIN_BENCH_SHAPE;
  const backends = values.backend === "all" ? ["tensorflow", "wasm", "cpu"] : [values.backend === "best" ? await bestTfjsBackend() : values.backend];
  const flops = trainFlopsPerToken(shape);
  console.log(`tfjs ${tf.version.tfjs} training, shape ${JSON.stringify(shape)}; ${(flops / 1e6).toFixed(2)} MFLOP/token; ${warmup} warm-up + ${steps} timed steps`);
  console.log(["backend", "tokens/s", "ms/step", "GFLOP/s", "final loss"].join("\t"));
  for (const backend of backends) {
    try {
      const r = await benchTfjsTraining(shape, { steps, warmup, backend, plainAutodiff: values["plain-autodiff"] });
      console.log([r.backend, r.tokensPerSecond.toFixed(0), r.msPerStep.toFixed(0), ((r.tokensPerSecond * flops) / 1e9).toFixed(2), r.finalLoss.toFixed(3)].join("\t"));
    } catch (e) {
      console.log([backend, `unavailable: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`].join("\t"));
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
