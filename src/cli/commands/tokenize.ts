/**
 * `peel tokenize`: shows how a model's tokenizer splits a text: one `id<TAB>piece` line per token (pieces
 * are the raw vocabulary strings, control characters escaped), or JSON `{"ids":[...],"pieces":[...]}`.
 * It does not run the model.
 */

import { flagOpt, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { escapePiece } from "../format.js";
import { describeModelForCommand, MODEL_OPTIONS } from "../model-file.js";

function textArg(args: ParsedArgs): string {
  return args.positionals[0] ?? "";
}

async function run({ args, io }: CommandContext): Promise<number> {
  const text = textArg(args);
  const model = await describeModelForCommand(args, io);
  const ids = model.tokenizer.encode(text, { addSpecial: !flagOpt(args, "no-bos") });
  const pieces = ids.map((id) => model.tokenizer.piece(id));
  if (flagOpt(args, "json")) {
    io.stdout.write(`${JSON.stringify({ ids, pieces })}\n`);
  } else {
    io.stdout.write(ids.map((id, i) => `${id}\t${escapePiece(pieces[i] ?? "")}\n`).join(""));
  }
  return EXIT.ok;
}

export const tokenizeCommand: Command = {
  name: "tokenize",
  summary: "Show the token ids and pieces a model's tokenizer gives a text",
  usage: "peel tokenize [--model FILE] [--tokenizer FILE] [--json] [--no-bos] TEXT",
  options: {
    ...MODEL_OPTIONS,
    json: { type: "boolean", help: 'Print {"ids":[...],"pieces":[...]} instead of one line per token' },
    "no-bos": { type: "boolean", help: "Do not add the BOS (or EOS) token the model's tokenizer adds" },
  },
  positional: { name: "TEXT", min: 1, max: 1 },
  details: [
    "Text output is one line per token: the id, a tab, and the piece as stored in the vocabulary\n" +
      "(SentencePiece shows a space as ▁, byte tokens as <0x0A>), with newlines, tabs, other control\n" +
      "characters and backslashes written as escapes (\\n, \\t, \\x1b, \\\\).",
    "Examples:\n  peel tokenize --model model.gguf \"Hello world\"\n  peel tokenize --model model.gguf --no-bos --json \"Hello\"",
  ],
  run,
};
