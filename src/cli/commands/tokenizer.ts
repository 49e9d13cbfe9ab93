/**
 * `peel tokenizer train`: learns a BPE tokenizer (byte-level or SentencePiece style) of a given vocabulary
 * size from text files and saves it as a Hugging Face tokenizer.json. A bar on a terminal stderr counts the
 * merges; the summary goes to stdout. An existing output file is never replaced without --force. The
 * training itself is src/tokenizer/train/; this file only reads options and files and writes the result.
 */

import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { choiceOpt, flagOpt, intOpt, stringOpt, UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import type { OutStream } from "../io.js";
import { formatBytes } from "../progress.js";
import { PeelError } from "../../util/errors.js";
import { readTrainingFiles } from "../../tokenizer/train/files.node.js";
import { writeHfTokenizerJson } from "../../tokenizer/train/hf-json.js";
import { BPE_KINDS, MAX_VOCAB_SIZE, minVocabSize, trainBpe } from "../../tokenizer/train/train-bpe.js";

const SUBCOMMANDS = ["train"];

/** A one-line "merges" bar on a terminal, redrawn at most ten times a second; nothing elsewhere. */
function mergeBar(stream: OutStream): { update(done: number, total: number): void; done(): void } {
  if (stream.isTTY !== true) return { update() {}, done() {} };
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      drawn = true;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      const tail = ` ${done}/${total} merges`;
      const barWidth = Math.max(0, Math.min(30, width - tail.length - 12));
      const filled = total > 0 ? Math.round((Math.min(done, total) / total) * barWidth) : barWidth;
      stream.write(`\rtraining [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]${tail}`.slice(0, width) + "\x1b[K");
    },
    done() {
      if (drawn) stream.write("\r\x1b[K");
      drawn = false;
    },
  };
}

/** --data FILE plus any further files named after it (`--data a.txt b.txt`) or after "train". */
function dataFiles(args: ParsedArgs, cwd: string): string[] {
  const first = stringOpt(args, "data");
  const files = [...(first !== undefined ? [first] : []), ...args.positionals.slice(1)];
  if (files.length === 0) throw new UsageError("--data FILE is required: the text to learn from", args.command);
  return files.map((f) => resolve(cwd, f));
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const sub = args.positionals[0];
  if (sub === undefined || !SUBCOMMANDS.includes(sub)) {
    throw new UsageError(sub === undefined ? "missing subcommand: peel tokenizer train ..." : `unknown subcommand "${sub}"; subcommands: ${SUBCOMMANDS.join(", ")}`, args.command);
  }
  const kind = choiceOpt(args, "kind", BPE_KINDS) ?? "byte-level";
  const min = minVocabSize(kind);
  const vocabSize = intOpt(args, "vocab-size", min, MAX_VOCAB_SIZE);
  if (vocabSize === undefined) throw new UsageError(`--vocab-size N is required (${min} to ${MAX_VOCAB_SIZE} for ${kind})`, args.command);
  const minFrequency = intOpt(args, "min-frequency", 1, Number.MAX_SAFE_INTEGER) ?? 2;
  const outArg = stringOpt(args, "out");
  if (outArg === undefined || outArg === "") throw new UsageError("--out FILE is required: where to save tokenizer.json", args.command);
  const out = resolve(io.cwd, outArg);
  if (existsSync(out) && !flagOpt(args, "force")) {
    throw new UsageError(`${outArg} already exists; pass --force to overwrite it`, args.command);
  }
  const files = dataFiles(args, io.cwd);
  const texts = readTrainingFiles(files);
  const bytes = texts.reduce((n, t) => n + new TextEncoder().encode(t).length, 0);
  const bar = mergeBar(io.stderr);
  const start = performance.now();
  let trained;
  try {
    trained = await trainBpe({ texts, vocabSize, kind, minFrequency, signal, onProgress: (d, t) => bar.update(d, t) });
  } finally {
    bar.done();
  }
  try {
    writeFileSync(out, writeHfTokenizerJson(trained), { flag: flagOpt(args, "force") ? "w" : "wx" });
  } catch (e) {
    throw new PeelError("IO", `${outArg}: cannot write the tokenizer (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  const short = trained.vocab.length < vocabSize ? ` (pairs seen ${minFrequency}+ times ran out before ${vocabSize})` : "";
  io.stdout.write(`trained a ${kind} BPE: ${trained.vocab.length} tokens${short}, ${trained.merges.length} merges, from ${formatBytes(bytes)} in ${seconds} s; saved ${outArg}\n`);
  return EXIT.ok;
}

export const tokenizerCommand: Command = {
  name: "tokenizer",
  summary: "Train a BPE tokenizer on text files and save it as tokenizer.json",
  usage: "peel tokenizer train --data FILE [FILE...] --vocab-size N [--kind byte-level|sentencepiece] --out FILE [--force]",
  options: {
    data: { type: "string", valueName: "FILE", help: "UTF-8 text to learn from (more files may follow it)" },
    "vocab-size": { type: "string", valueName: "N", help: "Tokens in the result, special tokens included" },
    kind: { type: "string", valueName: "KIND", help: "byte-level (GPT-2 style, default) or sentencepiece (Llama 2 style)" },
    "min-frequency": { type: "string", valueName: "N", help: "Never merge a pair seen fewer than N times (default 2)" },
    out: { type: "string", valueName: "FILE", help: "Where to save the tokenizer.json" },
    force: { type: "boolean", help: "Overwrite --out if it exists" },
  },
  positional: { name: "train [FILE...]", min: 0, max: Number.MAX_SAFE_INTEGER },
  details: [
    "byte-level: the GPT-2 pre-tokenizer regex, the 256 bytes as base tokens, special token <|endoftext|>.\n" +
      "sentencepiece: spaces as ▁ (one in front of each line), the characters covering 99.95 % of the text as\n" +
      "base tokens, <0x00>..<0xFF> byte fallback for the rest, special tokens <unk> <s> </s>; <s> is added in front.",
    "Training is deterministic: the same files and options give the same file. The result loads in Hugging\n" +
      "Face tokenizers (Tokenizer.from_file) and in Peel (tokenizerFromHfJson).",
    "Examples:\n  peel tokenizer train --data corpus.txt --vocab-size 8000 --out tokenizer.json\n" +
      "  peel tokenizer train --data a.txt b.txt --vocab-size 4096 --kind sentencepiece --out spm.json --force",
  ],
  run,
};
