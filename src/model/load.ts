/**
 * From bytes to a runnable Model: recognises the file format, reads hyperparameters and the tokenizer from
 * the header (`describeModelSource`, cheap even for multi-GB files), then reads the tensors and binds them to a
 * kernels backend (`loadModelFromSource`): the WebAssembly backend by default (with `threads` workers), the
 * TypeScript reference with `backend: "ts"`, WebGPU with `backend: "webgpu"` (then generate through
 * `session.evaluateAsync`/`generate`: the GPU is read asynchronously), or the caller's own `kernels`. Browser-safe (works on any
 * ByteSource); the Node entry that opens paths and starts worker_threads is load.node.ts.
 */

import type { ByteSource } from "../formats/byte-source.js";
import { readGgufHeader, readGgufTensors } from "../formats/gguf/read.js";
import type { GgufHeader, GgufTensorInfo } from "../formats/gguf/types.js";
import { getNumber, getString } from "../formats/gguf/metadata.js";
import { showMagic, sniffHint } from "../formats/gguf/sniff.js";
import { llama2cLayout, parseLlama2cHeader, readLlama2cCheckpoint, type Llama2cConfig } from "../formats/llama2c/checkpoint.js";
import { readLlama2cTokenizer } from "../formats/llama2c/tokenizer-bin.js";
import type { Kernels } from "../kernels/kernels.js";
import { createTsKernels } from "../kernels/ts/index.js";
import { checkThreads, createWasmKernels } from "../kernels/wasm/index.js";
import { formatBytes } from "../kernels/wasm/heap.js";
import type { WorkerHost } from "../kernels/wasm/pool.js";
import type { Gpu } from "../kernels/webgpu/gpu-types.js";
import { createWebGpuKernels } from "../kernels/webgpu/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { tokenizerFromGguf } from "../tokenizer/load-gguf.js";
import { createLlama2cTokenizer } from "../tokenizer/llama2c.js";
import { PeelError } from "../util/errors.js";
import { configFromGguf } from "./config-from-gguf.js";
import { configFromLlama2c } from "./config-from-llama2c.js";
import { createModel, type Model, type ModelDescription } from "./model.js";
import { checkSeq2SeqShapes } from "./seq2seq-weights.js";
import { checkTensorShapes } from "./weights.js";
import { LOAD_QUANT_TYPES, storeAs, type LoadQuantType } from "./requantize.js";
import { describeHfFolder, readHfFolder, type FolderSource } from "./load-hf.js";

export interface LoadProgress {
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

export interface DescribeOptions {
  /** llama2.c checkpoints carry no vocabulary: their tokenizer.bin. */
  readonly tokenizerSource?: ByteSource;
}

/** The built-in compute backends: WebAssembly SIMD (fast, default), the plain TypeScript reference, WebGPU. */
export type BackendName = "wasm" | "ts" | "webgpu";
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "ts", "webgpu"];

export interface LoadOptions extends DescribeOptions {
  /** A ready compute backend; excludes `backend` and `threads`. Default: a new backend as `backend` says. */
  readonly kernels?: Kernels;
  /** Which built-in backend to create (default "wasm"). */
  readonly backend?: BackendName;
  /** Threads of the wasm backend, 1..256 (default: physical cores where known); the ts backend has one. */
  readonly threads?: number;
  /** How the wasm backend starts its workers (default: Web Workers; the Node loader passes worker_threads). */
  readonly workerHost?: WorkerHost;
  /** The webgpu backend's WebGPU entry point (default navigator.gpu; the Node loader tries the `webgpu` package). */
  readonly gpu?: Gpu;
  /** The webgpu backend: bytes of weights copied to the GPU so far, of the model's total. */
  readonly onUpload?: (p: LoadProgress) => void;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Store every F32/F16/BF16 matrix as this type while loading (norms and biases stay F32; quantized
   * tensors keep their type): a BF16 checkpoint then runs at quantized speed and memory.
   */
  readonly quantize?: LoadQuantType;
  /** The machine's memory in bytes (the Node loader passes os.totalmem()): a model with more weights is refused up front. */
  readonly memoryBytes?: number;
}

/** Tensors with the load-time quantization applied (checked: an unknown type is INVALID_ARGUMENT). */
function quantizedForLoad(tensors: ReadonlyMap<string, Tensor>, q: LoadQuantType | undefined): ReadonlyMap<string, Tensor> {
  if (q === undefined) return tensors;
  const dtype = Object.hasOwn(LOAD_QUANT_TYPES, q) ? LOAD_QUANT_TYPES[q] : undefined;
  if (dtype === undefined) throw new PeelError("INVALID_ARGUMENT", `load: quantize must be one of ${Object.keys(LOAD_QUANT_TYPES).join(", ")}, got "${String(q)}"`);
  // replace tensor by tensor, so each original can be collected once its quantized copy exists
  const out = tensors instanceof Map ? tensors as Map<string, Tensor> : new Map(tensors);
  for (const [name, t] of out) out.set(name, storeAs(t, dtype));
  return out;
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

async function isGguf(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, Math.min(4, source.size));
  return head.length === 4 && GGUF_MAGIC.every((b, i) => head[i] === b);
}

/** Config, tokenizer and tensor table from the file's header, without reading the weights. */
export async function describeModelSource(source: ByteSource, opts: DescribeOptions = {}): Promise<ModelDescription> {
  return (await isGguf(source)) ? describeGguf(source, await readGgufHeader(source)) : (await describeLlama2c(source, opts)).description;
}

/** Checks backend, threads and kernels against each other; throws INVALID_ARGUMENT naming the conflict. */
export function checkBackendOptions(opts: Pick<LoadOptions, "kernels" | "backend" | "threads">): void {
  if (opts.backend !== undefined && !BACKEND_NAMES.includes(opts.backend)) {
    throw new PeelError("INVALID_ARGUMENT", `load: backend must be one of ${BACKEND_NAMES.join(", ")}, got "${String(opts.backend)}"`);
  }
  if (opts.kernels !== undefined && (opts.backend !== undefined || opts.threads !== undefined)) {
    throw new PeelError("INVALID_ARGUMENT", "load: give either ready kernels or backend/threads to create them, not both");
  }
  if (opts.threads !== undefined) {
    checkThreads(opts.threads);
    if ((opts.backend === "ts" || opts.backend === "webgpu") && opts.threads !== 1) {
      throw new PeelError("INVALID_ARGUMENT", `load: threads are for the wasm backend; with ${opts.backend} they must be 1, got ${opts.threads}`);
    }
  }
}

/** A new backend as opts says; the wasm one planned for `weightBytes` of weights (several memories past 4 GiB). */
async function createKernels(opts: LoadOptions, weightBytes = 0): Promise<Kernels> {
  if (opts.backend === "ts") return createTsKernels();
  if (opts.backend === "webgpu") {
    const onUpload = opts.onUpload;
    return createWebGpuKernels({
      ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}),
      ...(onUpload !== undefined ? { onUpload: (loadedBytes: number, totalBytes: number) => onUpload({ loadedBytes, totalBytes }) } : {}),
    });
  }
  return createWasmKernels({
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.workerHost !== undefined ? { host: opts.workerHost } : {}),
    weightBytes,
  });
}

/** Bytes of the matrices (2-D and up) among `infos`: what a backend holds as weights. */
function matrixBytes(infos: ReadonlyArray<{ readonly shape: readonly number[]; readonly byteSize: number }>): number {
  return infos.reduce((s, t) => s + (t.shape.length >= 2 ? t.byteSize : 0), 0);
}

/** Reads the whole model and binds its weights to the kernels backend. */
export async function loadModelFromSource(source: ByteSource, opts: LoadOptions = {}): Promise<Model> {
  checkBackendOptions(opts);
  const progress = (loadedBytes: number, totalBytes: number) => opts.onProgress?.({ loadedBytes, totalBytes });
  const readOpts = { onProgress: progress, ...(opts.signal ? { signal: opts.signal } : {}) };
  if (!(await isGguf(source))) {
    const description = (await describeLlama2c(source, opts)).description;
    const tensors = quantizedForLoad((await readLlama2cCheckpoint(source, readOpts)).tensors, opts.quantize);
    const kernels = opts.kernels ?? await createKernels(opts);
    return bindTo(kernels, opts.kernels === undefined, () => createModel({ ...description, tensors, kernels }));
  }
  const header = await readGgufHeader(source);
  const description = describeGguf(source, header); // fails on bad metadata before reading gigabytes
  const weightBytes = matrixBytes(header.tensorInfos);
  if (opts.memoryBytes !== undefined && weightBytes > opts.memoryBytes) {
    throw new PeelError("UNSUPPORTED", `load: ${source.description} has ${formatBytes(weightBytes)} of weights and this machine has ` +
      `${formatBytes(opts.memoryBytes)} of memory in all; the model cannot be held. Use a smaller quantization of the model.`);
  }
  const kernels = opts.kernels ?? await createKernels(opts, weightBytes);
  return bindTo(kernels, opts.kernels === undefined, async () => {
    if (opts.quantize === undefined) kernels.reserveWeights?.(weightBytes, `the model ${description.info.name !== undefined ? `"${description.info.name}" ` : ""}(${source.description})`);
    // matrices are read straight into the backend's weight memory (unless they are requantized first), so
    // the file's bytes and the backend's copy never coexist: peak memory is about the file size
    const alloc = opts.quantize === undefined ? kernels.allocWeightBytes?.bind(kernels) : undefined;
    const into = alloc && ((t: GgufTensorInfo) => (t.shape.length >= 2 ? alloc(t.byteSize, `tensor "${t.name}"`) : undefined));
    const tensors = quantizedForLoad(await readGgufTensors(source, header, { ...readOpts, ...(into ? { into } : {}) }), opts.quantize);
    return createModel({ ...description, tensors, kernels });
  });
}

/** Runs `bind`, disposing `kernels` when it fails and this load created them (their workers must not outlive it). */
async function bindTo(kernels: Kernels, created: boolean, bind: () => Model | Promise<Model>): Promise<Model> {
  try {
    return await bind();
  } catch (e) {
    if (created) await kernels.dispose?.();
    throw e;
  }
}

/** A Hugging Face checkpoint folder (config.json, safetensors, tokenizer.json), read and bound like a GGUF file. */
export async function loadModelFromFolder(folder: FolderSource, opts: LoadOptions = {}): Promise<Model> {
  checkBackendOptions(opts);
  const read = await readHfFolder(folder, {
    onProgress: (loadedBytes, totalBytes) => opts.onProgress?.({ loadedBytes, totalBytes }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const description = read.description;
  const tensors = quantizedForLoad(read.tensors, opts.quantize);
  // (read whole before binding, so a folder's weights are briefly held twice; GGUF files are read straight in)
  const weightBytes = matrixBytes([...tensors.values()].map((t) => ({ shape: t.shape, byteSize: t.data.length })));
  const kernels = opts.kernels ?? await createKernels(opts, weightBytes);
  return bindTo(kernels, opts.kernels === undefined, () => createModel({ ...description, tensors, kernels }));
}

/** Config, tokenizer and tensor table of a checkpoint folder, without reading the weights. */
export function describeModelFolder(folder: FolderSource): Promise<ModelDescription> {
  return describeHfFolder(folder);
}

function describeGguf(source: ByteSource, header: GgufHeader): ModelDescription {
  const shapes = new Map(header.tensorInfos.map((t) => [t.name, t.shape]));
  const fileType = getNumber(header.metadata, "general.file_type");
  const config = configFromGguf(header.metadata, shapes);
  (config.seq2seq !== undefined ? checkSeq2SeqShapes : checkTensorShapes)(config, shapes);
  return {
    config,
    tokenizer: tokenizerFromGguf(header.metadata),
    info: {
      format: "gguf",
      source: source.description,
      name: getString(header.metadata, "general.name"),
      details: { ggufVersion: header.version, alignment: header.alignment, ...(fileType !== undefined ? { fileType } : {}) },
      tensors: header.tensorInfos.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, bytes: t.byteSize })),
      chatTemplates: ggufChatTemplates(header),
    },
  };
}

const CHAT_TEMPLATE_KEY = "tokenizer.chat_template";

/** `tokenizer.chat_template` as "default" and each `tokenizer.chat_template.NAME` under its name. */
function ggufChatTemplates(header: GgufHeader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of header.metadata.keys()) {
    if (key !== CHAT_TEMPLATE_KEY && !key.startsWith(`${CHAT_TEMPLATE_KEY}.`)) continue;
    const text = getString(header.metadata, key);
    if (text !== undefined) out[key === CHAT_TEMPLATE_KEY ? "default" : key.slice(CHAT_TEMPLATE_KEY.length + 1)] = text;
  }
  return out;
}

/** The llama2.c header, or — for bytes that are neither GGUF nor llama2.c — a FORMAT error saying what they look like. */
async function llama2cHeader(source: ByteSource): Promise<Llama2cConfig> {
  const head = await source.read(0, Math.min(256, source.size));
  try {
    return parseLlama2cHeader(head, source.size, source.description);
  } catch (e) {
    if (!(e instanceof PeelError) || e.code !== "FORMAT") throw e;
    throw new PeelError("FORMAT", `${source.description}: not a model file Peel can read: it does not start with the GGUF magic ` +
      `(found "${showMagic(head)}") and is not a llama2.c checkpoint either (${e.message}). Hint: ${sniffHint(head)}`);
  }
}

async function describeLlama2c(source: ByteSource, opts: DescribeOptions): Promise<{ description: ModelDescription; header: Llama2cConfig }> {
  const header = await llama2cHeader(source);
  if (opts.tokenizerSource === undefined) {
    throw new PeelError("INVALID_ARGUMENT", `${source.description}: this is a llama2.c checkpoint, which carries no vocabulary; pass its tokenizer.bin (--tokenizer FILE)`);
  }
  const tokBytes = await opts.tokenizerSource.read(0, opts.tokenizerSource.size);
  const description: ModelDescription = {
    config: configFromLlama2c(header),
    tokenizer: createLlama2cTokenizer(readLlama2cTokenizer(tokBytes, header.vocabSize, opts.tokenizerSource.description)),
    info: {
      format: "llama2c",
      source: source.description,
      name: undefined,
      details: { llama2cVersion: header.version, sharedClassifier: header.sharedClassifier },
      tensors: llama2cLayout(header).flatMap((e) => (e.name === null ? [] : [{ name: e.name, shape: e.shape, dtype: "F32" as const, bytes: e.byteSize }])),
    },
  };
  return { description, header };
}
