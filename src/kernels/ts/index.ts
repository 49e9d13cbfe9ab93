/**
 * The plain-TypeScript backend: the readable reference every other backend is tested against.
 * Buffers are ordinary typed arrays; weights stay views over the loaded bytes (no copy).
 */

import { checkShared, type Kernels, type KvBuffer, type KvDType, type WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { PeelError } from "../../util/errors.js";
import { embedRows, matmul, matmulF32, type MatmulScratch } from "./matmul.js";
import { layerNorm, rmsNorm } from "./norm.js";
import { rope } from "./rope.js";
import { attention, storeKv } from "./attention.js";
import { addBias, addInPlace, geglu, gelu, geluBackward, geluRounded, relu, scale, softcap, softmax, swiglu, swigluBackward } from "./elementwise.js";

/** Weight types the reference backend can multiply (every type the GGUF dequantizers handle). */
export const TS_WEIGHT_TYPES: readonly DType[] = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
  "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"];

export function createTsKernels(): Kernels {
  const scratch: MatmulScratch = { row: new Float32Array(0), x: new Float32Array(0), sCorr: new Float32Array(0) };
  return {
    name: "ts",
    allocF32: (n) => new Float32Array(n),
    prepareWeight(dtype, rows, cols, data): WeightMatrix {
      if (!TS_WEIGHT_TYPES.includes(dtype)) {
        throw new PeelError("UNSUPPORTED", `kernels(ts): no matrix product for weight type ${dtype}; supported: ${TS_WEIGHT_TYPES.join(", ")}`);
      }
      const info = DTYPES[dtype];
      const need = rows * (cols / info.blockElems) * info.blockBytes;
      if (cols % info.blockElems !== 0 || data.length < need) {
        throw new PeelError("CONFIG", `kernels(ts): a ${rows}x${cols} ${dtype} matrix needs ${need} bytes with cols a multiple of ${info.blockElems}; got ${data.length} bytes`);
      }
      return { dtype, rows, cols, data };
    },
    allocKv(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer {
      const data = dtype === "F16" ? new Uint16Array(seqLen * kvDim) : new Float32Array(seqLen * kvDim);
      return { dtype, data, seqLen, kvDim };
    },
    matmul: (out, w, x, nTokens) => matmul(scratch, out, w, x, nTokens),
    matmulShared(outs, ws, x, nTokens) {
      checkShared("ts", outs, ws);
      for (let i = 0; i < ws.length; i++) matmul(scratch, outs[i] as Float32Array, ws[i] as WeightMatrix, x, nTokens);
    },
    matmulF32,
    embedRows,
    rmsNorm,
    layerNorm,
    rope,
    storeKv,
    attention,
    swiglu,
    geglu,
    relu,
    scale,
    softcap,
    geluRounded,
    gelu,
    geluBackward,
    swigluBackward,
    addInPlace,
    addBias,
    softmax,
  };
}
