/**
 * `peel info`: describes a model file: architecture, every hyperparameter of its config, the tokenizer,
 * file-format details and the tensor table (name, shape, type, bytes) with totals, as text or JSON.
 * It reads only what a ModelDescription (the file header) exposes; it does not parse files itself.
 */

import { architectureChoices } from "../../model/choices.js";
import type { ModelDescription } from "../../model/model.js";
import { flagOpt } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { flatten, groupDigits, shortCount, table } from "../format.js";
import { describeModelForCommand, MODEL_OPTIONS } from "../model-file.js";
import { formatBytes } from "../progress.js";

interface Totals {
  readonly tensors: number;
  readonly params: number;
  readonly bytes: number;
}

export function modelTotals(model: ModelDescription): Totals {
  let params = 0;
  let bytes = 0;
  for (const t of model.info.tensors) {
    params += t.shape.reduce((a, b) => a * b, 1);
    bytes += t.bytes;
  }
  return { tensors: model.info.tensors.length, params, bytes };
}

/** The JSON shape of `peel info --json`. CLI keys are snake_case; config fields keep their glossary names. */
export function infoJson(model: ModelDescription): unknown {
  const tok = model.tokenizer;
  return {
    format: model.info.format,
    source: model.info.source,
    name: model.info.name ?? null,
    details: model.info.details,
    architecture: model.config.architecture,
    config: model.config,
    choices: Object.fromEntries(architectureChoices(model.config)),
    tokenizer: { kind: tok.kind, vocab_size: tok.vocabSize, bos_id: tok.bosId ?? null, eos_id: tok.eosId ?? null },
    tensors: model.info.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.dtype, bytes: t.bytes })),
    totals: modelTotals(model),
  };
}

export function infoText(model: ModelDescription): string {
  const { info, config, tokenizer } = model;
  const totals = modelTotals(model);
  const details = Object.entries(info.details).map(([k, v]) => [k, String(v)] as const);
  const lines = [
    ...table([
      ["model", info.name ?? "(unnamed)"],
      ["file", info.source],
      ["format", info.format],
      ["architecture", config.architecture],
    ], [], ""),
    "",
    "format details:",
    ...(details.length > 0 ? table(details) : ["  (none)"]),
    "",
    "architecture choices:",
    ...table(architectureChoices(config)),
    "",
    "hyperparameters:",
    ...table(flatten(config)),
    "",
    "tokenizer:",
    ...table([
      ["kind", tokenizer.kind],
      ["vocabSize", String(tokenizer.vocabSize)],
      ["bosId", String(tokenizer.bosId ?? "none")],
      ["eosId", String(tokenizer.eosId ?? "none")],
    ]),
    "",
    `tensors (${totals.tensors}; shapes outermost first):`,
    ...table([
      ["name", "shape", "type", "bytes"],
      ...info.tensors.map((t) => [t.name, `[${t.shape.join(", ")}]`, t.dtype, groupDigits(t.bytes)]),
    ], [3]),
    "",
    `total: ${groupDigits(totals.params)} parameters (${shortCount(totals.params)}), ` +
      `${groupDigits(totals.bytes)} bytes (${formatBytes(totals.bytes)}) in ${totals.tensors} tensors`,
  ];
  return `${lines.join("\n")}\n`;
}

async function run({ args, io }: CommandContext): Promise<number> {
  const model = await describeModelForCommand(args, io);
  io.stdout.write(flagOpt(args, "json") ? `${JSON.stringify(infoJson(model))}\n` : infoText(model));
  return EXIT.ok;
}

export const infoCommand: Command = {
  name: "info",
  summary: "Describe a model: architecture, hyperparameters, tokenizer, format, tensors",
  usage: "peel info [--model FILE] [--tokenizer FILE] [--json]",
  options: {
    ...MODEL_OPTIONS,
    json: { type: "boolean", help: "Print one JSON object instead of text" },
  },
  details: [
    "Shows every hyperparameter of the model's config (names from the glossary in src/README.md), the\n" +
      "tokenizer kind and vocabulary size, file-format details, and each tensor's name, shape, storage type\n" +
      "and size, with totals. Only the file's header is read, so this is quick even for large models.",
    "Examples:\n  peel info --model model.gguf\n  peel info --model model.gguf --json",
  ],
  run,
};
