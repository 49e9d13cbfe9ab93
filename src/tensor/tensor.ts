/**
 * The tensor record every module passes around: a name, a storage type, a shape and the raw bytes.
 * Shape is outermost-first (row-major, like safetensors and NumPy): a matrix with `rows` rows of `cols`
 * contiguous elements has shape [rows, cols]. GGUF stores dims innermost-first (ne[0] = cols); the GGUF
 * reader and writer reverse them at the boundary so nothing else needs to know.
 */

import type { DType } from "./dtype.js";
import { byteSize } from "./dtype.js";

export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  /** Outermost-first dims; the last dim is contiguous. */
  readonly shape: readonly number[];
  /** The tensor's bytes in its storage type (a view, not necessarily owning its buffer). */
  readonly data: Uint8Array;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensorByteSize(dtype: DType, shape: readonly number[]): number {
  const cols = shape.length === 0 ? 1 : (shape[shape.length - 1] as number);
  return byteSize(dtype, cols) * (elementCount(shape) / cols);
}
