/**
 * The angle each rotary pair turns by at one position, for every backend: llama.cpp's f32 recurrence where the
 * spec carries it (kernels.ts RopeSpec.thetaScale), else position · invFreq[i]. Shared so that the ts and wasm
 * backends rotate by the same f32 factors. Knows nothing of models.
 */

import type { RopeSpec } from "./kernels.js";

const f32 = Math.fround;

/** out (nRot / 2) ← the angle of each pair at position `pos`. */
export function ropeAngles(out: Float32Array | number[], spec: RopeSpec, pos: number): void {
  const half = spec.nRot / 2;
  if (spec.thetaScale === undefined) {
    for (let i = 0; i < half; i++) out[i] = pos * (spec.invFreq[i] as number);
    return;
  }
  const fs = f32(spec.freqScale ?? 1), ts = f32(spec.thetaScale);
  let theta = f32(pos);
  for (let i = 0; i < half; i++) {
    const ff = spec.factors?.[i] ?? 1;
    out[i] = f32(fs * f32(theta / ff));
    theta = f32(theta * ts);
  }
}
