/**
 * `peel train`: trains a small transformer from scratch on text files (teacher forcing), or continues a run
 * with --resume. Flags become a model config (a preset plus overrides) and hyperparameters, checked here with
 * a usage error naming the flag; the run itself is src/train/run/. On a terminal stderr a one-line bar shows
 * step, loss, tokens/s and ETA; otherwise plain progress lines. Ctrl-C saves a checkpoint and exits.
 */

import { resolve } from "node:path";
import { choiceOpt, flagOpt, intOpt, numberOpt, stringOpt, UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import type { OutStream } from "../io.js";
import { BACKEND_OPTIONS, parseBackendArgs } from "../model-file.js";
import { BPE_KINDS, MAX_VOCAB_SIZE, minVocabSize } from "../../tokenizer/train/train-bpe.js";
import { ACTIVATION_KINDS, NORM_KINDS, POSITION_KINDS, PRESET_NAMES, PRESETS, type TrainModelConfig } from "../../train/model/config.js";
import type { TrainHyperparameters } from "../../train/loop/trainer.js";
import { GGUF_EXPORT_DTYPES } from "../../train/export/gguf.js";
import type { NewRunOptions, RunSummary, TrainRunHooks } from "../../train/run/run.node.js";

/** Defaults: a ~1M-parameter model that trains on a laptop's CPU in minutes. */
const DEFAULTS = {
  vocabSize: 1024, dim: 128, layers: 4, heads: 4, context: 128, batch: 16, accumulation: 1, steps: 2000,
  lr: 3e-3, warmup: 100, weightDecay: 0.1, clip: 1, seed: 1, valFraction: 0.05, evalEvery: 100, evalBatches: 8,
} as const;

function modelArgs(args: ParsedArgs): Omit<TrainModelConfig, "vocabSize"> {
  const preset = PRESETS[choiceOpt(args, "preset", PRESET_NAMES) ?? "llama"];
  const dim = intOpt(args, "dim", 2, 1 << 14) ?? DEFAULTS.dim;
  const nHeads = intOpt(args, "heads", 1, 1024) ?? DEFAULTS.heads;
  const nKvHeads = intOpt(args, "kv-heads", 1, 1024) ?? nHeads;
  if (dim % nHeads !== 0) throw new UsageError(`--dim ${dim} must be a multiple of --heads ${nHeads}`, args.command);
  if (nHeads % nKvHeads !== 0) throw new UsageError(`--kv-heads ${nKvHeads} must divide --heads ${nHeads}`, args.command);
  const activation = choiceOpt(args, "activation", ACTIVATION_KINDS) ?? preset.activation;
  // SwiGLU has three matrices instead of two, so its width is scaled by 2/3 to keep the parameter count (Llama's rule)
  const defaultHidden = activation === "swiglu" ? Math.round((8 * dim) / 3 / 32) * 32 || 32 : 4 * dim;
  if (flagOpt(args, "tied") && flagOpt(args, "untied")) throw new UsageError("--tied and --untied cannot be used together", args.command);
  return {
    ...preset,
    dim, nHeads, nKvHeads, activation,
    nLayers: intOpt(args, "layers", 1, 256) ?? DEFAULTS.layers,
    hiddenDim: intOpt(args, "hidden", 1, 1 << 16) ?? defaultHidden,
    contextLength: intOpt(args, "context", 2, 1 << 16) ?? DEFAULTS.context,
    norm: choiceOpt(args, "norm", NORM_KINDS) ?? preset.norm,
    position: choiceOpt(args, "position", POSITION_KINDS) ?? preset.position,
    tiedOutput: flagOpt(args, "untied") ? false : flagOpt(args, "tied") ? true : preset.tiedOutput,
  };
}

function hyperArgs(args: ParsedArgs, contextLength: number): TrainHyperparameters {
  const steps = intOpt(args, "steps", 1, 1e9) ?? DEFAULTS.steps;
  const maxLr = numberOpt(args, "lr", 0, 10, true) ?? DEFAULTS.lr;
  const minLr = numberOpt(args, "min-lr", 0, 10) ?? maxLr / 10;
  if (minLr > maxLr) throw new UsageError(`--min-lr ${minLr} must not exceed --lr ${maxLr}`, args.command);
  const warmupSteps = intOpt(args, "warmup", 0, 1e9) ?? Math.min(DEFAULTS.warmup, Math.floor(steps / 10));
  if (warmupSteps > steps) throw new UsageError(`--warmup ${warmupSteps} is longer than --steps ${steps}`, args.command);
  const clip = numberOpt(args, "clip", 0, 1e9);
  return {
    batchSize: intOpt(args, "batch", 1, 1 << 16) ?? DEFAULTS.batch,
    seqLen: contextLength,
    accumulation: intOpt(args, "accumulation", 1, 1 << 16) ?? DEFAULTS.accumulation,
    steps,
    schedule: { maxLr, minLr, warmupSteps, totalSteps: steps },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: numberOpt(args, "weight-decay", 0, 10) ?? DEFAULTS.weightDecay },
    clipNorm: clip === undefined ? DEFAULTS.clip : clip === 0 ? Infinity : clip,
    seed: intOpt(args, "seed", 0, 0xffffffff) ?? DEFAULTS.seed,
    evalBatches: intOpt(args, "eval-batches", 1, 1 << 20) ?? DEFAULTS.evalBatches,
  };
}

const RUN_SHAPING = ["data", "tokenizer", "vocab-size", "kind", "preset", "dim", "layers", "heads", "kv-heads", "hidden", "context", "norm",
  "position", "activation", "tied", "untied", "batch", "accumulation", "steps", "lr", "min-lr", "warmup", "weight-decay", "clip", "seed", "val-fraction", "eval-batches", "force"];

function freshArgs(args: ParsedArgs, cwd: string): NewRunOptions {
  const first = stringOpt(args, "data");
  const files = [...(first !== undefined ? [first] : []), ...args.positionals].map((f) => resolve(cwd, f));
  if (files.length === 0) throw new UsageError("--data FILE is required: the UTF-8 text to train on (or --resume to continue a run)", args.command);
  const model = modelArgs(args);
  const tokenizerFile = stringOpt(args, "tokenizer");
  const kind = choiceOpt(args, "kind", BPE_KINDS) ?? "byte-level";
  const vocabSize = intOpt(args, "vocab-size", minVocabSize(kind), MAX_VOCAB_SIZE) ?? DEFAULTS.vocabSize;
  if (tokenizerFile !== undefined && args.values.has("vocab-size")) throw new UsageError("--vocab-size trains a new tokenizer; it cannot be combined with --tokenizer", args.command);
  return {
    files, vocabSize, tokenizerKind: kind, model,
    ...(tokenizerFile !== undefined ? { tokenizerFile: resolve(cwd, tokenizerFile) } : {}),
    valFraction: numberOpt(args, "val-fraction", 0, 0.5, true) ?? DEFAULTS.valFraction,
    hyper: hyperArgs(args, model.contextLength),
    force: flagOpt(args, "force"),
  };
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Progress: a redrawn line on a terminal, else one plain line per validation (and the first step). */
function progress(stderr: OutStream): TrainRunHooks & { finish(): void } {
  let totalSteps = 0, startStep = 0, val: number | undefined, drawn = false, last = -Infinity, tokenizerLine = false;
  const line = (step: number, loss: number, elapsedMs: number, tokPerSec: number, bar: boolean): string => {
    const done = step - startStep, left = totalSteps - step;
    const eta = done > 0 ? formatDuration((elapsedMs / done) * left) : "?";
    const filled = Math.round((20 * step) / Math.max(1, totalSteps));
    const graphic = bar ? ` [${"#".repeat(filled)}${"-".repeat(20 - filled)}]` : "";
    return `step ${step}/${totalSteps}${graphic} loss ${loss.toFixed(4)}${val !== undefined ? ` val ${val.toFixed(4)}` : ""} | ${Math.round(tokPerSec)} tok/s | ETA ${eta}`;
  };
  const width = (): number => Math.max(40, (stderr.columns ?? 80) - 1);
  let runStart = 0, tokens = 0, lastLoss = NaN;
  return {
    onPhase(m) {
      if (tokenizerLine) stderr.write("\r\x1b[K");
      tokenizerLine = false;
      stderr.write(`${m}\n`);
    },
    onTokenizerProgress(done, total) {
      if (stderr.isTTY !== true) return;
      tokenizerLine = true;
      stderr.write(`\rtokenizer: ${done}/${total} merges\x1b[K`);
    },
    onStart(info) {
      totalSteps = info.hyper.steps;
      startStep = info.startStep;
      runStart = performance.now();
      const c = info.config;
      stderr.write(`model: ${(info.parameters / 1e6).toFixed(2)}M parameters (dim ${c.dim}, ${c.nLayers} layers, ${c.nHeads} heads/${c.nKvHeads} kv, ` +
        `hidden ${c.hiddenDim}, ${c.norm} norm, ${c.position} positions, ${c.activation}, vocab ${c.vocabSize}, context ${c.contextLength})\n` +
        `data: ${info.trainTokens} training tokens, ${info.valTokens} validation tokens; ` +
        `${info.hyper.batchSize}×${info.hyper.seqLen}${info.hyper.accumulation > 1 ? `×${info.hyper.accumulation}` : ""} tokens a step` +
        `${info.startStep > 0 ? `; resuming at step ${info.startStep}` : ""}\n`);
    },
    onStep(r) {
      tokens += r.tokens;
      lastLoss = r.loss;
      const elapsed = performance.now() - runStart;
      const tps = tokens / Math.max(elapsed / 1000, 1e-9);
      if (stderr.isTTY === true) {
        if (elapsed - last < 100 && r.step < totalSteps) return;
        last = elapsed;
        drawn = true;
        stderr.write(`\r${line(r.step, r.loss, elapsed, tps, true).slice(0, width())}\x1b[K`);
      } else if (r.step === startStep + 1) {
        stderr.write(`${line(r.step, r.loss, elapsed, tps, false)}\n`);
      }
    },
    onEval(step, v) {
      val = v;
      const elapsed = performance.now() - runStart;
      const tps = tokens / Math.max(elapsed / 1000, 1e-9);
      // on a terminal each validation leaves a line behind (the curve so far); elsewhere these are the only lines
      if (stderr.isTTY !== true) stderr.write(`${line(step, lastLoss, elapsed, tps, false)}\n`);
      else stderr.write(`\r${line(step, lastLoss, elapsed, tps, false).slice(0, width())}\x1b[K\n`);
    },
    finish() {
      if (drawn) stderr.write("\r\x1b[K");
      drawn = false;
    },
  };
}

function summaryText(s: RunSummary, outArg: string): string {
  const loss = (v: number | undefined): string => (v === undefined ? "-" : v.toFixed(4));
  const head = s.interrupted ? `interrupted at step ${s.steps}; checkpoint saved, continue with: peel train --resume --out ${outArg}` : `trained ${s.steps} steps`;
  const gguf = s.gguf !== undefined ? `\nexported ${s.gguf} (run it: peel generate --model ${s.gguf})` : s.noGgufReason !== undefined ? `\nno GGUF export: ${s.noGgufReason}` : "";
  return `${head} in ${formatDuration(s.elapsedMs)}: train loss ${loss(s.trainLoss)}, val loss ${loss(s.valLoss)}, ${Math.round(s.tokensPerSecond)} tokens/s${gguf}\n`;
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const outArg = stringOpt(args, "out");
  if (outArg === undefined || outArg === "") throw new UsageError("--out DIR is required: the run's directory (checkpoints, logs, the exported model)", args.command);
  const resume = flagOpt(args, "resume");
  if (resume) {
    const clash = RUN_SHAPING.filter((n) => args.values.has(n));
    if (clash.length > 0 || args.positionals.length > 0) {
      throw new UsageError(`--resume continues the saved run with its own data and settings; drop ${clash.length > 0 ? clash.map((n) => `--${n}`).join(", ") : "the data files"}`, args.command);
    }
  }
  const fresh = resume ? undefined : freshArgs(args, io.cwd);
  const backend = parseBackendArgs(args);
  // unset reporting flags: the saved run's on --resume, else the defaults (run.node.ts)
  const exportDtype = choiceOpt(args, "export-dtype", GGUF_EXPORT_DTYPES);
  const evalEvery = intOpt(args, "eval-every", 1, 1e9);
  const saveEvery = intOpt(args, "save-every", 1, 1e9) ?? (evalEvery !== undefined ? evalEvery * 5 : undefined);
  const name = stringOpt(args, "name");
  const { runTraining } = await import("../../train/run/run.node.js");
  const kernels = backend.backend === "ts"
    ? (await import("../../kernels/ts/index.js")).createTsKernels()
    : await (await import("../../kernels/wasm/index.node.js")).createWasmKernels(backend.threads !== undefined ? { threads: backend.threads } : {});
  const hooks = progress(io.stderr);
  try {
    const summary = await runTraining({
      outDir: resolve(io.cwd, outArg), kernels, signal, hooks,
      ...(evalEvery !== undefined ? { evalEvery } : {}), ...(saveEvery !== undefined ? { saveEvery } : {}),
      ...(exportDtype !== undefined ? { exportDtype } : {}), ...(name !== undefined ? { name } : {}),
      ...(fresh !== undefined ? { fresh } : {}),
    });
    hooks.finish();
    io.stdout.write(summaryText(summary, outArg));
    return summary.interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    hooks.finish();
    await kernels.dispose?.();
  }
}

export const trainCommand: Command = {
  name: "train",
  summary: "Train a small transformer from scratch on text files (or --resume a run)",
  usage: "peel train --data FILE [FILE...] --out DIR [--preset llama|gpt2] [model and training flags]\n       peel train --resume --out DIR",
  options: {
    data: { type: "string", valueName: "FILE", help: "UTF-8 text to train on (more files may follow)" },
    out: { type: "string", short: "o", valueName: "DIR", help: "Run directory: tokenizer, tokens, checkpoint, log.jsonl, loss.svg, model.gguf" },
    resume: { type: "boolean", help: "Continue the run saved in --out exactly where it stopped" },
    force: { type: "boolean", help: "Train into a non-empty --out, replacing its files" },
    tokenizer: { type: "string", valueName: "FILE", help: "A tokenizer.json from 'peel tokenizer train' (default: train one)" },
    "vocab-size": { type: "string", valueName: "N", help: `Tokens of the BPE tokenizer trained first (default ${DEFAULTS.vocabSize})` },
    kind: { type: "string", valueName: "KIND", help: "Tokenizer kind: byte-level (default) or sentencepiece" },
    preset: { type: "string", valueName: "NAME", help: "llama (RMSNorm, RoPE, SwiGLU; default) or gpt2 (LayerNorm, learned positions, GELU)" },
    dim: { type: "string", valueName: "N", help: `Model width (default ${DEFAULTS.dim})` },
    layers: { type: "string", valueName: "N", help: `Transformer blocks (default ${DEFAULTS.layers})` },
    heads: { type: "string", valueName: "N", help: `Attention heads (default ${DEFAULTS.heads})` },
    "kv-heads": { type: "string", valueName: "N", help: "Key/value heads: = heads (MHA, default), 1 (MQA), or a divisor (GQA)" },
    hidden: { type: "string", valueName: "N", help: "Feed-forward width (default 4·dim, or ≈8/3·dim for SwiGLU)" },
    context: { type: "string", valueName: "N", help: `Window length trained on (default ${DEFAULTS.context})` },
    norm: { type: "string", valueName: "KIND", help: "layer or rms (overrides the preset)" },
    position: { type: "string", valueName: "KIND", help: "learned, sinusoidal or rope (overrides the preset)" },
    activation: { type: "string", valueName: "KIND", help: "relu, gelu or swiglu (overrides the preset)" },
    tied: { type: "boolean", help: "LM head shares the token embedding (the presets' default)" },
    untied: { type: "boolean", help: "LM head has its own matrix" },
    batch: { type: "string", valueName: "N", help: `Windows per micro-batch (default ${DEFAULTS.batch})` },
    accumulation: { type: "string", valueName: "N", help: "Micro-batches per optimizer step (default 1)" },
    steps: { type: "string", valueName: "N", help: `Optimizer steps (default ${DEFAULTS.steps})` },
    lr: { type: "string", valueName: "X", help: `Peak learning rate (default ${DEFAULTS.lr})` },
    "min-lr": { type: "string", valueName: "X", help: "Learning rate at the end of the cosine (default lr/10)" },
    warmup: { type: "string", valueName: "N", help: "Linear warmup steps (default min(100, steps/10))" },
    "weight-decay": { type: "string", valueName: "X", help: `AdamW decoupled weight decay on matrices (default ${DEFAULTS.weightDecay})` },
    clip: { type: "string", valueName: "X", help: "Global gradient-norm clip (default 1; 0 = no clipping)" },
    seed: { type: "string", valueName: "N", help: "Seed of the weights and the batch sampler (default 1)" },
    "val-fraction": { type: "string", valueName: "X", help: "Share of the tokens held out for validation (default 0.05)" },
    "eval-every": { type: "string", valueName: "N", help: `Validation loss every N steps (default ${DEFAULTS.evalEvery})` },
    "eval-batches": { type: "string", valueName: "N", help: `Validation batches per evaluation (default ${DEFAULTS.evalBatches})` },
    "save-every": { type: "string", valueName: "N", help: "Checkpoint every N steps (default 5 × eval-every, and at the end)" },
    "export-dtype": { type: "string", valueName: "TYPE", help: "Matrix type of the exported GGUF: F32 (default), F16 or Q8_0" },
    name: { type: "string", valueName: "NAME", help: "general.name of the exported model (default peel-trained)" },
    ...BACKEND_OPTIONS,
  },
  positional: { name: "[FILE...]", min: 0, max: Number.MAX_SAFE_INTEGER },
  details: [
    "Training is deterministic: the same data, flags, seed and thread count give the same losses, and\n" +
      "--resume continues a run with exactly the losses it would have had. Ctrl-C saves a checkpoint first.",
    "At the end the model is exported to <out>/model.gguf with its tokenizer embedded, which peel generate\n" +
      "and llama.cpp both run: architecture llama for the Llama-style preset, gpt2 for the GPT-2-style one.\n" +
      "Other mixes (e.g. --preset gpt2 --activation relu) have no GGUF architecture and keep their checkpoint.",
    "Examples:\n  peel train --data tinystories.txt --out runs/stories --steps 2000\n" +
      "  peel train --data input.txt --out runs/gpt2 --preset gpt2 --dim 96 --layers 3 --context 64\n" +
      "  peel train --resume --out runs/stories",
  ],
  run,
};
