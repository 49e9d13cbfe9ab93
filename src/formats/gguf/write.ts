/**
 * Writes GGUF v3 (or v2) files: metadata in the given order, tensor infos, then tensor data at consecutive
 * aligned offsets with zero padding, as llama.cpp expects. Also `kv`, terse constructors for metadata values.
 * It does not quantize (quant/) and does not touch the file system (write.node.ts does).
 */

import { DTYPES } from "../../tensor/dtype.js";
import { tensorByteSize, type Tensor } from "../../tensor/tensor.js";
import { PeelError } from "../../util/errors.js";
import { ByteWriter } from "./byte-writer.js";
import { alignUp } from "./header.js";
import {
  GGUF_ALIGNMENT_KEY, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, ggufValueTypeId,
  type GgufArray, type GgufKv,
} from "./types.js";

export interface GgufWriteSpec {
  readonly metadata: ReadonlyArray<readonly [string, GgufKv]> | ReadonlyMap<string, GgufKv>;
  readonly tensors: readonly Tensor[];
  /** Data alignment; when it is not 32 and the metadata lacks `general.alignment`, that key is added. */
  readonly alignment?: number;
  readonly version?: 2 | 3;
}

/** Terse metadata constructors: `["llama.block_count", kv.u32(12)]`. */
export const kv = {
  u8: (value: number): GgufKv => ({ type: "UINT8", value }),
  i8: (value: number): GgufKv => ({ type: "INT8", value }),
  u16: (value: number): GgufKv => ({ type: "UINT16", value }),
  i16: (value: number): GgufKv => ({ type: "INT16", value }),
  u32: (value: number): GgufKv => ({ type: "UINT32", value }),
  i32: (value: number): GgufKv => ({ type: "INT32", value }),
  f32: (value: number): GgufKv => ({ type: "FLOAT32", value }),
  f64: (value: number): GgufKv => ({ type: "FLOAT64", value }),
  u64: (value: bigint | number): GgufKv => ({ type: "UINT64", value: BigInt(value) }),
  i64: (value: bigint | number): GgufKv => ({ type: "INT64", value: BigInt(value) }),
  bool: (value: boolean): GgufKv => ({ type: "BOOL", value }),
  str: (value: string): GgufKv => ({ type: "STRING", value }),
  array: (value: GgufArray): GgufKv => ({ type: "ARRAY", value }),
  strArray: (a: readonly string[]): GgufKv => ({ type: "ARRAY", value: { elementType: "STRING", values: [...a] } }),
  boolArray: (a: readonly boolean[]): GgufKv => ({ type: "ARRAY", value: { elementType: "BOOL", values: [...a] } }),
  u8Array: (a: ArrayLike<number>): GgufKv => ({ type: "ARRAY", value: { elementType: "UINT8", values: Uint8Array.from(a) } }),
  i32Array: (a: ArrayLike<number>): GgufKv => ({ type: "ARRAY", value: { elementType: "INT32", values: Int32Array.from(a) } }),
  u32Array: (a: ArrayLike<number>): GgufKv => ({ type: "ARRAY", value: { elementType: "UINT32", values: Uint32Array.from(a) } }),
  f32Array: (a: ArrayLike<number>): GgufKv => ({ type: "ARRAY", value: { elementType: "FLOAT32", values: Float32Array.from(a) } }),
} as const;

const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  UINT8: [0, 0xff], INT8: [-0x80, 0x7f], UINT16: [0, 0xffff], INT16: [-0x8000, 0x7fff],
  UINT32: [0, 0xffffffff], INT32: [-0x80000000, 0x7fffffff],
};

function checkInt(type: string, value: number, key: string): void {
  const range = INT_RANGE[type];
  if (range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF write: metadata "${key}": ${value} is not a valid ${type}`);
  }
}

function writeValue(w: ByteWriter, item: GgufKv, key: string): void {
  switch (item.type) {
    case "UINT8": checkInt(item.type, item.value, key); return w.u8(item.value);
    case "INT8": checkInt(item.type, item.value, key); return w.i8(item.value);
    case "UINT16": checkInt(item.type, item.value, key); return w.u16(item.value);
    case "INT16": checkInt(item.type, item.value, key); return w.i16(item.value);
    case "UINT32": checkInt(item.type, item.value, key); return w.u32(item.value);
    case "INT32": checkInt(item.type, item.value, key); return w.i32(item.value);
    case "FLOAT32": return w.f32(item.value);
    case "FLOAT64": return w.f64(item.value);
    case "UINT64": return w.u64(BigInt.asUintN(64, item.value));
    case "INT64": return w.i64(BigInt.asIntN(64, item.value));
    case "BOOL": return w.u8(item.value ? 1 : 0);
    case "STRING": return w.ggufString(item.value);
    case "ARRAY": return writeArray(w, item.value);
  }
}

function writeArray(w: ByteWriter, arr: GgufArray): void {
  w.u32(ggufValueTypeId(arr.elementType));
  w.u64(arr.values.length);
  switch (arr.elementType) {
    case "BOOL": for (const b of arr.values) w.u8(b ? 1 : 0); return;
    case "STRING": for (const s of arr.values) w.ggufString(s); return;
    case "ARRAY": for (const a of arr.values) writeArray(w, a); return;
    default: {
      const v = arr.values;
      w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
  }
}

function resolveMetadata(spec: GgufWriteSpec): { entries: Array<readonly [string, GgufKv]>; alignment: number } {
  const entries = spec.metadata instanceof Map ? [...spec.metadata.entries()] : [...(spec.metadata as ReadonlyArray<readonly [string, GgufKv]>)];
  const seen = new Set<string>();
  for (const [k] of entries) {
    if (seen.has(k)) throw new PeelError("INVALID_ARGUMENT", `GGUF write: duplicate metadata key "${k}"`);
    seen.add(k);
  }
  const present = entries.find(([k]) => k === GGUF_ALIGNMENT_KEY)?.[1];
  const fromMeta = present === undefined ? undefined : present.type === "UINT32" ? present.value : NaN;
  const alignment = spec.alignment ?? fromMeta ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF write: alignment must be a power of two (and ${GGUF_ALIGNMENT_KEY} a UINT32), got ${String(alignment)}`);
  }
  if (fromMeta !== undefined && fromMeta !== alignment) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF write: alignment ${alignment} disagrees with metadata ${GGUF_ALIGNMENT_KEY} = ${fromMeta}`);
  }
  if (fromMeta === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) entries.push([GGUF_ALIGNMENT_KEY, kv.u32(alignment)]);
  return { entries, alignment };
}

/** A tensor's name, type and shape (outermost first): what the header says of it, without its bytes. */
export type GgufTensorDesc = Pick<Tensor, "name" | "dtype" | "shape">;

function checkTensor(t: GgufTensorDesc, names: Set<string>): readonly number[] {
  if (names.has(t.name)) throw new PeelError("INVALID_ARGUMENT", `GGUF write: duplicate tensor name "${t.name}"`);
  names.add(t.name);
  const shape = t.shape.length === 0 ? [1] : t.shape;
  if (shape.length > 4) throw new PeelError("INVALID_ARGUMENT", `GGUF write: tensor "${t.name}" has ${shape.length} dims; GGUF allows 1..4`);
  const cols = shape[shape.length - 1] as number;
  if (cols % DTYPES[t.dtype].blockElems !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF write: tensor "${t.name}" (${t.dtype}) row length ${cols} is not a multiple of the block size ${DTYPES[t.dtype].blockElems}`);
  }
  return shape;
}

function checkBytes(t: Tensor, shape: readonly number[]): void {
  const expected = tensorByteSize(t.dtype, shape);
  if (t.data.length !== expected) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF write: tensor "${t.name}" (${t.dtype} [${shape.join(", ")}]) needs ${expected} bytes, has ${t.data.length}`);
  }
}

/** The encoded header (padded to where the data starts), each tensor's offset from there, and the data's size. */
export interface GgufLayout {
  readonly header: Uint8Array;
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  readonly dataBytes: number;
}

/** Everything before the tensor data, for writers that stream each tensor's bytes after it (write.node.ts). */
export function ggufLayout(metadata: GgufWriteSpec["metadata"], tensors: readonly GgufTensorDesc[], opts: Pick<GgufWriteSpec, "alignment" | "version"> = {}): GgufLayout {
  const { entries, alignment } = resolveMetadata({ metadata, tensors: [], ...opts });
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(opts.version ?? 3);
  w.u64(tensors.length);
  w.u64(entries.length);
  for (const [key, value] of entries) {
    w.ggufString(key);
    w.u32(ggufValueTypeId(value.type));
    writeValue(w, value, key);
  }
  const names = new Set<string>();
  const offsets: number[] = [], sizes: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const shape = checkTensor(t, names);
    w.ggufString(t.name);
    w.u32(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) w.u64(shape[d] as number);
    w.u32(DTYPES[t.dtype].ggmlId);
    w.u64(offset);
    offsets.push(offset);
    const size = tensorByteSize(t.dtype, shape);
    sizes.push(size);
    offset = alignUp(offset + size, alignment);
  }
  const header = new Uint8Array(alignUp(w.length, alignment));
  header.set(w.result(), 0);
  return { header, offsets, sizes, dataBytes: offset };
}

/** Serialises a whole GGUF file into one buffer. */
export function writeGguf(spec: GgufWriteSpec): Uint8Array {
  const shapes = spec.tensors.map((t) => (t.shape.length === 0 ? [1] : t.shape));
  const { header, offsets, dataBytes } = ggufLayout(spec.metadata, spec.tensors, spec);
  spec.tensors.forEach((t, i) => checkBytes(t, shapes[i] as number[]));
  const out = new Uint8Array(header.length + dataBytes); // zero-filled: padding comes for free
  out.set(header, 0);
  spec.tensors.forEach((t, i) => out.set(t.data, header.length + (offsets[i] as number)));
  return out;
}
