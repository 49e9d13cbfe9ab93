/**
 * Node entry for loading: opens model (and llama2.c tokenizer) files by path, then defers to load.ts, with
 * worker_threads as the wasm backend's workers (physical cores by default).
 */

import { openFileSource } from "../formats/byte-source.node.js";
import type { ByteSource } from "../formats/byte-source.js";
import type { Model, ModelDescription } from "./model.js";
import { nodeWorkerHost } from "../kernels/wasm/host.node.js";
import { nodeGpu } from "../kernels/webgpu/dawn.node.js";
import { describeModelFolder, describeModelSource, loadModelFromFolder, loadModelFromSource, type LoadOptions } from "./load.js";
import type { FolderSource } from "./load-hf.js";
import { stat } from "node:fs/promises";
import { PeelError } from "../util/errors.js";
import { join } from "node:path";
import { totalmem } from "node:os";

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // openFileSource reports what is wrong with the path
  }
}

/** A directory as a FolderSource: files that are not there are undefined, other failures are errors. */
export function directorySource(dir: string): FolderSource {
  return {
    description: dir,
    async open(name) {
      const path = join(dir, name);
      try {
        if (!(await stat(path)).isFile()) return undefined;
      } catch (e) {
        if ((e as { code?: unknown }).code === "ENOENT") return undefined;
        throw e;
      }
      return openFileSource(path);
    },
  };
}

export interface LoadFileOptions extends Omit<LoadOptions, "tokenizerSource"> {
  /** Path of a llama2.c tokenizer.bin, for llama2.c checkpoints. */
  readonly tokenizerPath?: string;
}

/** Opens the model (and tokenizer) files, runs `fn`, and closes them whatever happens. */
async function withSources<T>(path: string, tokenizerPath: string | undefined,
  fn: (source: ByteSource, tokenizerSource: ByteSource | undefined) => Promise<T>): Promise<T> {
  const source = await openFileSource(path);
  try {
    const tokenizerSource = tokenizerPath !== undefined ? await openFileSource(tokenizerPath) : undefined;
    try {
      return await fn(source, tokenizerSource);
    } finally {
      await tokenizerSource?.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * Loads a GGUF model, a Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json), or a
 * llama2.c checkpoint with `tokenizerPath`, ready to run.
 */
export async function loadModel(path: string, optsIn: LoadFileOptions = {}): Promise<Model> {
  // Node has no navigator.gpu: the webgpu backend takes Dawn from the `webgpu` package when it is installed
  const opts = optsIn.backend === "webgpu" && optsIn.gpu === undefined ? { ...optsIn, gpu: await nodeGpu() } : optsIn;
  if (await isDirectory(path)) {
    const { tokenizerPath, ...rest } = opts;
    if (tokenizerPath !== undefined) throw new PeelError("INVALID_ARGUMENT", `${path} is a checkpoint folder, which brings its own tokenizer.json; drop --tokenizer`);
    return loadModelFromFolder(directorySource(path), { ...rest, ...(opts.kernels === undefined ? { workerHost: opts.workerHost ?? nodeWorkerHost } : {}) });
  }
  return withSources(path, opts.tokenizerPath, (source, tokenizerSource) =>
    loadModelFromSource(source, {
      memoryBytes: totalmem(),
      ...opts,
      ...(tokenizerSource ? { tokenizerSource } : {}),
      ...(opts.kernels === undefined ? { workerHost: opts.workerHost ?? nodeWorkerHost } : {}),
    }));
}

/** Config, tokenizer and tensor table of a model file, reading only its header (and tokenizer). */
export async function describeModel(path: string, opts: { readonly tokenizerPath?: string } = {}): Promise<ModelDescription> {
  if (await isDirectory(path)) return describeModelFolder(directorySource(path));
  return withSources(path, opts.tokenizerPath, (source, tokenizerSource) =>
    describeModelSource(source, tokenizerSource ? { tokenizerSource } : {}));
}
