/**
 * `peel tokenize`: shows how a tokenizer splits a text. The tokenizer comes from a model (`--model`, which may be
 * a llama2.c checkpoint paired with `--tokenizer`) or from a tokenizer file alone (`--tokenizer`: GGUF,
 * tokenizer.json, .tiktoken, tokenizer.bin). Output: one `id<TAB>piece` line per token, or JSON.
 * `--compare A,B,C` splits the same text with several tokenizer files side by side: coloured pieces on a
 * terminal, JSON otherwise. It never runs a model.
 */

import { flagOpt, stringOpt, UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { escapePiece } from "../format.js";
import type { CliIo } from "../io.js";
import { describeModelForCommand, MODEL_OPTIONS } from "../model-file.js";
import type { Tokenizer, EncodeOptions } from "../../tokenizer/types.js";
import { barredTokens, colouredTokens, tokenText } from "../token-view.js";

async function loadFile(path: string, args: ParsedArgs): Promise<Tokenizer> {
  const { loadTokenizerFile } = await import("../../tokenizer/load-file.node.js");
  const encoding = stringOpt(args, "encoding");
  return loadTokenizerFile(path, encoding !== undefined ? { encoding } : {});
}

/** The tokenizer named by --model (with its --tokenizer pairing) or by --tokenizer alone. */
async function singleTokenizer(args: ParsedArgs, io: CliIo): Promise<Tokenizer> {
  const tokenizerPath = stringOpt(args, "tokenizer");
  if (stringOpt(args, "model") === undefined && tokenizerPath !== undefined) return loadFile(tokenizerPath, args);
  return (await describeModelForCommand(args, io)).tokenizer;
}

function encodeOptions(args: ParsedArgs): EncodeOptions {
  return { addSpecial: !flagOpt(args, "no-bos"), parseSpecial: flagOpt(args, "parse-special") };
}

async function compare(args: ParsedArgs, io: CliIo, text: string, list: string): Promise<number> {
  const paths = list.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (paths.length < 2) throw new UsageError("--compare needs at least two tokenizer files, separated by commas", args.command);
  if (stringOpt(args, "model") !== undefined || stringOpt(args, "tokenizer") !== undefined) {
    throw new UsageError("--compare takes its tokenizer files itself; leave out --model and --tokenizer", args.command);
  }
  const rows = [];
  for (const path of paths) {
    const tokenizer = await loadFile(path, args);
    rows.push({ path, tokenizer, ids: tokenizer.encode(text, encodeOptions(args)) });
  }
  if (flagOpt(args, "json") || io.stdout.isTTY !== true) {
    const out = rows.map((r) => ({ tokenizer: r.path, kind: r.tokenizer.kind, count: r.ids.length, ids: r.ids, pieces: r.ids.map((id) => tokenText(r.tokenizer, id)) }));
    io.stdout.write(`${JSON.stringify(out)}\n`);
    return EXIT.ok;
  }
  const colour = io.env["NO_COLOR"] === undefined || io.env["NO_COLOR"] === "";
  for (const r of rows) {
    io.stdout.write(`${r.path} (${r.tokenizer.kind}, ${r.ids.length} tokens)\n  ${colour ? colouredTokens(r.tokenizer, r.ids) : barredTokens(r.tokenizer, r.ids)}\n`);
  }
  return EXIT.ok;
}

async function run({ args, io }: CommandContext): Promise<number> {
  const text = args.positionals[0] ?? "";
  const list = stringOpt(args, "compare");
  if (list !== undefined) return compare(args, io, text, list);
  const tokenizer = await singleTokenizer(args, io);
  const ids = tokenizer.encode(text, encodeOptions(args));
  const pieces = ids.map((id) => tokenizer.piece(id));
  if (flagOpt(args, "json")) {
    io.stdout.write(`${JSON.stringify({ ids, pieces })}\n`);
  } else {
    io.stdout.write(ids.map((id, i) => `${id}\t${escapePiece(pieces[i] ?? "")}\n`).join(""));
  }
  return EXIT.ok;
}

export const tokenizeCommand: Command = {
  name: "tokenize",
  summary: "Show the token ids and pieces a tokenizer gives a text; compare several tokenizers",
  usage: "peel tokenize [--model FILE | --tokenizer FILE] [--json] [--no-bos] [--parse-special] TEXT\n" +
    "       peel tokenize --compare FILE,FILE[,...] [--json] TEXT",
  options: {
    ...MODEL_OPTIONS,
    tokenizer: { type: "string", valueName: "FILE", help: "A tokenizer file: GGUF, tokenizer.json, .tiktoken, llama2.c tokenizer.bin (with --model: the llama2.c model's tokenizer.bin)" },
    encoding: { type: "string", valueName: "NAME", help: "For .tiktoken rank files whose name does not say it: cl100k_base, o200k_base, ..." },
    compare: { type: "string", valueName: "A,B,...", help: "Split the text with each of these tokenizer files, side by side" },
    json: { type: "boolean", help: 'Print JSON: {"ids":[...],"pieces":[...]}, or one record per tokenizer with --compare' },
    "no-bos": { type: "boolean", help: "Do not add the BOS (or EOS) token the tokenizer adds" },
    "parse-special": { type: "boolean", help: "Match special-token text such as <|endoftext|> or <s> in TEXT" },
  },
  positional: { name: "TEXT", min: 1, max: 1 },
  details: [
    "Text output is one line per token: the id, a tab, and the piece as stored in the vocabulary\n" +
      "(SentencePiece shows a space as ▁, byte tokens as <0x0A>), with newlines, tabs, other control\n" +
      "characters and backslashes written as escapes (\\n, \\t, \\x1b, \\\\).",
    "With --compare, a terminal shows each tokenizer's pieces as decoded text on alternating colours (NO_COLOR\n" +
      "draws | between them); when stdout is not a terminal, or with --json, it prints a JSON array of\n" +
      "{tokenizer, kind, count, ids, pieces}.",
    "Examples:\n  peel tokenize --model model.gguf \"Hello world\"\n  peel tokenize --tokenizer tokenizer.json --json \"Hello\"\n" +
      "  peel tokenize --compare llama2/tokenizer.json,cl100k_base.tiktoken,model.gguf \"The same sentence\"",
  ],
  run,
};
