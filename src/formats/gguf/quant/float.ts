/** Conversions from f32 to the plain float storage types F32, F16 (round to nearest even) and BF16. */

import { f32ToBf16, f32ToF16 } from "../../../tensor/f16.js";

export function quantizeF32(out: Uint8Array, x: Float32Array, n: number): void {
  out.set(new Uint8Array(x.buffer, x.byteOffset, n * 4));
}

export function quantizeF16(out: Uint8Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = f32ToF16(x[i] as number);
    out[2 * i] = b & 255;
    out[2 * i + 1] = b >> 8;
  }
}

export function quantizeBF16(out: Uint8Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = f32ToBf16(x[i] as number);
    out[2 * i] = b & 255;
    out[2 * i + 1] = b >> 8;
  }
}
