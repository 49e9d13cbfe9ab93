/**
 * `peel embed`: sentence embeddings with an encoder model (BERT family). Texts come as arguments, or one per
 * line on stdin when there are none. Prints one vector per text (tab-separated numbers), JSON with --json, or
 * with --similarity the cosine similarity of every pair as a matrix. Pooling and normalisation as embed() does
 * them; it computes nothing itself.
 */

import { choiceOpt, flagOpt, UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { readStdinLines } from "../io.js";
import { EXIT } from "../exit-codes.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseBackendArgs, parseFlashArg } from "../model-file.js";
import type { EmbedOptions } from "../../embed/embed.js";

interface EmbedRequest {
  readonly options: EmbedOptions;
  readonly json: boolean;
  readonly similarity: boolean;
}

/** Every flag checked before the model is read; throws UsageError naming the flag. Exported for tests. */
export function parseEmbedArgs(args: ParsedArgs): EmbedRequest {
  parseBackendArgs(args);
  const pooling = choiceOpt(args, "pooling", ["mean", "cls", "last", "none"] as const);
  const flashAttention = parseFlashArg(args);
  const similarity = flagOpt(args, "similarity");
  if (similarity && pooling === "none") throw new UsageError("--similarity needs one vector per text; --pooling none gives one per token", args.command);
  return {
    options: {
      ...(pooling !== undefined ? { pooling } : {}),
      ...(flashAttention !== undefined ? { flashAttention } : {}),
      normalize: !flagOpt(args, "no-normalize"),
    },
    json: flagOpt(args, "json"),
    similarity,
  };
}

const fmt = (x: number) => (Object.is(x, -0) ? 0 : x).toPrecision(6);

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const request = parseEmbedArgs(args);
  const texts = args.positionals.length > 0 ? [...args.positionals] : await readStdinLines();
  if (texts.length === 0) throw new UsageError("no text to embed: give TEXT arguments or lines on stdin", args.command);
  const model = await loadModelForCommand(args, io, signal);
  try {
    const { embed } = await import("../../embed/embed.js");
    const { cosineSimilarity } = await import("../../embed/pool.js");
    const vectors = embed(model, texts, request.options);
    if (request.similarity) {
      const matrix = vectors.map((a) => vectors.map((b) => cosineSimilarity(a, b)));
      if (request.json) io.stdout.write(`${JSON.stringify({ texts, similarity: matrix })}\n`);
      else io.stdout.write(matrix.map((row, i) => `${row.map((v) => v.toFixed(4)).join("\t")}\t${texts[i]}\n`).join(""));
    } else if (request.json) {
      io.stdout.write(`${JSON.stringify({ dim: model.config.dim, embeddings: vectors.map((v, i) => ({ text: texts[i], embedding: [...v] })) })}\n`);
    } else {
      io.stdout.write(vectors.map((v) => `${[...v].map(fmt).join("\t")}\n`).join(""));
    }
  } finally {
    await model.dispose();
  }
  return EXIT.ok;
}

export const embedCommand: Command = {
  name: "embed",
  summary: "Sentence embeddings with an encoder model (BERT family); --similarity for a cosine matrix",
  usage: "peel embed --model FILE [--pooling mean|cls|last|none] [--no-normalize] [--similarity] [--json] [TEXT...]",
  options: {
    ...MODEL_OPTIONS,
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    pooling: { type: "string", valueName: "P", help: "mean, cls, last or none (every token's vector); default: the model's own pooling_type" },
    "no-normalize": { type: "boolean", help: "Print vectors as pooled, without scaling them to unit length" },
    similarity: { type: "boolean", help: "Print the cosine similarity of every pair of texts instead of the vectors" },
    json: { type: "boolean", help: 'Print JSON: {"dim","embeddings":[{"text","embedding"}]} or {"texts","similarity"}' },
  },
  positional: { name: "TEXT", min: 0, max: Number.MAX_SAFE_INTEGER },
  details: [
    "Without TEXT arguments, each non-empty line of stdin is one text. Each text is read whole (at most the\n" +
      "model's context length in tokens, [CLS] and [SEP] included); vectors are L2-normalised unless --no-normalize.",
    "Examples:\n  peel embed --model bge-small-en-v1.5-f16.gguf \"A dog runs\" \"A cat sleeps\" --similarity\n" +
      "  cat sentences.txt | peel embed --model all-MiniLM-L6-v2.gguf --json > vectors.json",
  ],
  run,
};
