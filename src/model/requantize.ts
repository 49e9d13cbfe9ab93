/**
 * Storing a float tensor as another type: what `peel convert --type` and loading with `quantize` do to the
 * 2-D weights of a checkpoint (F32/F16/BF16 in). 1-D tensors (norm gains, biases) stay F32, a matrix whose
 * rows are not whole blocks of the type falls back to F16 (as llama.cpp's converter does), and tensors already
 * in a quantized type are left as they are (requantizing would only lose precision).
 */

import { dequantize } from "../formats/gguf/dequant/index.js";
import { quantize } from "../formats/gguf/quant/index.js";
import { DTYPES, type DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";

const FLOAT_TYPES: readonly DType[] = ["F32", "F16", "BF16"];

export function storeAs(t: Tensor, dtype: DType): Tensor {
  if (!FLOAT_TYPES.includes(t.dtype)) return t;
  let target = dtype;
  if (t.shape.length < 2) target = "F32";
  else if ((t.shape[t.shape.length - 1] as number) % DTYPES[dtype].blockElems !== 0) target = "F16";
  if (t.dtype === target) return t;
  const n = t.shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  dequantize(t.dtype, t.data, x, n);
  return { ...t, dtype: target, data: quantize(target, x) };
}

/** Load-time quantization types (`quantize` option, CLI --quantize). */
export const LOAD_QUANT_TYPES = { q8_0: "Q8_0", q4_0: "Q4_0" } as const satisfies Record<string, DType>;
export type LoadQuantType = keyof typeof LOAD_QUANT_TYPES;
