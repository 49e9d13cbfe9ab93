/**
 * `peel generate`: loads a model and streams the continuation of a prompt to stdout as it is produced, or,
 * with --json, prints one JSON object with the prompt ids, generated ids, text and speeds. Sampling flags
 * are checked here (exit 2 naming the flag) before any model is read. It does not sample or tokenize itself.
 */

import type { GenerateOptions } from "../../generate/generate.js";
import type { Model } from "../../model/model.js";
import { flagOpt, idListOpt, intOpt, numberOpt, stringOpt, UsageError, type OptionSpecs, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { GRAMMAR_OPTIONS, parseGrammarArgs } from "../grammar-args.js";
import { tokensPerSecond } from "../format.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, LOAD_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseBackendArgs, parseFlashArg, parseQuantizeArg } from "../model-file.js";

const MAX_TOKENS_LIMIT = 1_000_000;

interface GenerateRequest {
  readonly prompt: string | number[];
  readonly options: GenerateOptions;
  readonly json: boolean;
}

/** Every flag checked and converted; throws UsageError naming the flag. Exported for tests. */
export function parseGenerateArgs(args: ParsedArgs): GenerateRequest {
  const text = stringOpt(args, "prompt");
  const ids = idListOpt(args, "prompt-ids");
  if (text !== undefined && ids !== undefined) throw new UsageError("--prompt and --prompt-ids cannot be used together", args.command);
  const options = parseSamplingArgs(args);
  return { prompt: ids ?? text ?? "", options, json: flagOpt(args, "json") };
}

/** The flags generate and chat share (sampling, budget, backend, attention), checked; throws UsageError naming the flag. */
export function parseSamplingArgs(args: ParsedArgs): GenerateOptions {
  parseBackendArgs(args);
  parseQuantizeArg(args); // checked here too, before any file is read
  const maxTokens = intOpt(args, "max-tokens", 0, MAX_TOKENS_LIMIT);
  const temperature = numberOpt(args, "temperature", 0, 100);
  const topK = intOpt(args, "top-k", 0, 0x7fffffff);
  const topP = numberOpt(args, "top-p", 0, 1, true);
  const seed = intOpt(args, "seed", 0, 0xffffffff);
  const flashAttention = parseFlashArg(args);
  const minP = numberOpt(args, "min-p", 0, 1);
  const typicalP = numberOpt(args, "typical-p", 0, 1, true);
  const repeatPenalty = numberOpt(args, "repeat-penalty", 0, 10, true);
  const frequencyPenalty = numberOpt(args, "frequency-penalty", -2, 2);
  const presencePenalty = numberOpt(args, "presence-penalty", -2, 2);
  const penaltyLastN = intOpt(args, "repeat-last-n", 0, 1 << 20);
  const logitBias = parseLogitBias(args);
  const stop = stringOpt(args, "stop");
  if (stop === "") throw new UsageError("--stop needs a non-empty string", args.command);
  const grammar = parseGrammarArgs(args);
  return {
    ...(grammar !== undefined ? { grammar } : {}),
    ...(minP !== undefined ? { minP } : {}),
    ...(typicalP !== undefined ? { typicalP } : {}),
    ...(repeatPenalty !== undefined ? { repeatPenalty } : {}),
    ...(frequencyPenalty !== undefined ? { frequencyPenalty } : {}),
    ...(presencePenalty !== undefined ? { presencePenalty } : {}),
    ...(penaltyLastN !== undefined ? { penaltyLastN } : {}),
    ...(logitBias !== undefined ? { logitBias } : {}),
    ...(stop !== undefined ? { stop: [stop] } : {}),
    ...(flashAttention !== undefined ? { flashAttention } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** --logit-bias ID:BIAS[,ID:BIAS...] (BIAS a number, or -inf to ban the token). */
function parseLogitBias(args: ParsedArgs): Map<number, number> | undefined {
  const raw = stringOpt(args, "logit-bias");
  if (raw === undefined) return undefined;
  const bias = new Map<number, number>();
  for (const part of raw.split(",")) {
    const m = /^\s*(\d+)\s*:\s*(-?inf|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*$/i.exec(part);
    if (m === null) throw new UsageError(`--logit-bias expects ID:BIAS pairs separated by commas (BIAS a number or -inf), got "${part}"`, args.command);
    const v = /^-inf$/i.test(m[2]!) ? -Infinity : Number(m[2]);
    if (v === Infinity || /^inf$/i.test(m[2]!)) throw new UsageError(`--logit-bias: +inf would force a token; use a large number, got "${part}"`, args.command);
    bias.set(Number(m[1]), v);
  }
  return bias;
}

/** The sampling flags' declarations, shared with `peel chat`. */
export const SAMPLING_OPTIONS: OptionSpecs = {
  "max-tokens": { type: "string", short: "n", valueName: "N", help: `Most tokens to generate, 0..${MAX_TOKENS_LIMIT} (default 128)` },
  temperature: { type: "string", short: "t", valueName: "T", help: "Sampling temperature, 0..100; 0 = greedy (default 0)" },
  "top-k": { type: "string", valueName: "K", help: "Keep the K most likely tokens when sampling; 0 = off (default 40)" },
  "top-p": { type: "string", valueName: "P", help: "Nucleus sampling mass in (0, 1]; 1 = off (default 0.95)" },
  seed: { type: "string", short: "s", valueName: "S", help: "Seed for sampling, 0..4294967295 (default 0); same seed, same text" },
  "min-p": { type: "string", valueName: "P", help: "Keep tokens at least P times as likely as the top one, 0..1; 0 = off (default)" },
  "typical-p": { type: "string", valueName: "P", help: "Locally typical sampling mass in (0, 1]; 1 = off (default)" },
  "repeat-penalty": { type: "string", valueName: "R", help: "Discourage the last N tokens: positive logits / R, negative × R; 1 = off (default)" },
  "frequency-penalty": { type: "string", valueName: "F", help: "Subtract F per occurrence in the last N tokens, -2..2 (default 0)" },
  "presence-penalty": { type: "string", valueName: "P", help: "Subtract P from any token in the last N tokens, -2..2 (default 0)" },
  "repeat-last-n": { type: "string", valueName: "N", help: "How many recent tokens (prompt included) the penalties look at (default 64)" },
  "logit-bias": { type: "string", valueName: "ID:B,...", help: "Add B to token ID's logit (-inf bans it), e.g. 2:-inf,450:1.5" },
  stop: { type: "string", valueName: "TEXT", help: "Stop when the text contains TEXT (held back while it could still be starting)" },
  ...GRAMMAR_OPTIONS,
};

function checkPromptIds(model: Model, prompt: string | number[], command: string): void {
  if (typeof prompt === "string") return;
  const bad = prompt.find((id) => id >= model.config.vocabSize);
  if (bad !== undefined) {
    throw new UsageError(`--prompt-ids: token id ${bad} is outside the vocabulary (0..${model.config.vocabSize - 1})`, command);
  }
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const request = parseGenerateArgs(args);
  const model = await loadModelForCommand(args, io, signal);
  const { generate } = await import("../../generate/generate.js");
  let text = "";
  let generation;
  try {
    checkPromptIds(model, request.prompt, args.command);
    generation = generate(model, request.prompt, { ...request.options, signal });
    try {
      for await (const token of generation) {
        text += token.text;
        if (!request.json && token.text !== "") io.stdout.write(token.text);
      }
    } finally {
      if (!request.json && text !== "") io.stdout.write("\n");
    }
  } finally {
    await model.dispose();
  }
  const t = generation.timings;
  const prefillTokS = tokensPerSecond(t.prefillTokens, t.prefillMs);
  const decodeTokS = tokensPerSecond(t.decodeTokens, t.decodeMs);
  if (request.json) {
    io.stdout.write(`${JSON.stringify({
      prompt_tokens: generation.promptTokens,
      tokens: generation.tokens,
      text,
      finish_reason: generation.finishReason ?? null,
      timings: {
        prefill_tokens: t.prefillTokens, prefill_ms: round(t.prefillMs), prefill_tok_s: prefillTokS,
        decode_tokens: t.decodeTokens, decode_ms: round(t.decodeMs), decode_tok_s: decodeTokS,
      },
    })}\n`);
  } else if (io.stderr.isTTY === true) {
    io.stderr.write(`[prompt: ${t.prefillTokens} tokens, ${prefillTokS ?? "-"} tok/s · generated: ${generation.tokens.length} tokens, ` +
      `${decodeTokS ?? "-"} tok/s · stopped: ${generation.finishReason ?? "?"}]\n`);
  }
  return EXIT.ok;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export const generateCommand: Command = {
  name: "generate",
  summary: "Generate text from a prompt, streaming it to stdout",
  usage: "peel generate [--model FILE] [--prompt TEXT | --prompt-ids 1,2,3] [options]",
  options: {
    ...MODEL_OPTIONS,
    prompt: { type: "string", short: "p", valueName: "TEXT", help: "Prompt text (default: empty, so generation starts from BOS alone)" },
    "prompt-ids": { type: "string", valueName: "IDS", help: "Prompt as comma-separated token ids, e.g. 1,450,4996 (no BOS is added)" },
    ...SAMPLING_OPTIONS,
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    ...LOAD_OPTIONS,
    json: { type: "boolean", help: "Print one JSON object at the end instead of streaming text" },
  },
  details: [
    "Text streams to stdout as tokens are generated, followed by a newline. On a terminal, a loading bar and a\n" +
      "speed summary go to stderr. Ctrl-C stops generation (exit status 130).",
    "With --json, stdout is exactly one line of JSON:\n" +
      '  {"prompt_tokens":[...],"tokens":[...],"text":"...","finish_reason":"stop|length|context",\n' +
      '   "timings":{"prefill_tokens":N,"prefill_ms":MS,"prefill_tok_s":X,"decode_tokens":N,"decode_ms":MS,"decode_tok_s":X}}',
    "Sampling: temperature 0 picks the most likely token each step; otherwise top-k, then top-p, then\n" +
      "temperature, then a seeded draw. A fixed seed gives byte-identical output.",
    "An encoder–decoder model (T5, Flan-T5) reads the prompt with its encoder and streams the answer its\n" +
      "decoder writes from the decoder start token, e.g. --prompt \"translate English to German: The house is small.\"",
    "Without --model, the .gguf file in peel's models/ folder is used when there is one.",
    "Examples:\n" +
      '  peel generate --model model.gguf --prompt "Once upon a time" --max-tokens 64\n' +
      "  peel generate --model stories15M.bin --tokenizer tokenizer.bin --temperature 0.8 --seed 7\n" +
      "  peel generate --model model.gguf --prompt-ids 1,9038,2501 --json",
  ],
  run,
};
