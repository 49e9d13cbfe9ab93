/**
 * WGSL for weights: one element decoder per storage type, reading the GGUF blocks as uploaded (packed in u32
 * words, blocks not 4-byte aligned), and the kernels built on it: activation rounding (llama.cpp's vec_dot
 * conversion, as ts/activation-rounding.ts), the matmul, embedRows and training's plain f32 product.
 * The matmul is one workgroup per (4 output rows, tile of 8 tokens): 16 threads per row stride over its
 * columns (neighbouring threads read neighbouring weights), decode each weight once and multiply it into up to
 * 8 token rows, then sum their 16 partials in workgroup memory. One token (decode) is the matrix–vector case of the same shader; a prefill tile reads
 * each weight once per 8 tokens. Decoding an element at a time rereads a block's scale per element; a
 * block-at-a-time decode is the obvious next step for speed, not for results.
 */

import type { DType } from "../../tensor/dtype.js";
import { BYTE_READS, shader } from "./wgsl.js";

/** Weight types the webgpu backend decodes in its shaders. */
export const GPU_WEIGHT_TYPES: readonly DType[] = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K"];

/** Scale and minimum `is` (0..7) of a Q4_K/Q5_K block at byte o: 6-bit values packed in the 12 bytes from o + 4. */
const K_SCALE_MIN = `
fn scaleMin(o: u32, is: u32) -> vec2<u32> {
  if (is < 4u) { return vec2<u32>(ld8(o + 4u + is) & 63u, ld8(o + 8u + is) & 63u); }
  return vec2<u32>((ld8(o + 8u + is) & 15u) | ((ld8(o + is) >> 6u) << 4u), (ld8(o + 8u + is) >> 4u) | ((ld8(o + 4u + is) >> 6u) << 4u));
}`;

/** `fn wAt(r: u32, i: u32) -> f32`: element i of row r, with P.cols columns and P.nb blocks per row. */
function decoder(dtype: DType): string {
  switch (dtype) {
    case "F32": return `fn wAt(r: u32, i: u32) -> f32 { return bitcast<f32>(W[r * P.cols + i]); }`;
    case "F16": return `fn wAt(r: u32, i: u32) -> f32 { let e = r * P.cols + i; return h2f((W[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu); }`;
    case "BF16": return `fn wAt(r: u32, i: u32) -> f32 { let e = r * P.cols + i; return bitcast<f32>(((W[e >> 1u] >> ((e & 1u) * 16u)) & 0xffffu) << 16u); }`;
    case "Q8_0": return `${BYTE_READS}
fn wAt(r: u32, i: u32) -> f32 { let o = (r * P.nb + i / 32u) * 34u; return h2f(ld16(o)) * f32(ls8(o + 2u + i % 32u)); }`;
    case "Q4_0": return `${BYTE_READS}
fn wAt(r: u32, i: u32) -> f32 {
  let o = (r * P.nb + i / 32u) * 18u; let j = i % 32u;
  let b = ld8(o + 2u + (j & 15u));
  let q = select(b & 15u, b >> 4u, j >= 16u);
  return h2f(ld16(o)) * f32(i32(q) - 8);
}`;
    case "Q5_0": return `${BYTE_READS}
fn wAt(r: u32, i: u32) -> f32 {
  let o = (r * P.nb + i / 32u) * 22u; let j = i % 32u;
  let b = ld8(o + 6u + (j & 15u));
  let lo = select(b & 15u, b >> 4u, j >= 16u);
  let hb = ((ld16(o + 2u) | (ld16(o + 4u) << 16u)) >> j) & 1u;
  return h2f(ld16(o)) * f32(i32(lo | (hb << 4u)) - 16);
}`;
    case "Q4_K": return `${BYTE_READS}${K_SCALE_MIN}
fn wAt(r: u32, i: u32) -> f32 {
  let o = (r * P.nb + i / 256u) * 144u; let k = i % 256u;
  let c = k / 64u; let l = k % 64u;
  let sm = scaleMin(o, 2u * c + l / 32u);
  let b = ld8(o + 16u + 32u * c + l % 32u);
  let q = select(b & 15u, b >> 4u, l >= 32u);
  return h2f(ld16(o)) * f32(sm.x) * f32(q) - h2f(ld16(o + 2u)) * f32(sm.y);
}`;
    case "Q5_K": return `${BYTE_READS}${K_SCALE_MIN}
fn wAt(r: u32, i: u32) -> f32 {
  let o = (r * P.nb + i / 256u) * 176u; let k = i % 256u;
  let c = k / 64u; let l = k % 64u; let is = 2u * c + l / 32u;
  let sm = scaleMin(o, is);
  let b = ld8(o + 48u + 32u * c + l % 32u);
  let q = select(b & 15u, b >> 4u, l >= 32u) + (((ld8(o + 16u + l % 32u) >> is) & 1u) << 4u);
  return h2f(ld16(o)) * f32(sm.x) * f32(q) - h2f(ld16(o + 2u)) * f32(sm.y);
}`;
    case "Q6_K": return `${BYTE_READS}
fn wAt(r: u32, i: u32) -> f32 {
  let o = (r * P.nb + i / 256u) * 210u; let k = i % 256u;
  let half = k / 128u; let l = k % 128u; let qt = l / 32u; let l0 = l % 32u;
  let a = ld8(o + 64u * half + l0 + (qt & 1u) * 32u);
  let lo = select(a & 15u, a >> 4u, qt >= 2u);
  let hb = (ld8(o + 128u + 32u * half + l0) >> (2u * qt)) & 3u;
  let sc = ls8(o + 192u + 8u * half + l0 / 16u + 2u * qt);
  return h2f(ld16(o + 208u)) * f32(sc) * f32(i32(lo | (hb << 4u)) - 32);
}`;
    default: throw new Error(`no decoder for ${dtype}`);
  }
}

/** Output rows per matmul workgroup (16 threads each) and tokens per workgroup. */
export const MATMUL_ROWS = 4;
export const MATMUL_TOKENS = 8;

/** out (nTokens, rows) = X (nTokens, cols) · Wᵀ; X already rounded as the weight type asks. */
export function matmulShader(dtype: DType): string {
  return shader({
    ints: ["rows", "cols", "nTokens", "xOff", "oOff", "nb", "rowGroups"],
    bindings: [{ name: "W", type: "u32" }, { name: "X", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 64,
    decls: `var<workgroup> red: array<f32, 512>;\n${decoder(dtype)}`,
    body: `
  let slot = lid / 16u; let lane = lid % 16u;
  let row = (g % P.rowGroups) * 4u + slot; let t0 = (g / P.rowGroups) * 8u;
  if (t0 >= P.nTokens) { return; }
  let nt = min(8u, P.nTokens - t0);
  var acc: array<f32, 8>;
  if (row < P.rows) {
    for (var i = lane; i < P.cols; i += 16u) {
      let w = wAt(row, i);
      for (var t = 0u; t < nt; t++) { acc[t] += w * X[P.xOff + (t0 + t) * P.cols + i]; }
    }
  }
  for (var t = 0u; t < nt; t++) { red[t * 64u + lid] = acc[t]; }
  workgroupBarrier();
  for (var s = 8u; s > 0u; s >>= 1u) {
    if (lane < s) { for (var t = 0u; t < nt; t++) { red[t * 64u + lid] += red[t * 64u + lid + s]; } }
    workgroupBarrier();
  }
  if (row < P.rows && lane < nt) { O[P.oOff + (t0 + lane) * P.rows + row] = red[lane * 64u + slot * 16u]; }`,
  });
}

/** out (nTokens, cols) = rows ids[t] of the table, decoded. */
export function embedShader(dtype: DType): string {
  return shader({
    ints: ["cols", "nTokens", "oOff", "nb", "idsOff"],
    bindings: [{ name: "W", type: "u32" }, { name: "IDS", type: "i32" }, { name: "O", type: "f32", write: true }],
    wg: 256,
    decls: decoder(dtype),
    body: `
  let e = g * 256u + lid;
  if (e >= P.cols * P.nTokens) { return; }
  let t = e / P.cols;
  O[P.oOff + e] = wAt(u32(IDS[P.idsOff + t]), e % P.cols);`,
  });
}

/** Activation rounding modes, numbered as the shader's `mode` parameter. */
export const ROUND_MODES = { f16: 1, bf16: 2, q8_0: 3, q8_k: 4 } as const;

/** out (n) = x rounded as llama.cpp's CPU vec_dot types (f16, bf16, Q8_0 or Q8_K blocks); one thread per block. */
export function roundActivationsShader(): string {
  return shader({
    ints: ["n", "mode", "xOff"],
    bindings: [{ name: "X", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 64,
    body: `
  let blk = g * 64u + lid;
  if (P.mode == 1u || P.mode == 2u) {
    if (blk >= P.n) { return; }
    let v = X[P.xOff + blk];
    if (P.mode == 1u) { O[blk] = rf16(v); return; }
    let b = bitcast<u32>(v);
    if ((b & 0x7fffffffu) > 0x7f800000u) { O[blk] = bitcast<f32>((b | 0x400000u) & 0xffff0000u); return; }
    O[blk] = bitcast<f32>(((b + (0x7fffu + ((b >> 16u) & 1u))) >> 16u) << 16u);
    return;
  }
  let size = select(32u, 256u, P.mode == 4u);
  let start = blk * size;
  if (start >= P.n) { return; }
  if (P.mode == 3u) {
    var amax = 0.0;
    for (var i = 0u; i < 32u; i++) { amax = max(amax, abs(X[P.xOff + start + i])); }
    let d = amax / 127.0;
    let id = select(0.0, 127.0 / amax, amax != 0.0);
    let dh = rf16(d);
    for (var i = 0u; i < 32u; i++) { O[start + i] = dh * round(X[P.xOff + start + i] * id); }
    return;
  }
  var amax = 0.0; var mx = 0.0;
  for (var i = 0u; i < 256u; i++) { let v = X[P.xOff + start + i]; if (abs(v) > amax) { amax = abs(v); mx = v; } }
  if (amax == 0.0) { for (var i = 0u; i < 256u; i++) { O[start + i] = 0.0; } return; }
  let iscale = -127.0 / mx;
  let d = 1.0 / iscale;
  for (var i = 0u; i < 256u; i++) { O[start + i] = d * min(127.0, round(iscale * X[P.xOff + start + i])); }`,
  });
}

/** out (nTokens, rows) = x · wᵀ in plain f32, operands possibly transposed (training). One thread per output. */
export function matmulF32Shader(): string {
  return shader({
    ints: ["rows", "cols", "nTokens", "wT", "xT", "wOff", "xOff", "oOff"],
    bindings: [{ name: "Wf", type: "f32" }, { name: "X", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 64,
    body: `
  let e = g * 64u + lid;
  if (e >= P.rows * P.nTokens) { return; }
  let t = e / P.rows; let r = e % P.rows;
  var s = 0.0;
  for (var i = 0u; i < P.cols; i++) {
    let w = select(Wf[P.wOff + r * P.cols + i], Wf[P.wOff + i * P.rows + r], P.wT == 1u);
    let x = select(X[P.xOff + t * P.cols + i], X[P.xOff + i * P.nTokens + t], P.xT == 1u);
    s += w * x;
  }
  O[P.oOff + e] = s;`,
  });
}
