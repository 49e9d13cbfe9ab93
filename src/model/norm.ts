/**
 * The norm every sub-block and the head use, as the config names it: RMSNorm (x / rms(x) · gain) or
 * LayerNorm ((x − mean) / std · gain + shift). Gemma's `1 + w` is already in the gains llama.cpp's converter
 * writes, so no architecture needs a different formula here.
 */

import type { NormWeights } from "./weights.js";
import type { Transformer } from "./transformer.js";

/** out (nRows, width) = norm(x) per row; out may be x. */
export function applyNorm(m: Transformer, out: Float32Array, x: Float32Array, w: NormWeights, nRows: number, width: number): void {
  const { config: c, kernels: k } = m;
  if (c.norm === "layer") k.layerNorm(out, x, w.gain, w.shift as Float32Array, c.normEps, nRows, width);
  else k.rmsNorm(out, x, w.gain, c.normEps, nRows, width);
}
