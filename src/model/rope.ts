/**
 * Turns the RoPE config into the per-pair inverse frequencies the kernel uses:
 * invFreq[i] = theta^(−2i/nRot) · freqScale / factor[i], where freqScale = 1/linear factor and factor[i] comes
 * from the file's `rope_freqs` tensor or, without one, from llama3-style scaling metadata.
 */

import type { RopeSpec } from "../kernels/kernels.js";
import type { ModelConfig, RopeConfig } from "./config.js";

/** Llama 3.1's frequency-dependent divisor for pair frequency `freq` (HF `_compute_llama3_parameters`). */
function llama3Factor(freq: number, s: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalContextLength: number }): number {
  const wavelen = (2 * Math.PI) / freq;
  const lowWavelen = s.originalContextLength / s.lowFreqFactor;
  const highWavelen = s.originalContextLength / s.highFreqFactor;
  if (wavelen < highWavelen) return 1;
  if (wavelen > lowWavelen) return s.factor;
  const smooth = (s.originalContextLength / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return 1 / ((1 - smooth) / s.factor + smooth);
}

export function ropeSpec(rope: RopeConfig, ropeFreqs: Float32Array | undefined): RopeSpec {
  const { nRot, theta, scaling, style } = rope;
  const invFreq = new Float32Array(nRot / 2);
  const factors = new Float32Array(nRot / 2);
  const freqScale = scaling.type === "linear" ? 1 / scaling.factor : 1;
  for (let i = 0; i < nRot / 2; i++) {
    const base = Math.pow(theta, (-2 * i) / nRot);
    let factor = 1;
    if (ropeFreqs !== undefined) factor = ropeFreqs[i] as number;
    else if (scaling.type === "llama3") factor = llama3Factor(base, scaling);
    invFreq[i] = (base / factor) * freqScale;
    factors[i] = factor;
  }
  // llama.cpp's recurrence (kernels.ts RopeSpec): powf(base, -2.0f / n_dims) and the scale, in f32
  const thetaScale = Math.fround(Math.pow(Math.fround(theta), Math.fround(-2 / nRot)));
  return { style, nRot, invFreq, thetaScale, freqScale: Math.fround(freqScale), ...(factors.every((f) => f === 1) ? {} : { factors }) };
}

/**
 * Each layer's rotary table, or undefined for a model without rotary positions. Sliding-window layers with
 * their own base (Gemma 3's localTheta) rotate with it, unscaled and without rope_freqs, as llama.cpp's
 * per-layer rope settings have them (its local frequency scale is 1).
 */
export function layerRopes(c: Pick<ModelConfig, "rope" | "layerWindows">, ropeFreqs: Float32Array | undefined): RopeSpec[] | undefined {
  const rope = c.rope;
  if (rope === undefined) return undefined;
  const global = ropeSpec(rope, ropeFreqs);
  const local = rope.localTheta !== undefined && rope.localTheta !== rope.theta
    ? ropeSpec({ ...rope, theta: rope.localTheta, scaling: { type: "none" } }, undefined) : global;
  return c.layerWindows.map((w) => (w > 0 ? local : global));
}
