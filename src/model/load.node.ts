/**
 * Node entry for loading: opens model (and llama2.c tokenizer) files by path, then defers to load.ts, with
 * worker_threads as the wasm backend's workers (physical cores by default).
 */

import { openFileSource } from "../formats/byte-source.node.js";
import type { ByteSource } from "../formats/byte-source.js";
import type { Model, ModelDescription } from "./model.js";
import { nodeWorkerHost } from "../kernels/wasm/host.node.js";
import { describeModelSource, loadModelFromSource, type LoadOptions } from "./load.js";

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

/** Loads a GGUF model, or a llama2.c checkpoint with `tokenizerPath`, ready to run. */
export async function loadModel(path: string, opts: LoadFileOptions = {}): Promise<Model> {
  return withSources(path, opts.tokenizerPath, (source, tokenizerSource) =>
    loadModelFromSource(source, {
      ...opts,
      ...(tokenizerSource ? { tokenizerSource } : {}),
      ...(opts.kernels === undefined ? { workerHost: opts.workerHost ?? nodeWorkerHost } : {}),
    }));
}

/** Config, tokenizer and tensor table of a model file, reading only its header (and tokenizer). */
export async function describeModel(path: string, opts: { readonly tokenizerPath?: string } = {}): Promise<ModelDescription> {
  return withSources(path, opts.tokenizerPath, (source, tokenizerSource) =>
    describeModelSource(source, tokenizerSource ? { tokenizerSource } : {}));
}
