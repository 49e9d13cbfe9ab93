/**
 * `peel inspect`: serves the inspector app (web/) with the engine in this process, on a model given with
 * --model (the shipped model by default), and prints the URL to open. The app and the engine speak
 * inspect/protocol.ts over HTTP (server/inspect-server.ts); it stops on Ctrl-C.
 */

import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { Tokenizer } from "../../tokenizer/types.js";
import { fileURLToPath } from "node:url";
import { intOpt, stringOpt, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { BACKEND_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseBackendArgs } from "../model-file.js";

/** The built app, beside src/ and dist/ alike. */
export const WEB_DIST = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

export interface InspectRequest {
  readonly host: string;
  readonly port: number;
  /** Tokenizer files to compare with the model's in the playground. */
  readonly compare: readonly string[];
}

export function parseInspectArgs(args: ParsedArgs): InspectRequest {
  parseBackendArgs(args);
  const compare = (stringOpt(args, "compare") ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
  return { host: stringOpt(args, "host") ?? "127.0.0.1", port: intOpt(args, "port", 0, 65535) ?? 8090, compare };
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const request = parseInspectArgs(args);
  const { loadTokenizerFile } = await import("../../tokenizer/load-file.node.js");
  const tokenizers = new Map<string, Tokenizer>();
  for (const file of request.compare) tokenizers.set(basename(file), await loadTokenizerFile(file));
  const model = await loadModelForCommand(args, io, signal);
  const { startInspectServer } = await import("../../server/inspect-server.js");
  const webRoot = existsSync(`${WEB_DIST}index.html`) ? WEB_DIST : undefined;
  const server = await startInspectServer({ model, webRoot, host: request.host, port: request.port, tokenizers });
  try {
    if (webRoot === undefined) io.stderr.write(`peel: the inspector app is not built (no ${WEB_DIST}index.html): run \`npm run build:web\`; the API still answers\n`);
    io.stdout.write(`Peel Inspector on ${model.info.name ?? model.info.source}: open ${server.url}\n(Ctrl-C stops it)\n`);
    await new Promise<void>((ok) => {
      if (signal.aborted) ok();
      else signal.addEventListener("abort", () => ok(), { once: true });
    });
  } finally {
    await server.close();
    await model.dispose();
  }
  return EXIT.ok;
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Open the inspector: tokens, attention, logit lens, sampler, embeddings and ablations in the browser",
  usage: "peel inspect [--model FILE|DIR] [--host H] [--port P] [--compare FILE,FILE...]",
  options: {
    ...MODEL_OPTIONS,
    ...BACKEND_OPTIONS,
    host: { type: "string", valueName: "H", help: "Address to listen on (default 127.0.0.1)" },
    port: { type: "string", valueName: "P", help: "Port (default 8090; 0 picks a free one)" },
    compare: { type: "string", valueName: "FILES", help: "Tokenizer files (GGUF, tokenizer.json, .tiktoken) to show beside the model's in the tokenizer view" },
  },
  details: [
    "Prints the URL to open. The app computes nothing itself: every number it shows comes from this process's\n" +
      "engine. Without --model it inspects the model that ships in models/.",
  ],
  run,
};
