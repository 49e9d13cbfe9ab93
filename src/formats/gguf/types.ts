/**
 * The GGUF data model: value type ids, metadata values, tensor-info records and the parsed header.
 * Pure types and the id ⇄ name table; no parsing here (read.ts) and no encoding (write.ts).
 */

import type { DType } from "../../tensor/dtype.js";

/** GGUF metadata value types, indexed by their on-disk id (0..12). */
export const GGUF_VALUE_TYPES = [
  "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
  "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
] as const;

export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** Scalar types held as a JS number (every ≤32-bit int, f32, f64). */
export type GgufNumberType = "UINT8" | "INT8" | "UINT16" | "INT16" | "UINT32" | "INT32" | "FLOAT32" | "FLOAT64";
/** 64-bit integer types, held as bigint so no precision is lost. */
export type GgufBigIntType = "UINT64" | "INT64";

export function ggufValueTypeId(type: GgufValueType): number {
  return GGUF_VALUE_TYPES.indexOf(type);
}

export function ggufValueTypeFromId(id: number): GgufValueType | undefined {
  return GGUF_VALUE_TYPES[id];
}

/** Arrays carry their element type; numeric arrays are typed arrays (copied out of the file, so aligned). */
export type GgufArray =
  | { readonly elementType: "UINT8"; readonly values: Uint8Array }
  | { readonly elementType: "INT8"; readonly values: Int8Array }
  | { readonly elementType: "UINT16"; readonly values: Uint16Array }
  | { readonly elementType: "INT16"; readonly values: Int16Array }
  | { readonly elementType: "UINT32"; readonly values: Uint32Array }
  | { readonly elementType: "INT32"; readonly values: Int32Array }
  | { readonly elementType: "FLOAT32"; readonly values: Float32Array }
  | { readonly elementType: "FLOAT64"; readonly values: Float64Array }
  | { readonly elementType: "UINT64"; readonly values: BigUint64Array }
  | { readonly elementType: "INT64"; readonly values: BigInt64Array }
  | { readonly elementType: "BOOL"; readonly values: boolean[] }
  | { readonly elementType: "STRING"; readonly values: string[] }
  | { readonly elementType: "ARRAY"; readonly values: GgufArray[] };

/** One metadata value with its declared type (the type matters when writing the file back). */
export type GgufKv =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: "BOOL"; readonly value: boolean }
  | { readonly type: "STRING"; readonly value: string }
  | { readonly type: "ARRAY"; readonly value: GgufArray };

export type GgufValue = GgufKv["value"];

export type GgufMetadata = ReadonlyMap<string, GgufKv>;

export interface GgufTensorInfo {
  readonly name: string;
  readonly dtype: DType;
  /** Outermost-first (the reverse of GGUF's ne[]): a (rows, cols) matrix is [rows, cols]. */
  readonly shape: readonly number[];
  /** Byte offset relative to the start of the data section. */
  readonly offset: number;
  readonly byteSize: number;
}

export interface GgufHeader {
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly metadata: GgufMetadata;
  readonly tensorInfos: readonly GgufTensorInfo[];
  /** Absolute file offset of the data section (aligned end of the tensor-info records). */
  readonly dataOffset: number;
  readonly byteOrder: "le";
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_ALIGNMENT_KEY = "general.alignment";
