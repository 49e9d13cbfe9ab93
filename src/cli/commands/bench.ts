/**
 * `peel bench`: how fast a model runs here. A fixed pseudo-random prompt of --prompt-tokens ids is
 * prefilled in one batch, then --gen-tokens single-token steps decode greedily (argmax; the sampler chain is
 * not what is measured), exactly the work `npm run bench:llamacpp` asks of llama.cpp. One warm-up run is
 * excluded, then --runs runs report the best and the median of prefill and decode tokens per second.
 * It does not compare with other engines (bench/llamacpp.ts does).
 */

import type { Model } from "../../model/model.js";
import { PeelError } from "../../util/errors.js";
import { flagOpt, intOpt, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, LOAD_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseBackendArgs, parseFlashArg, parseQuantizeArg } from "../model-file.js";

export interface BenchOptions {
  readonly promptTokens: number;
  readonly genTokens: number;
  readonly runs: number;
  /** Flash attention (default "on", as the session's default). */
  readonly flashAttention?: "on" | "off";
}

export interface BenchRun {
  readonly prefillTokS: number;
  readonly decodeTokS: number;
}

export interface BenchSummary {
  readonly best: number;
  readonly median: number;
  readonly all: readonly number[];
}

/**
 * The benchmark prompt: `n` ids drawn from 3..vocabSize-1 (no control tokens) by a fixed LCG, so every
 * engine and every run gets the same ids.
 */
export function benchPromptTokens(n: number, vocabSize: number): number[] {
  const ids: number[] = [];
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids.push(3 + ((s >>> 8) % (vocabSize - 3)));
  }
  return ids;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if ((x[i] as number) > (x[best] as number)) best = i;
  return best;
}

/** A measuring function over one session: each call is one run (prefill, then decode). */
export async function createPeelBench(model: Model, opts: BenchOptions): Promise<() => BenchRun> {
  const need = opts.promptTokens + opts.genTokens;
  if (need > model.config.contextLength) {
    throw new PeelError("CONTEXT_OVERFLOW", `bench: ${opts.promptTokens} prompt + ${opts.genTokens} generated tokens exceed the model's context of ${model.config.contextLength}`);
  }
  const { createSession } = await import("../../generate/session.js");
  const session = createSession(model, { contextLength: need, batchSize: Math.min(opts.promptTokens, 512), flashAttention: opts.flashAttention ?? "on" });
  const prompt = benchPromptTokens(opts.promptTokens, model.config.vocabSize);
  return () => {
    session.reset();
    const t0 = performance.now();
    session.evaluate(prompt);
    const t1 = performance.now();
    let id = prompt[0] as number; // the first decode step feeds a fixed token, as the llama.cpp side does
    for (let i = 0; i < opts.genTokens; i++) id = argmax(session.evaluate([id]));
    const t2 = performance.now();
    return { prefillTokS: (opts.promptTokens * 1000) / (t1 - t0), decodeTokS: (opts.genTokens * 1000) / (t2 - t1) };
  };
}

export function summarize(values: readonly number[]): BenchSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { best: sorted[sorted.length - 1] ?? NaN, median, all: values };
}

function parseBenchArgs(args: ParsedArgs): BenchOptions & { json: boolean } {
  parseBackendArgs(args);
  parseQuantizeArg(args);
  const flashAttention = parseFlashArg(args);
  return {
    ...(flashAttention !== undefined ? { flashAttention } : {}),
    promptTokens: intOpt(args, "prompt-tokens", 1, 4096) ?? 128,
    genTokens: intOpt(args, "gen-tokens", 1, 4096) ?? 64,
    runs: intOpt(args, "runs", 1, 100) ?? 3,
    json: flagOpt(args, "json"),
  };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const r2 = (x: number) => Math.round(x * 100) / 100;

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const opts = parseBenchArgs(args);
  const t0 = performance.now();
  const model = await loadModelForCommand(args, io, signal);
  const loadMs = performance.now() - t0;
  try {
    const once = await createPeelBench(model, opts);
    once(); // warm-up: first-touch of weights and scratch, JIT
    const runs: BenchRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      if (signal.aborted) throw new PeelError("ABORTED", "bench aborted");
      runs.push(once());
      await new Promise((resolve) => setImmediate(resolve)); // let Ctrl-C land between runs
    }
    const prefill = summarize(runs.map((r) => r.prefillTokS));
    const decode = summarize(runs.map((r) => r.decodeTokS));
    const k = model.transformer.kernels as { name: string; threads?: number; simd?: string };
    const threads = k.threads ?? 1;
    const backend = k.simd !== undefined ? `${k.name} (${k.simd} SIMD)` : k.name;
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({
        model: model.info.source, name: model.info.name ?? null, backend: k.name, ...(k.simd !== undefined ? { simd: k.simd } : {}), threads,
        prompt_tokens: opts.promptTokens, gen_tokens: opts.genTokens, runs: opts.runs, load_ms: r2(loadMs),
        prefill_tok_s: { best: r2(prefill.best), median: r2(prefill.median), all: prefill.all.map(r2) },
        decode_tok_s: { best: r2(decode.best), median: r2(decode.median), all: decode.all.map(r2) },
      })}\n`);
    } else {
      io.stdout.write(`${model.info.name ?? model.info.source}: backend ${backend}, ${threads} thread(s), ` +
        `prompt ${opts.promptTokens} tokens, ${opts.genTokens} generated, ${opts.runs} run(s) after a warm-up\n` +
        `prefill  best ${fmt(prefill.best)} tok/s  median ${fmt(prefill.median)} tok/s\n` +
        `decode   best ${fmt(decode.best)} tok/s  median ${fmt(decode.median)} tok/s\n`);
    }
    return EXIT.ok;
  } finally {
    await model.dispose();
  }
}

export const benchCommand: Command = {
  name: "bench",
  summary: "Measure prefill and decode speed (tokens per second)",
  usage: "peel bench [--model FILE] [--threads N] [--prompt-tokens 128] [--gen-tokens 64] [--json]",
  options: {
    ...MODEL_OPTIONS,
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    ...LOAD_OPTIONS,
    "prompt-tokens": { type: "string", valueName: "N", help: "Prompt length prefilled in one batch, 1..4096 (default 128)" },
    "gen-tokens": { type: "string", valueName: "N", help: "Tokens decoded one at a time, 1..4096 (default 64)" },
    runs: { type: "string", valueName: "N", help: "Measured runs after one warm-up run, 1..100 (default 3)" },
    json: { type: "boolean", help: "Print one JSON object instead of the table" },
  },
  details: [
    "The prompt is a fixed pseudo-random sequence of token ids (the same in every run and in\n" +
      "`npm run bench:llamacpp`); decoding is greedy. Prompt + generated tokens must fit the model's context.",
    "With --json: {\"backend\",\"threads\",\"prompt_tokens\",\"gen_tokens\",\"runs\",\"load_ms\",\n" +
      "  \"prefill_tok_s\":{\"best\",\"median\",\"all\"},\"decode_tok_s\":{\"best\",\"median\",\"all\"}, ...}",
    "Example:\n  peel bench --model model.gguf --threads 2 --prompt-tokens 128 --gen-tokens 64",
  ],
  run,
};
