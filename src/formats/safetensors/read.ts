/**
 * Loads safetensors files through a ByteSource: the 8-byte length prefix, the JSON header, then one read
 * per tensor (chunked only for giant tensors), never the whole file at once. F32/F16/BF16 tensors become
 * Peel Tensors; other safetensors dtypes (I64, F64, U8, ...) are refused with UNSUPPORTED naming the
 * tensor unless the caller asks for `raw: true`, in which case they come back as bytes in `raw`.
 * It does not convert between dtypes or interpret metadata.
 */

import type { Tensor } from "../../tensor/tensor.js";
import { PeelError, u64ToNumber } from "../../util/errors.js";
import { checkAbort, readChunked, type ByteSource } from "../byte-source.js";
import { parseSafetensorsHeader } from "./header.js";
import {
  PEEL_SAFETENSORS_DTYPES, isPeelSafetensorsDType,
  type SafetensorsHeader, type SafetensorsRawTensor, type SafetensorsTensorInfo,
} from "./types.js";

/** Largest header accepted, as in the reference implementation. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface ReadSafetensorsOptions {
  onProgress?(doneBytes: number, totalBytes: number): void;
  signal?: AbortSignal;
  /** Load only the tensors this returns true for (default: all). Filtered-out tensors are never checked for dtype. */
  filter?(info: SafetensorsTensorInfo): boolean;
  /** Return tensors of non-Peel dtypes as bytes in `raw` instead of failing with UNSUPPORTED (default false). */
  raw?: boolean;
}

export interface SafetensorsFile {
  readonly header: SafetensorsHeader;
  /** F32/F16/BF16 tensors, keyed by name. */
  readonly tensors: Map<string, Tensor>;
  /** Tensors of other dtypes; empty unless `raw: true` was passed. */
  readonly raw: Map<string, SafetensorsRawTensor>;
}

export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  const fail = (m: string) => new PeelError("FORMAT", `${source.description}: safetensors: ${m}`);
  if (source.size < 8) throw fail(`file is ${source.size} bytes, too small for the 8-byte header length`);
  const prefix = await source.read(0, 8);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_SAFETENSORS_HEADER)) {
    throw fail(`header length ${n} exceeds the ${MAX_SAFETENSORS_HEADER}-byte limit; this is not a safetensors file or it is corrupt`);
  }
  const length = u64ToNumber(n, `${source.description}: safetensors header length`);
  if (8 + length > source.size) {
    throw fail(`header length ${length} runs past the end of the ${source.size}-byte file; the file is truncated or not safetensors`);
  }
  const json = await source.read(8, length);
  return parseSafetensorsHeader(json, source.size, source.description);
}



/** Reads the tensors of an already-parsed header. */
export async function readSafetensorsTensors(
  source: ByteSource, header: SafetensorsHeader, opts: ReadSafetensorsOptions = {},
): Promise<Pick<SafetensorsFile, "tensors" | "raw">> {
  const infos = opts.filter === undefined ? header.tensors : header.tensors.filter(opts.filter);
  if (opts.raw !== true) {
    const bad = infos.find((t) => !isPeelSafetensorsDType(t.dtype));
    if (bad !== undefined) {
      throw new PeelError("UNSUPPORTED",
        `${source.description}: safetensors tensor "${bad.name}" has dtype ${bad.dtype}; Peel computes with ` +
        `${PEEL_SAFETENSORS_DTYPES.join(", ")} only (pass raw: true to get its bytes, or filter it out)`);
    }
  }
  const total = infos.reduce((s, t) => s + t.byteSize, 0);
  const tensors = new Map<string, Tensor>();
  const raw = new Map<string, SafetensorsRawTensor>();
  let done = 0;
  opts.onProgress?.(0, total);
  for (const info of infos) {
    checkAbort(opts.signal, source.description);
    const data = await readChunked(source, header.dataOffset + info.dataOffsets[0], info.byteSize, opts.signal);
    const { name, dtype, shape } = info;
    if (isPeelSafetensorsDType(dtype)) tensors.set(name, { name, dtype, shape, data });
    else raw.set(name, { name, dtype, shape, data });
    done += info.byteSize;
    opts.onProgress?.(done, total);
  }
  return { tensors, raw };
}

export async function readSafetensors(source: ByteSource, opts: ReadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  const header = await readSafetensorsHeader(source);
  const { tensors, raw } = await readSafetensorsTensors(source, header, opts);
  return { header, tensors, raw };
}
