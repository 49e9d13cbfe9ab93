/**
 * From bytes to a runnable Model: recognises the file format, reads hyperparameters and tensors, builds the
 * tokenizer, binds the weights to a kernels backend. Browser-safe (works on any ByteSource); the Node entry
 * that opens paths is load.node.ts.
 */

import type { ByteSource } from "../formats/byte-source.js";
import { readGgufHeader, readGgufTensors } from "../formats/gguf/read.js";
import { getNumber, getString } from "../formats/gguf/metadata.js";
import { parseLlama2cHeader, readLlama2cCheckpoint } from "../formats/llama2c/checkpoint.js";
import { showMagic, sniffHint } from "../formats/gguf/sniff.js";
import { readLlama2cTokenizer } from "../formats/llama2c/tokenizer-bin.js";
import type { Kernels } from "../kernels/kernels.js";
import { createTsKernels } from "../kernels/ts/index.js";
import { tokenizerFromGguf } from "../tokenizer/load-gguf.js";
import { createLlama2cTokenizer } from "../tokenizer/llama2c.js";
import { PeelError } from "../util/errors.js";
import { configFromGguf } from "./config-from-gguf.js";
import { configFromLlama2c } from "./config-from-llama2c.js";
import { createModel, summarizeTensors, type Model } from "./model.js";

export interface LoadProgress {
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

export interface LoadOptions {
  /** Compute backend (default: the TypeScript reference kernels). */
  readonly kernels?: Kernels;
  /** llama2.c checkpoints carry no vocabulary: their tokenizer.bin. */
  readonly tokenizerSource?: ByteSource;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

export async function loadModelFromSource(source: ByteSource, opts: LoadOptions = {}): Promise<Model> {
  const head = await source.read(0, Math.min(4, source.size));
  const isGguf = head.length === 4 && GGUF_MAGIC.every((b, i) => head[i] === b);
  return isGguf ? loadGgufModel(source, opts) : loadLlama2cModel(source, opts);
}

async function loadGgufModel(source: ByteSource, opts: LoadOptions): Promise<Model> {
  const header = await readGgufHeader(source);
  const shapes = new Map(header.tensorInfos.map((t) => [t.name, t.shape]));
  const config = configFromGguf(header.metadata, shapes); // fail on bad metadata before reading gigabytes
  const tokenizer = tokenizerFromGguf(header.metadata);
  const tensors = await readGgufTensors(source, header, {
    onProgress: (loadedBytes, totalBytes) => opts.onProgress?.({ loadedBytes, totalBytes }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const fileType = getNumber(header.metadata, "general.file_type");
  return createModel({
    config,
    tensors,
    tokenizer,
    kernels: opts.kernels ?? createTsKernels(),
    info: {
      format: "gguf",
      source: source.description,
      name: getString(header.metadata, "general.name"),
      details: { ggufVersion: header.version, alignment: header.alignment, ...(fileType !== undefined ? { fileType } : {}) },
      tensors: summarizeTensors(tensors),
    },
  });
}

/** Neither GGUF nor llama2.c: say what the bytes look like instead of a llama2.c size complaint. */
async function checkLlama2cHeader(source: ByteSource): Promise<void> {
  const head = await source.read(0, Math.min(256, source.size));
  try {
    parseLlama2cHeader(head, source.size, source.description);
  } catch (e) {
    if (!(e instanceof PeelError) || e.code !== "FORMAT") throw e;
    throw new PeelError("FORMAT", `${source.description}: not a model file Peel can read: it does not start with the GGUF magic ` +
      `(found "${showMagic(head)}") and is not a llama2.c checkpoint either (${e.message}). Hint: ${sniffHint(head)}`);
  }
}

async function loadLlama2cModel(source: ByteSource, opts: LoadOptions): Promise<Model> {
  await checkLlama2cHeader(source);
  if (opts.tokenizerSource === undefined) {
    throw new PeelError("INVALID_ARGUMENT", `${source.description}: this is a llama2.c checkpoint, which carries no vocabulary; pass its tokenizer.bin (--tokenizer FILE)`);
  }
  const checkpoint = await readLlama2cCheckpoint(source);
  opts.onProgress?.({ loadedBytes: source.size, totalBytes: source.size });
  const tokBytes = await opts.tokenizerSource.read(0, opts.tokenizerSource.size);
  const tokenizer = createLlama2cTokenizer(readLlama2cTokenizer(tokBytes, checkpoint.config.vocabSize));
  const config = configFromLlama2c(checkpoint.config);
  return createModel({
    config,
    tensors: checkpoint.tensors,
    tokenizer,
    kernels: opts.kernels ?? createTsKernels(),
    info: {
      format: "llama2c",
      source: source.description,
      name: undefined,
      details: { llama2cVersion: checkpoint.config.version, sharedClassifier: checkpoint.config.sharedClassifier },
      tensors: summarizeTensors(checkpoint.tensors),
    },
  });
}
