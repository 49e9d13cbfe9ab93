/**
 * f32 → storage-type conversion for the types Peel can produce: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, Q8_1, Q8_K. K-quant *weights* (Q2_K..Q6_K) need ggml's search-based quantizers and are not offered.
 */

import { DTYPES, type DType } from "../../../tensor/dtype.js";
import { PeelError } from "../../../util/errors.js";
import { quantizeQ8_0, quantizeQ8_1, quantizeQ8_K } from "./activation.js";
import { quantizeBF16, quantizeF16, quantizeF32 } from "./float.js";
import { quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1 } from "./legacy.js";

export { quantizeQ8_0, quantizeQ8_1, quantizeQ8_K, roundHalfAway, roundHalfEven } from "./activation.js";
export { quantizeBF16, quantizeF16, quantizeF32 } from "./float.js";
export { quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1 } from "./legacy.js";

/** (out bytes from 0, x values from 0, n values) */
export type Quantizer = (out: Uint8Array, x: Float32Array, n: number) => void;

export const QUANTIZERS: Readonly<Partial<Record<DType, Quantizer>>> = {
  F32: quantizeF32, F16: quantizeF16, BF16: quantizeBF16,
  Q4_0: quantizeQ4_0, Q4_1: quantizeQ4_1, Q5_0: quantizeQ5_0, Q5_1: quantizeQ5_1,
  Q8_0: (out, x, n) => quantizeQ8_0(out, x, n),
  Q8_1: (out, x, n) => quantizeQ8_1(out, x, n),
  Q8_K: (out, x, n) => quantizeQ8_K(out, x, n),
};

export function canQuantize(dtype: DType): boolean {
  return QUANTIZERS[dtype] !== undefined;
}

/** Writes the first n values of x into out (which must hold the encoded size) as `dtype`. */
export function quantizeInto(dtype: DType, out: Uint8Array, x: Float32Array, n: number): void {
  const q = QUANTIZERS[dtype];
  if (q === undefined) {
    const supported = Object.keys(QUANTIZERS).join(", ");
    throw new PeelError("UNSUPPORTED", `quantize: Peel cannot produce ${dtype}; it can produce ${supported} (use llama-quantize for K-quants)`);
  }
  const info = DTYPES[dtype];
  if (n % info.blockElems !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `quantize ${dtype}: ${n} values is not a multiple of the block size ${info.blockElems}`);
  }
  const bytes = (n / info.blockElems) * info.blockBytes;
  if (out.length < bytes || x.length < n) {
    throw new PeelError("INVALID_ARGUMENT", `quantize ${dtype}: need ${n} inputs and ${bytes} output bytes, got ${x.length} and ${out.length}`);
  }
  q(out, x, n);
}

/** The encoding of all of src as `dtype`, in a new buffer. */
export function quantize(dtype: DType, src: Float32Array): Uint8Array {
  const info = DTYPES[dtype];
  const out = new Uint8Array(Math.floor(src.length / info.blockElems) * info.blockBytes);
  quantizeInto(dtype, out, src, src.length);
  return out;
}
