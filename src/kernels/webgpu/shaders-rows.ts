/**
 * WGSL for the row-wise and element-wise kernels: RMSNorm, LayerNorm and softmax (one workgroup of 256 per
 * row, sums by tree reduction in workgroup memory, f32 where the CPU backends sum in f64), RoPE (cos/sin of
 * the shared f32 angles, rope-angles.ts, computed on the host as the ts backend rounds them, so the GPU's
 * sin/cos never enter),
 * and the element-wise activations and adds (one thread per element). GELU reads the ts backend's f16 table,
 * uploaded once, so GeGLU and GELU give the CPU backends' values bit for bit.
 */

import { shader } from "./wgsl.js";

const REDUCE = `var<workgroup> red: array<f32, 256>;
fn reduceSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] += red[lid + s]; } workgroupBarrier(); }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn reduceMax(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) { if (lid < s) { red[lid] = max(red[lid], red[lid + s]); } workgroupBarrier(); }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;

export function rmsNormShader(): string {
  return shader({
    ints: ["dim", "rows", "xOff", "oOff", "wOff"],
    floats: ["eps"],
    bindings: [{ name: "X", type: "f32" }, { name: "Wt", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 256, decls: REDUCE,
    body: `
  if (g >= P.rows) { return; }
  let base = g * P.dim;
  var s = 0.0;
  for (var i = lid; i < P.dim; i += 256u) { let v = X[P.xOff + base + i]; s += v * v; }
  let sum = reduceSum(s, lid);
  let scale = 1.0 / sqrt(sum / f32(P.dim) + P.eps);
  for (var i = lid; i < P.dim; i += 256u) { O[P.oOff + base + i] = (X[P.xOff + base + i] * scale) * Wt[P.wOff + i]; }`,
  });
}

export function layerNormShader(): string {
  return shader({
    ints: ["dim", "rows", "xOff", "oOff"],
    floats: ["eps"],
    bindings: [{ name: "X", type: "f32" }, { name: "Wt", type: "f32" }, { name: "B", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 256, decls: REDUCE,
    body: `
  if (g >= P.rows) { return; }
  let base = P.xOff + g * P.dim;
  var s = 0.0;
  for (var i = lid; i < P.dim; i += 256u) { s += X[base + i]; }
  let mean = reduceSum(s, lid) / f32(P.dim);
  var q = 0.0;
  for (var i = lid; i < P.dim; i += 256u) { let d = X[base + i] - mean; q += d * d; }
  let scale = 1.0 / sqrt(reduceSum(q, lid) / f32(P.dim) + P.eps);
  for (var i = lid; i < P.dim; i += 256u) { O[P.oOff + g * P.dim + i] = ((X[base + i] - mean) * scale) * Wt[i] + B[i]; }`,
  });
}

export function softmaxShader(): string {
  return shader({
    ints: ["n", "xOff"],
    bindings: [{ name: "X", type: "f32", write: true }],
    wg: 256, decls: REDUCE,
    body: `
  if (g > 0u) { return; }
  var m = -3.402823e38;
  for (var i = lid; i < P.n; i += 256u) { m = max(m, X[P.xOff + i]); }
  let mx = reduceMax(m, lid);
  var s = 0.0;
  for (var i = lid; i < P.n; i += 256u) { let e = expg(X[P.xOff + i] - mx); X[P.xOff + i] = e; s += e; }
  let inv = 1.0 / reduceSum(s, lid);
  for (var i = lid; i < P.n; i += 256u) { X[P.xOff + i] = X[P.xOff + i] * inv; }`,
  });
}

/** x (nTokens, nHeads, headDim) rotated in place; CS (nTokens, nRot/2, 2) holds cos and sin. */
export function ropeShader(): string {
  return shader({
    ints: ["nTokens", "nHeads", "headDim", "half", "neox", "xOff", "csOff"],
    bindings: [{ name: "X", type: "f32", write: true }, { name: "CS", type: "f32" }],
    wg: 64,
    body: `
  let e = g * 64u + lid;
  if (e >= P.nTokens * P.nHeads * P.half) { return; }
  let i = e % P.half; let th = e / P.half; let t = th / P.nHeads;
  let c = CS[P.csOff + (t * P.half + i) * 2u]; let s = CS[P.csOff + (t * P.half + i) * 2u + 1u];
  let base = P.xOff + th * P.headDim;
  let a = base + select(2u * i, i, P.neox == 1u);
  let b = base + select(2u * i + 1u, i + P.half, P.neox == 1u);
  let x0 = X[a]; let x1 = X[b];
  // ggml's rotation as its compiler fuses it (and the ts backend follows): one product rounded, the other
  // inside a multiply-add; WGSL lets an adapter compute fma unfused, which the tolerance then has to cover
  X[a] = fma(x0, c, -(x1 * s));
  X[b] = fma(x0, s, x1 * c);`,
  });
}

/** Element-wise ops by number: out = f(a, b) for i < n, with the op's extra floats `s`, `s2`. */
export const ELEMENTWISE_OPS = { relu: 0, swiglu: 1, geglu: 2, scale: 3, softcap: 4, geluRounded: 5, gelu: 6, add: 7 } as const;

/**
 * One shader for every element-wise op. In place (out is a's buffer: scale, softcap, acc += x) it reads a from
 * O itself, since WebGPU cannot bind one buffer as both input and output; `bMod` > 0 repeats b every bMod
 * elements (a bias added to every row).
 */
export function elementwiseShader(): string {
  return shader({
    ints: ["n", "op", "aOff", "bOff", "oOff", "bMod", "inPlace"],
    floats: ["s", "s2"],
    bindings: [{ name: "A", type: "f32" }, { name: "B", type: "f32" }, { name: "GT", type: "f32" }, { name: "O", type: "f32", write: true }],
    wg: 256,
    decls: `const GC: f32 = 0.7978845608028654; const GA: f32 = 0.044715;
fn gtab(v: f32) -> f32 { if (v <= -10.0) { return 0.0; } if (v >= 10.0) { return v; } return GT[f2h(v)]; }`,
    body: `
  let i = g * 256u + lid;
  if (i >= P.n) { return; }
  let o = P.oOff + i;
  var a: f32;
  if (P.inPlace == 1u) { a = O[o]; } else { a = A[P.aOff + i]; }
  let b = B[P.bOff + select(i, i % P.bMod, P.bMod > 0u)];
  switch P.op {
    case 0u: { O[o] = select(0.0, a, a > 0.0); }
    case 1u: { O[o] = (a / (1.0 + expg(-a))) * b; }
    case 2u: { O[o] = gtab(a) * b; }
    case 3u: { O[o] = a * P.s; }
    case 4u: { O[o] = tanhs(a * P.s) * P.s2; }
    case 5u: { O[o] = gtab(a); }
    case 6u: { O[o] = 0.5 * a * (1.0 + tanhs(GC * (a + GA * a * a * a))); }
    case 7u: { O[o] = a + b; }
    default: { }
  }`,
  });
}
