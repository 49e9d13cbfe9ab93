/**
 * `peel convert DIR --out FILE [--type T]`: a Hugging Face checkpoint folder to a GGUF file that llama.cpp
 * and Peel run (model/convert.ts). The file is written beside the output under a temporary name and renamed
 * into place only when complete; an existing output is kept unless --force says to replace it.
 */

import { rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { choiceOpt, flagOpt, stringOpt, UsageError } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { createProgressBar, formatBytes } from "../progress.js";
import { PeelError } from "../../util/errors.js";

const TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"] as const;

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const dir = args.positionals[0] as string;
  const out = stringOpt(args, "out");
  if (out === undefined) throw new UsageError("--out FILE is required (the GGUF file to write)", "convert");
  const type = choiceOpt(args, "type", TYPES) ?? "f16";
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new PeelError("IO", `${dir}: not a directory; convert takes a Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)`);
  if (!flagOpt(args, "force") && await stat(out).then(() => true, () => false)) {
    throw new PeelError("IO", `${out} already exists; pass --force to replace it`);
  }
  const { directorySource } = await import("../../model/load.node.js");
  const { convertHfFolder } = await import("../../model/convert.js");
  const bar = createProgressBar(io.stderr, `reading ${basename(dir)}`);
  let bytes: Uint8Array;
  try {
    bytes = await convertHfFolder(directorySource(dir), type, { onProgress: (done, total) => bar.update(done, total), signal });
  } finally {
    bar.done();
  }
  const tmp = `${out}.peel-partial-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, out);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new PeelError("IO", `cannot write ${out}: ${(e as Error).message}`, { cause: e });
  }
  io.stdout.write(`wrote ${out} (${formatBytes(bytes.length)}, ${type})\n`);
  return EXIT.ok;
}

export const convertCommand: Command = {
  name: "convert",
  summary: "Convert a Hugging Face checkpoint folder to GGUF",
  usage: "peel convert DIR --out FILE [--type f16|f32|bf16|q8_0|q4_0|q4_1|q5_0|q5_1] [--force]",
  options: {
    out: { type: "string", help: "The GGUF file to write" },
    type: { type: "string", help: "Storage type of the 2-D weights (default f16); norms and biases stay f32" },
    force: { type: "boolean", help: "Replace FILE if it exists" },
  },
  positional: { name: "DIR", min: 1, max: 1 },
  details: [
    "Maps the folder as llama.cpp's convert_hf_to_gguf.py does (model_type llama, mistral, qwen2, qwen3, gemma,\n" +
      "gemma2, gemma3_text, phi3, gpt_neox). Tokenizers: byte-level BPE tokenizer.json (Llama 3, Qwen, Pythia);\n" +
      "SentencePiece (Llama 2, Mistral v0.1, Gemma, Phi-3) from tokenizer.model when present, else from a\n" +
      "Unigram or byte-fallback BPE tokenizer.json. The output is written in full under a temporary name and\n" +
      "renamed into place, so an interrupted conversion leaves no partial file.",
    "Examples:\n  peel convert ./Qwen3-0.6B --out qwen3-0.6b-q8_0.gguf --type q8_0",
  ],
  run,
};
