/**
 * Dequantizers for the plain float storage types F32, F16 and BF16 (one element per "block").
 * Same signature as every dequantizer: (src, srcOffset bytes, out, outOffset elements, nElems).
 * Assumes a little-endian host, like all of Peel's typed-array views of file bytes.
 */

import { f16Table } from "../../../tensor/f16.js";

const F16 = f16Table();
const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

export function dequantizeF32(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, nElems * 4);
  bytes.set(src.subarray(srcOffset, srcOffset + nElems * 4));
}

export function dequantizeF16(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let i = 0, o = srcOffset; i < nElems; i++, o += 2) {
    out[outOffset + i] = F16[(src[o] as number) | ((src[o + 1] as number) << 8)] as number;
  }
}

export function dequantizeBF16(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let i = 0, o = srcOffset; i < nElems; i++, o += 2) {
    scratchU32[0] = ((src[o] as number) << 16) | ((src[o + 1] as number) << 24);
    out[outOffset + i] = scratchF32[0] as number;
  }
}
