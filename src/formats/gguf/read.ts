/**
 * Loads GGUF files through a ByteSource: the header from a prefix that doubles until it suffices, then each
 * tensor into its own buffer, or one the caller gives (chunked reads for giant tensors), never the whole file at once.
 * It does not dequantize (dequant/) or interpret metadata (metadata.ts).
 */

import type { Tensor } from "../../tensor/tensor.js";
import { checkAbort, readChunked, readInto, type ByteSource } from "../byte-source.js";
import { NeedMoreBytes } from "./cursor.js";
import { parseGgufHeader } from "./header.js";
import type { GgufHeader, GgufTensorInfo } from "./types.js";

export { parseGgufHeader } from "./header.js";

const FIRST_PREFIX = 1 << 20;

export interface ReadGgufOptions {
  onProgress?(doneBytes: number, totalBytes: number): void;
  signal?: AbortSignal;
  /** Load only the tensors this returns true for (default: all). */
  filter?(info: GgufTensorInfo): boolean;
  /**
   * Where to read a tensor's bytes (exactly byteSize), e.g. a compute backend's own weight memory, so the
   * weights are never held twice; undefined: a fresh buffer.
   */
  into?(info: GgufTensorInfo): Uint8Array | undefined;
}

export async function readGgufHeader(source: ByteSource): Promise<GgufHeader> {
  let want = Math.min(source.size, FIRST_PREFIX);
  for (;;) {
    const prefix = await source.read(0, want);
    try {
      return parseGgufHeader(prefix, source.size, source.description);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes) || want >= source.size) throw e;
      want = Math.min(source.size, Math.max(want * 2, e.needed));
    }
  }
}



/** Reads every tensor (or those `opts.filter` keeps), each into its own Uint8Array, keyed by name. */
export async function readGgufTensors(source: ByteSource, header: GgufHeader, opts: ReadGgufOptions = {}): Promise<Map<string, Tensor>> {
  const infos = opts.filter === undefined ? header.tensorInfos : header.tensorInfos.filter(opts.filter);
  const total = infos.reduce((s, t) => s + t.byteSize, 0);
  const tensors = new Map<string, Tensor>();
  let done = 0;
  opts.onProgress?.(0, total);
  for (const info of infos) {
    checkAbort(opts.signal, source.description);
    const at = header.dataOffset + info.offset;
    const dest = opts.into?.(info);
    const data = dest === undefined ? await readChunked(source, at, info.byteSize, opts.signal) : await readInto(source, at, dest, opts.signal);
    tensors.set(info.name, { name: info.name, dtype: info.dtype, shape: info.shape, data });
    done += info.byteSize;
    opts.onProgress?.(done, total);
  }
  return tensors;
}

export interface GgufFile {
  readonly header: GgufHeader;
  readonly tensors: Map<string, Tensor>;
}

export async function loadGguf(source: ByteSource, opts: ReadGgufOptions = {}): Promise<GgufFile> {
  const header = await readGgufHeader(source);
  const tensors = await readGgufTensors(source, header, opts);
  return { header, tensors };
}
