/**
 * Getting from `--model` / `--tokenizer` to a loaded Model for a command: the default model under models/
 * when --model is omitted, a quick look at the file's first bytes (so a zip or JSON file gets a FORMAT
 * error with a hint, not a confusing llama2.c one), and loading with a progress bar on stderr.
 * The library is imported lazily so `--help` stays fast and works even when a model module fails to load.
 */

import { readdirSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Model, ModelDescription } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { choiceOpt, intOpt, stringOpt, UsageError, type OptionSpecs, type ParsedArgs } from "./args.js";
import type { CliIo } from "./io.js";
import { createProgressBar } from "./progress.js";

export const MODEL_OPTIONS: OptionSpecs = {
  model: { type: "string", short: "m", valueName: "FILE", help: "Model file: GGUF, or a llama2.c .bin checkpoint (with --tokenizer)" },
  tokenizer: { type: "string", valueName: "FILE", help: "llama2.c tokenizer.bin to pair with a llama2.c .bin checkpoint" },
};

export const BACKEND_OPTIONS: OptionSpecs = {
  threads: { type: "string", valueName: "N", help: "Threads of the wasm backend, 1..256 (default: physical cores)" },
  backend: { type: "string", valueName: "NAME", help: "Compute backend: wasm (WebAssembly SIMD, default), ts (the readable reference, one thread) or webgpu (needs a WebGPU adapter: in Node, the webgpu package)" },
};

/** Options of the commands that load weights to run them. */
/** How attention is computed at run time (generate, bench). */
export const ATTENTION_OPTIONS: OptionSpecs = {
  "flash-attn": { type: "string", valueName: "on|off", help: "Flash attention with llama.cpp's CPU flash numerics (on, default, as llama.cpp) or its standard path (off)" },
};

/** --flash-attn, checked: "on" | "off" | undefined. */
export function parseFlashArg(args: ParsedArgs): "on" | "off" | undefined {
  return choiceOpt(args, "flash-attn", ["on", "off"] as const);
}

export const LOAD_OPTIONS: OptionSpecs = {
  quantize: { type: "string", valueName: "TYPE", help: "Store F32/F16/BF16 weights as q8_0 or q4_0 while loading (a Hugging Face folder at quantized speed)" },
};

/** --quantize, checked; a usage error names the allowed types. */
export function parseQuantizeArg(args: ParsedArgs): "q8_0" | "q4_0" | undefined {
  return choiceOpt(args, "quantize", ["q8_0", "q4_0"] as const);
}

export interface BackendArgs {
  readonly backend?: "wasm" | "ts" | "webgpu";
  readonly threads?: number;
}

/** --backend and --threads, checked against each other; throws UsageError naming the flag. */
export function parseBackendArgs(args: ParsedArgs): BackendArgs {
  const threads = intOpt(args, "threads", 1, 256);
  const backend = stringOpt(args, "backend");
  if (backend !== undefined && backend !== "wasm" && backend !== "ts" && backend !== "webgpu") {
    throw new UsageError(`--backend must be wasm, ts or webgpu, got "${backend}"`, args.command);
  }
  if ((backend === "ts" || backend === "webgpu") && threads !== undefined && threads !== 1) {
    throw new UsageError(`--threads ${threads}: threads are for the wasm backend, not ${backend} (use --backend wasm, the default)`, args.command);
  }
  return { ...(backend !== undefined ? { backend } : {}), ...(threads !== undefined ? { threads } : {}) };
}

/** Where the model that ships with peel lives (the package's models/ folder). */
export const MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));

/** The .gguf files in models/, sorted; empty when the folder is absent. */
export function defaultModels(dir = MODELS_DIR): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".gguf")).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The --model path, or the shipped default; a UsageError when neither exists. */
export function resolveModelPath(args: ParsedArgs, io: CliIo): string {
  const given = stringOpt(args, "model");
  if (given !== undefined) {
    if (given === "") throw new UsageError("--model needs a file path, got an empty string", args.command);
    return given;
  }
  const found = defaultModels()[0];
  if (found === undefined) {
    throw new UsageError(`--model FILE is required (no default model: ${relative(io.cwd, MODELS_DIR) || "."}/ has no .gguf file)`, args.command);
  }
  io.stderr.write(`peel: no --model given; using ${relative(io.cwd, found)}\n`);
  return found;
}

const GGUF_MAGIC = "GGUF";

/** Fails early, with a hint, when a file without --tokenizer is not GGUF (the loader would try llama2.c). */
async function checkLooksLoadable(path: string, tokenizerPath: string | undefined, command: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  if (isDir) { // a Hugging Face checkpoint folder: the loader names any missing file
    if (tokenizerPath !== undefined) throw new UsageError(`--tokenizer is only for llama2.c checkpoints; ${path} is a checkpoint folder with its own tokenizer.json`, command);
    return;
  }
  const { openFileSource } = await import("../formats/byte-source.node.js");
  const source = await openFileSource(path);
  let head: Uint8Array;
  try {
    head = await source.read(0, Math.min(32, source.size));
  } finally {
    await source.close();
  }
  if (head.length === 0) throw new PeelError("FORMAT", `${path}: the file is empty; expected a GGUF model`);
  const magic = String.fromCharCode(...head.subarray(0, 4));
  if (magic === GGUF_MAGIC && tokenizerPath !== undefined) {
    throw new UsageError(`--tokenizer is only for llama2.c checkpoints; ${path} is a GGUF file, which carries its own vocabulary`, command);
  }
  if (magic === GGUF_MAGIC || tokenizerPath !== undefined) return;
  const { showMagic, sniffHint } = await import("../formats/gguf/sniff.js");
  const hint = sniffHint(head);
  throw new PeelError("FORMAT",
    `${path}: not a GGUF file (expected magic "GGUF", got "${showMagic(head)}"); ${hint}${/[.?]$/.test(hint) ? "" : "."} ` +
    "For a llama2.c .bin checkpoint, also pass its --tokenizer FILE.");
}

/** Loads the model named by the command's options, showing progress on a terminal stderr. */
export async function loadModelForCommand(args: ParsedArgs, io: CliIo, signal: AbortSignal): Promise<Model> {
  const quantize = args.values.has("quantize") ? parseQuantizeArg(args) : undefined;
  const path = resolveModelPath(args, io);
  const tokenizerPath = stringOpt(args, "tokenizer");
  await checkLooksLoadable(path, tokenizerPath, args.command);
  const { loadModel } = await import("../model/load.node.js");
  const bar = createProgressBar(io.stderr, `loading ${basename(path)}`);
  try {
    return await loadModel(path, {
      ...parseBackendArgs(args),
      ...(quantize !== undefined ? { quantize } : {}),
      ...(tokenizerPath !== undefined ? { tokenizerPath } : {}),
      onProgress: (p) => bar.update(p.loadedBytes, p.totalBytes),
      signal,
    });
  } finally {
    bar.done();
  }
}

/** Reads only what `info` and `tokenize` need (config, tokenizer, tensor table): instant even for large files. */
export async function describeModelForCommand(args: ParsedArgs, io: CliIo): Promise<ModelDescription> {
  const path = resolveModelPath(args, io);
  const tokenizerPath = stringOpt(args, "tokenizer");
  await checkLooksLoadable(path, tokenizerPath, args.command);
  const { describeModel } = await import("../model/load.node.js");
  return describeModel(path, tokenizerPath !== undefined ? { tokenizerPath } : {});
}
