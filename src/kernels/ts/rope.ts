/**
 * Rotary position embedding, in place. "normal" rotates adjacent pairs (2i, 2i+1) of each head (GGUF llama,
 * llama2.c); "neox" rotates (i, i + nRot/2) (Qwen2, Phi-3, Gemma, GPT-NeoX). Dims at or past nRot pass through.
 */

import type { RopeSpec } from "../kernels.js";

/** x (nTokens, nHeads, headDim) rotated by angle positions[t] · invFreq[i] for pair i. */
export function rope(x: Float32Array, positions: Int32Array, nTokens: number, nHeads: number, headDim: number, spec: RopeSpec): void {
  const half = spec.nRot / 2;
  for (let t = 0; t < nTokens; t++) {
    const pos = positions[t] as number;
    for (let i = 0; i < half; i++) {
      const theta = pos * (spec.invFreq[i] as number);
      const c = Math.fround(Math.cos(theta));
      const s = Math.fround(Math.sin(theta));
      // pair (a, b): adjacent in "normal" style, half a rotation apart in "neox" style
      const a = spec.style === "normal" ? 2 * i : i;
      const b = spec.style === "normal" ? 2 * i + 1 : i + half;
      for (let h = 0; h < nHeads; h++) {
        const base = (t * nHeads + h) * headDim;
        const x0 = x[base + a] as number;
        const x1 = x[base + b] as number;
        x[base + a] = x0 * c - x1 * s;
        x[base + b] = x0 * s + x1 * c;
      }
    }
  }
}
