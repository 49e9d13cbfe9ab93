/**
 * Dispatch from a storage type to its dequantizer, with the argument checks done once per call.
 * `dequantizeRow` is the allocation-free entry point for hot loops (one weight row at a time);
 * `dequantizeTensor` is the allocating convenience for whole tensors.
 */

import { DTYPES, type DType } from "../../../tensor/dtype.js";
import { elementCount, type Tensor } from "../../../tensor/tensor.js";
import { PeelError } from "../../../util/errors.js";
import { dequantizeBF16, dequantizeF16, dequantizeF32 } from "./float.js";
import { dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K, dequantizeQ8_K } from "./k-quants.js";
import { dequantizeIQ4_NL, dequantizeIQ4_XS } from "./iq4.js";
import { dequantizeQ4_0, dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1, dequantizeQ8_0, dequantizeQ8_1 } from "./legacy.js";

export * from "./float.js";
export * from "./k-quants.js";
export * from "./legacy.js";
export * from "./iq4.js";

/** (src bytes from srcOffset, at a block boundary) → out[outOffset .. outOffset+nElems). */
export type Dequantizer = (src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number) => void;

export const DEQUANTIZERS: Readonly<Record<DType, Dequantizer>> = {
  F32: dequantizeF32, F16: dequantizeF16, BF16: dequantizeBF16,
  Q4_0: dequantizeQ4_0, Q4_1: dequantizeQ4_1, Q5_0: dequantizeQ5_0, Q5_1: dequantizeQ5_1,
  Q8_0: dequantizeQ8_0, Q8_1: dequantizeQ8_1,
  Q2_K: dequantizeQ2_K, Q3_K: dequantizeQ3_K, Q4_K: dequantizeQ4_K, Q5_K: dequantizeQ5_K,
  Q6_K: dequantizeQ6_K, Q8_K: dequantizeQ8_K,
  IQ4_NL: dequantizeIQ4_NL, IQ4_XS: dequantizeIQ4_XS,
};

/** Dequantizes nElems values starting at byte `srcOffset` of src into out starting at `outOffset`. */
export function dequantizeRow(dtype: DType, src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  const info = DTYPES[dtype];
  if (nElems % info.blockElems !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `dequantize ${dtype}: ${nElems} elements is not a multiple of the block size ${info.blockElems}`);
  }
  const bytes = (nElems / info.blockElems) * info.blockBytes;
  if (srcOffset < 0 || srcOffset + bytes > src.length) {
    throw new PeelError("INVALID_ARGUMENT", `dequantize ${dtype}: ${nElems} elements need ${bytes} bytes at ${srcOffset}, source has ${src.length}`);
  }
  if (outOffset < 0 || outOffset + nElems > out.length) {
    throw new PeelError("INVALID_ARGUMENT", `dequantize ${dtype}: output has room for ${out.length - outOffset} values at ${outOffset}, need ${nElems}`);
  }
  DEQUANTIZERS[dtype](src, srcOffset, out, outOffset, nElems);
}

/** Dequantizes the first nElems values of src (which starts at a block boundary) into out. */
export function dequantize(dtype: DType, src: Uint8Array, out: Float32Array, nElems: number): void {
  dequantizeRow(dtype, src, 0, out, 0, nElems);
}

/** A whole tensor as a new Float32Array (row-major, same shape). */
export function dequantizeTensor(t: Tensor): Float32Array {
  const n = elementCount(t.shape);
  const out = new Float32Array(n);
  dequantizeRow(t.dtype, t.data, 0, out, 0, n);
  return out;
}
