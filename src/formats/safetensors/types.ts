/**
 * Safetensors types: the element types the format defines (with their byte sizes) and the parsed header
 * records. Pure data and type definitions; parsing is in header.ts, loading in read.ts, writing in write.ts.
 */

/** Every safetensors dtype Peel can validate (size known). Sub-byte types (F4, F6_*) are not listed. */
export const SAFETENSORS_DTYPE_SIZES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const;

export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPE_SIZES;

/** The safetensors dtypes that map one-to-one onto Peel's DType (same name, same bytes). */
export const PEEL_SAFETENSORS_DTYPES = ["F32", "F16", "BF16"] as const;
export type PeelSafetensorsDType = (typeof PEEL_SAFETENSORS_DTYPES)[number];

export function isSafetensorsDType(name: string): name is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_SIZES, name);
}

export function isPeelSafetensorsDType(name: string): name is PeelSafetensorsDType {
  return (PEEL_SAFETENSORS_DTYPES as readonly string[]).includes(name);
}

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  /** Outermost-first, as stored. */
  readonly shape: readonly number[];
  /** Byte range [begin, end) relative to the start of the data buffer. */
  readonly dataOffsets: readonly [number, number];
  /** end - begin. */
  readonly byteSize: number;
}

export interface SafetensorsHeader {
  /** The "__metadata__" object (empty when absent). */
  readonly metadata: Record<string, string>;
  /** In header (JSON) order. */
  readonly tensors: SafetensorsTensorInfo[];
  /** Absolute file offset of the data buffer: 8 + header length. */
  readonly dataOffset: number;
}

/** A tensor whose dtype Peel cannot compute with, returned as bytes only when `raw: true` is asked for. */
export interface SafetensorsRawTensor {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}
