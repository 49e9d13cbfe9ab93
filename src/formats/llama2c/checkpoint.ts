/**
 * Reads and writes llama2.c float32 checkpoints (`.bin`): legacy version 0 (7 int32 header; a negative
 * vocab_size means a separate classifier) and version 1 (magic "ak42", 256-byte header). Tensors come out
 * as F32 under GGUF llama names, as views into the bytes read wherever they are 4-byte aligned.
 * Not supported: version 2 (llama2.c's int8 export). No RoPE tables are returned (run.c ignores them).
 */

import type { Tensor } from "../../tensor/tensor.js";
import { PeelError } from "../../util/errors.js";
import { bytesSource, checkAbort, type ByteSource } from "../byte-source.js";
import {
  LLAMA2C_MAGIC, V0_HEADER_BYTES, V1_HEADER_BYTES, llama2cFileSize, llama2cLayout, validateLlama2cConfig,
  type Llama2cConfig,
} from "./layout.js";

export type { Llama2cConfig } from "./layout.js";
export { llama2cLayout } from "./layout.js";

export interface Llama2cCheckpoint {
  readonly config: Llama2cConfig;
  readonly tensors: Map<string, Tensor>;
}

/** Parses the header (the first 256 bytes suffice) of a file of `fileSize` bytes. */
export function parseLlama2cHeader(head: Uint8Array, fileSize: number, description = "llama2.c checkpoint"): Llama2cConfig {
  if (head.length < V0_HEADER_BYTES) {
    throw new PeelError("FORMAT", `${description}: too small for a llama2.c checkpoint (${fileSize} bytes; the header alone is ${V0_HEADER_BYTES})`);
  }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const ints = (at: number): number[] => Array.from({ length: 7 }, (_, i) => dv.getInt32(at + 4 * i, true));
  let config: Llama2cConfig;
  if (dv.getUint32(0, true) === LLAMA2C_MAGIC) {
    const version = dv.getInt32(4, true);
    if (version === 2) throw new PeelError("UNSUPPORTED", `${description}: llama2.c version 2 (int8 Q8_0 export) is not supported; export with --version 1 or 0`);
    if (version !== 1) throw new PeelError("FORMAT", `${description}: llama2.c magic "ak42" with unknown version ${version}; supported versions: 0 (legacy) and 1`);
    if (head.length < 37) throw new PeelError("FORMAT", `${description}: truncated llama2.c version 1 header (${head.length} of ${V1_HEADER_BYTES} bytes)`);
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = ints(8) as [number, number, number, number, number, number, number];
    const flag = head[36] as number;
    if (flag > 1) throw new PeelError("FORMAT", `${description}: shared_classifier flag must be 0 or 1, found ${flag}`);
    config = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier: flag === 1, version: 1 };
  } else {
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = ints(0) as [number, number, number, number, number, number, number];
    config = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, sharedClassifier: vocab > 0, version: 0 };
  }
  validateLlama2cConfig(config, description);
  const expected = llama2cFileSize(config);
  if (expected !== fileSize) {
    const p = config;
    throw new PeelError(
      "FORMAT",
      `${description}: size mismatch: a version ${p.version} llama2.c checkpoint with dim=${p.dim} hidden_dim=${p.hiddenDim} ` +
        `n_layers=${p.nLayers} n_heads=${p.nHeads} n_kv_heads=${p.nKvHeads} vocab_size=${p.vocabSize} seq_len=${p.seqLen} ` +
        `shared_classifier=${p.sharedClassifier} has ${expected} bytes, but the file has ${fileSize}`,
    );
  }
  return config;
}

function aligned(data: Uint8Array): Uint8Array {
  return data.byteOffset % 4 === 0 ? data : Uint8Array.prototype.slice.call(data);
}

export interface ReadLlama2cOptions {
  /** Called after each tensor with the bytes read so far and the file size. */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
}

/** Reads a checkpoint through a ByteSource (one read per tensor), or from bytes already in memory. */
export async function readLlama2cCheckpoint(input: ByteSource | Uint8Array, opts: ReadLlama2cOptions = {}): Promise<Llama2cCheckpoint> {
  const source = input instanceof Uint8Array ? bytesSource(input, "llama2.c checkpoint") : input;
  const head = await source.read(0, Math.min(source.size, V1_HEADER_BYTES));
  const config = parseLlama2cHeader(head, source.size, source.description);
  const tensors = new Map<string, Tensor>();
  for (const e of llama2cLayout(config)) {
    checkAbort(opts.signal, source.description);
    if (e.name === null) continue;
    const data = aligned(await source.read(e.offset, e.byteSize));
    tensors.set(e.name, { name: e.name, dtype: "F32", shape: e.shape, data });
    opts.onProgress?.(e.offset + e.byteSize, source.size);
  }
  return { config, tensors };
}

/** Synchronous variant for bytes in memory: tensors are subarray views (copied only when unaligned). */
export function parseLlama2cCheckpoint(bytes: Uint8Array, description = "llama2.c checkpoint"): Llama2cCheckpoint {
  const config = parseLlama2cHeader(bytes.subarray(0, V1_HEADER_BYTES), bytes.length, description);
  const tensors = new Map<string, Tensor>();
  for (const e of llama2cLayout(config)) {
    if (e.name === null) continue;
    tensors.set(e.name, { name: e.name, dtype: "F32", shape: e.shape, data: aligned(bytes.subarray(e.offset, e.offset + e.byteSize)) });
  }
  return { config, tensors };
}

/** export.py's RoPE tables for the legacy layout: row t, column i = cos/sin(t · 10000^(−2i/headSize)). */
function freqTable(config: Llama2cConfig, fn: (x: number) => number): Float32Array {
  const headSize = config.dim / config.nHeads;
  const half = Math.floor(headSize / 2);
  const out = new Float32Array(config.seqLen * half);
  for (let t = 0; t < config.seqLen; t++) {
    for (let i = 0; i < half; i++) out[t * half + i] = fn(t * Math.fround(1 / Math.fround(10000 ** ((2 * i) / headSize))));
  }
  return out;
}

function writeHeader(out: Uint8Array, c: Llama2cConfig, version: 0 | 1): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const at = version === 0 ? 0 : 8;
  const vocab = version === 0 && !c.sharedClassifier ? -c.vocabSize : c.vocabSize;
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, vocab, c.seqLen].forEach((v, i) => dv.setInt32(at + 4 * i, v, true));
  if (version === 1) {
    dv.setUint32(0, LLAMA2C_MAGIC, true);
    dv.setInt32(4, 1, true);
    out[36] = c.sharedClassifier ? 1 : 0;
  }
}

/**
 * Serialises F32 tensors (GGUF llama names, shapes as llama2cLayout gives) into a checkpoint of the given
 * version (default: config.version). output.weight is required unless config.sharedClassifier.
 */
export function writeLlama2cCheckpoint(config: Llama2cConfig, tensors: ReadonlyMap<string, Tensor>, version: 0 | 1 = config.version): Uint8Array {
  const c: Llama2cConfig = { ...config, version };
  validateLlama2cConfig(c, "llama2.c write");
  const layout = llama2cLayout(c);
  const out = new Uint8Array(llama2cFileSize(c));
  writeHeader(out, c, version);
  let freqIndex = 0;
  for (const e of layout) {
    if (e.name === null) {
      const table = freqTable(c, freqIndex++ === 0 ? Math.cos : Math.sin);
      out.set(new Uint8Array(table.buffer), e.offset);
      continue;
    }
    const t = tensors.get(e.name);
    if (t === undefined) throw new PeelError("INVALID_ARGUMENT", `llama2.c write: tensor "${e.name}" is missing`);
    if (t.dtype !== "F32" || t.data.length !== e.byteSize || t.shape.join(",") !== e.shape.join(",")) {
      throw new PeelError("INVALID_ARGUMENT", `llama2.c write: tensor "${e.name}" must be F32 [${e.shape.join(", ")}], got ${t.dtype} [${t.shape.join(", ")}] (${t.data.length} bytes)`);
    }
    out.set(t.data, e.offset);
  }
  return out;
}
