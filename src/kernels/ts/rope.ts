/**
 * Rotary position embedding, in place. "normal" rotates adjacent pairs (2i, 2i+1) of each head (GGUF llama,
 * llama2.c); "neox" rotates (i, i + nRot/2) (Qwen2, Phi-3, Gemma, GPT-NeoX). Dims at or past nRot pass through.
 */

import type { RopeSpec } from "../kernels.js";
import { ropeAngles } from "../rope-angles.js";
import { fmaF32 } from "./ggml-math.js";

let angles = new Float32Array(64);

/** x (nTokens, nHeads, headDim) rotated by pair i's angle at positions[t] (rope-angles.ts). */
export function rope(x: Float32Array, positions: Int32Array, nTokens: number, nHeads: number, headDim: number, spec: RopeSpec): void {
  const half = spec.nRot / 2;
  if (angles.length < half) angles = new Float32Array(half);
  for (let t = 0; t < nTokens; t++) {
    ropeAngles(angles, spec, positions[t] as number);
    for (let i = 0; i < half; i++) {
      const theta = angles[i] as number;
      const c = Math.fround(Math.cos(theta));
      const s = Math.fround(Math.sin(theta));
      // pair (a, b): adjacent in "normal" style, half a rotation apart in "neox" style
      const a = spec.style === "normal" ? 2 * i : i;
      const b = spec.style === "normal" ? 2 * i + 1 : i + half;
      for (let h = 0; h < nHeads; h++) {
        const base = (t * nHeads + h) * headDim;
        const x0 = x[base + a] as number;
        const x1 = x[base + b] as number;
        // ggml's rotate_pairs as its compiler fuses it: x0·cos − x1·sin with the first product inside one
        // multiply-add (x1·sin rounded first), likewise x0·sin + x1·cos
        x[base + a] = fmaF32(x0, c, -Math.fround(x1 * s));
        x[base + b] = fmaF32(x0, s, Math.fround(x1 * c));
      }
    }
  }
}
