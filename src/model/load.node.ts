/** Node entry for loading: opens model (and llama2.c tokenizer) files by path, then defers to load.ts. */

import { openFileSource } from "../formats/byte-source.node.js";
import type { Model } from "./model.js";
import { loadModelFromSource, type LoadOptions } from "./load.js";

export interface LoadFileOptions extends Omit<LoadOptions, "tokenizerSource"> {
  /** Path of a llama2.c tokenizer.bin, for llama2.c checkpoints. */
  readonly tokenizerPath?: string;
}

export async function loadModel(path: string, opts: LoadFileOptions = {}): Promise<Model> {
  const source = await openFileSource(path);
  const tokenizerSource = opts.tokenizerPath !== undefined ? await openFileSource(opts.tokenizerPath) : undefined;
  try {
    return await loadModelFromSource(source, { ...opts, ...(tokenizerSource ? { tokenizerSource } : {}) });
  } finally {
    await source.close();
    await tokenizerSource?.close();
  }
}
