/**
 * `peel rerank`: scores documents against a query with a cross-encoder (a BERT-family reranker, GGUF
 * pooling "rank"). Documents come as arguments or one per line on stdin. Prints one "score<TAB>document" line
 * per document, most relevant first (or in input order with --keep-order), or JSON. It computes nothing itself.
 */

import { flagOpt, stringOpt, UsageError, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { readStdinLines } from "../io.js";
import { EXIT } from "../exit-codes.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseBackendArgs, parseFlashArg } from "../model-file.js";

function parseRerankArgs(args: ParsedArgs): { query: string; flashAttention: "on" | "off" | undefined } {
  parseBackendArgs(args);
  const query = stringOpt(args, "query");
  if (query === undefined || query.trim() === "") throw new UsageError("--query is required: the text documents are scored against", args.command);
  return { query, flashAttention: parseFlashArg(args) };
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const { query, flashAttention } = parseRerankArgs(args);
  const docs = args.positionals.length > 0 ? [...args.positionals] : await readStdinLines();
  if (docs.length === 0) throw new UsageError("no documents: give DOC arguments or lines on stdin", args.command);
  const model = await loadModelForCommand(args, io, signal);
  try {
    const { rerank } = await import("../../embed/rerank.js");
    const scores = rerank(model, query, docs, flashAttention !== undefined ? { flashAttention } : {});
    const rows = docs.map((document, index) => ({ index, document, score: scores[index] as number }));
    if (!flagOpt(args, "keep-order")) rows.sort((a, b) => b.score - a.score);
    if (flagOpt(args, "json")) io.stdout.write(`${JSON.stringify({ query, results: rows })}\n`);
    else io.stdout.write(rows.map((r) => `${r.score.toFixed(6)}\t${r.document}\n`).join(""));
  } finally {
    await model.dispose();
  }
  return EXIT.ok;
}

export const rerankCommand: Command = {
  name: "rerank",
  summary: "Score documents against a query with a reranker (cross-encoder)",
  usage: "peel rerank --model FILE --query TEXT [--json] [--keep-order] [DOC...]",
  options: {
    ...MODEL_OPTIONS,
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    query: { type: "string", short: "q", valueName: "TEXT", help: "The query the documents are scored against" },
    "keep-order": { type: "boolean", help: "Print documents in input order instead of most relevant first" },
    json: { type: "boolean", help: 'Print JSON: {"query","results":[{"index","document","score"}]}' },
  },
  positional: { name: "DOC", min: 0, max: Number.MAX_SAFE_INTEGER },
  details: [
    "Scores are the reranker's relevance in 0..1 (a sigmoid of its classifier's first output), as llama.cpp's\n" +
      "ranking gives them. Without DOC arguments, each non-empty line of stdin is one document.",
    "Example:\n  peel rerank --model bge-reranker-v2-m3-q8_0.gguf --query \"capital of France\" \"Paris is in France\" \"Bananas\"",
  ],
  run,
};
