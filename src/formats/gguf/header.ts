/**
 * Parses a GGUF header (magic, version, metadata, tensor infos) from a byte prefix of the file and
 * validates it against the file size. Synchronous and allocation-light; read.ts drives it with a growing
 * prefix. It does not read tensor data.
 */

import { DTYPES, KNOWN_UNSUPPORTED_GGML_TYPES, dtypeFromGgmlId, type DType } from "../../tensor/dtype.js";
import { tensorByteSize } from "../../tensor/tensor.js";
import { PeelError } from "../../util/errors.js";
import { GgufCursor } from "./cursor.js";
import { readValue, readValueType } from "./read-values.js";
import { showMagic, sniffHint } from "./sniff.js";
import {
  GGUF_ALIGNMENT_KEY, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC,
  type GgufHeader, type GgufKv, type GgufTensorInfo,
} from "./types.js";

const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, ≥1 key byte, value type, ≥1 value byte
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8; // name length, ≥1 name byte, n_dims, one dim, type, offset
const REMOVED_TYPE_IDS = new Set([4, 5, 31, 32, 33, 36, 37, 38]);

export function alignUp(x: number, alignment: number): number {
  const r = x % alignment;
  return r === 0 ? x : x + (alignment - r);
}

/**
 * Parses the header from `bytes` (a prefix of a file of `fileSize` bytes). Throws `NeedMoreBytes` when the
 * prefix is too short, PeelError on invalid input.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize = bytes.length, description = "GGUF data"): GgufHeader {
  const c = new GgufCursor(bytes, fileSize, description);
  const version = readVersion(c);
  const nTensors = readCount(c, "tensor count (n_tensors)", MIN_TENSOR_INFO_BYTES);
  const nKv = readCount(c, "metadata count (n_kv)", MIN_KV_BYTES);
  const metadata = readMetadata(c, nKv);
  const alignment = readAlignment(metadata, description);
  const infos = readTensorInfos(c, nTensors);
  const dataOffset = alignUp(c.pos, alignment);
  checkTensorPlacement(infos, dataOffset, alignment, fileSize, description);
  return { version, alignment, metadata, tensorInfos: infos, dataOffset, byteOrder: "le" };
}

function readVersion(c: GgufCursor): 2 | 3 {
  if (c.fileSize < 4) {
    throw new PeelError("FORMAT", `${c.description}: file too small to be GGUF (${c.fileSize} bytes; a header needs at least 24)`);
  }
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const head = c.bytes.subarray(0, Math.min(c.bytes.length, 64));
    throw new PeelError("FORMAT", `${c.description}: expected magic "GGUF", got "${showMagic(head)}" — ${sniffHint(head)}`);
  }
  const version = c.u32("version");
  if ((version & 0xffff) === 0 && version !== 0) {
    throw new PeelError(
      "UNSUPPORTED",
      `${c.description}: this GGUF file is big-endian (version reads as 0x${version.toString(16)}); ` +
        "Peel reads only little-endian GGUF — re-convert the model without --bigendian",
    );
  }
  if (version === 1) {
    throw new PeelError("UNSUPPORTED", `${c.description}: GGUF version 1 is not supported (it used 32-bit counts and was retired); re-convert the model with a current llama.cpp to get version 3`);
  }
  if (version !== 2 && version !== 3) {
    throw new PeelError("UNSUPPORTED", `${c.description}: GGUF version ${version} is not supported; supported versions are 2 and 3`);
  }
  return version;
}

function readCount(c: GgufCursor, what: string, minRecord: number): number {
  const raw = c.u64(what);
  const room = Math.max(0, c.fileSize - 24);
  if (raw > BigInt(Math.floor(room / minRecord))) {
    throw new PeelError(
      "FORMAT",
      `${c.description}: ${what} is ${raw}, but a ${c.fileSize}-byte file can hold at most ${Math.floor(room / minRecord)} ` +
        "such records; the header is corrupt",
    );
  }
  return Number(raw);
}

function readMetadata(c: GgufCursor, nKv: number): Map<string, GgufKv> {
  const metadata = new Map<string, GgufKv>();
  for (let i = 0; i < nKv; i++) {
    const at = c.pos;
    const key = c.str(`key of metadata entry ${i}`);
    if (metadata.has(key)) {
      throw new PeelError("FORMAT", `${c.description}: duplicate metadata key "${key}" (entry ${i}, offset ${at}); each key may appear once`);
    }
    const type = readValueType(c, `metadata "${key}"`);
    metadata.set(key, readValue(c, type, `metadata "${key}"`));
  }
  return metadata;
}

function readAlignment(metadata: Map<string, GgufKv>, description: string): number {
  const kv = metadata.get(GGUF_ALIGNMENT_KEY);
  if (kv === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const v = typeof kv.value === "bigint" ? Number(kv.value) : kv.value;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0 || (v & (v - 1)) !== 0 || v > 1 << 30) {
    throw new PeelError(
      "FORMAT",
      `${description}: ${GGUF_ALIGNMENT_KEY} must be a nonzero power-of-two integer, found ${String(v)} (${kv.type})`,
    );
  }
  return v;
}

function readTensorInfos(c: GgufCursor, nTensors: number): GgufTensorInfo[] {
  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.str(`name of tensor ${i}`);
    if (names.has(name)) throw new PeelError("FORMAT", `${c.description}: duplicate tensor name "${name}" (tensor ${i}); names must be unique`);
    names.add(name);
    const nDims = c.u32(`n_dims of tensor "${name}"`);
    if (nDims < 1 || nDims > 4) {
      throw new PeelError("FORMAT", `${c.description}: tensor "${name}" has n_dims = ${nDims}; expected 1..4`);
    }
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.u64n(`ne[${d}] of tensor "${name}"`));
    const dtype = tensorType(c.u32(`type of tensor "${name}"`), name, c.description);
    const offset = c.u64n(`offset of tensor "${name}"`);
    infos.push(makeInfo(name, dtype, ne, offset, c.description));
  }
  return infos;
}

function tensorType(id: number, name: string, description: string): DType {
  const dtype = dtypeFromGgmlId(id);
  if (dtype !== undefined) return dtype;
  const supported = Object.values(DTYPES).map((d) => d.name).join(", ");
  const known = KNOWN_UNSUPPORTED_GGML_TYPES[id];
  const what = known !== undefined
    ? `type ${known} (ggml id ${id}), which Peel does not support`
    : REMOVED_TYPE_IDS.has(id)
      ? `ggml type id ${id}, a type that ggml removed from files`
      : `unknown ggml type id ${id}`;
  throw new PeelError("UNSUPPORTED", `${description}: tensor "${name}" has ${what}; supported types: ${supported}. Re-quantize the model to one of those.`);
}

function makeInfo(name: string, dtype: DType, ne: number[], offset: number, description: string): GgufTensorInfo {
  const block = DTYPES[dtype].blockElems;
  const ne0 = ne[0] as number;
  if (ne0 % block !== 0) {
    throw new PeelError("FORMAT", `${description}: tensor "${name}" (${dtype}) has ne[0] = ${ne0}, which is not a multiple of the block size ${block}`);
  }
  let n = 1;
  for (const d of ne) n *= d;
  if (!Number.isSafeInteger(n)) throw new PeelError("FORMAT", `${description}: tensor "${name}" element count overflows (dims ${ne.join("x")})`);
  const shape = ne.slice().reverse();
  return { name, dtype, shape, offset, byteSize: tensorByteSize(dtype, shape) };
}

function checkTensorPlacement(infos: GgufTensorInfo[], dataOffset: number, alignment: number, fileSize: number, description: string): void {
  for (const t of infos) {
    if (t.offset % alignment !== 0) {
      throw new PeelError("FORMAT", `${description}: tensor "${t.name}" offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    }
    const end = dataOffset + t.offset + t.byteSize;
    if (end > fileSize) {
      throw new PeelError(
        "FORMAT",
        `${description}: tensor "${t.name}" (${t.dtype}, ${t.byteSize} bytes at data offset ${t.offset}) ends at byte ${end}, ` +
          `past the end of the file (${fileSize} bytes); the file is truncated or corrupt`,
      );
    }
  }
}
