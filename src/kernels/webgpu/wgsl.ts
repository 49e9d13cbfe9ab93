/**
 * Building WGSL shaders from parts: a uniform parameter block of named u32 and f32 fields, storage bindings
 * in order, and helpers every kernel may call (f16 ⇄ f32 by bits, byte reads from packed u32 words). The f16
 * conversions are written out with integer operations rather than taken from `shader-f16` or pack2x16float:
 * the standard leaves pack2x16float's rounding to the implementation, and these must round to nearest even,
 * as the CPU backends do, on every adapter (with or without `shader-f16`).
 */

export interface Binding {
  readonly name: string;
  /** WGSL element type of the array: f32, u32 or i32. */
  readonly type: "f32" | "u32" | "i32";
  readonly write?: boolean;
}

export interface ShaderParts {
  readonly ints: readonly string[];
  readonly floats?: readonly string[];
  readonly bindings: readonly Binding[];
  /** Workgroup size (one dimension). */
  readonly wg: number;
  /** Module-scope declarations (helpers, workgroup arrays). */
  readonly decls?: string;
  /** Body of main; `g` is the flat workgroup index, `lid` the local index, `P` the parameters. */
  readonly body: string;
}

export const HELPERS = /* wgsl */ `
fn h2f(h: u32) -> f32 {
  let s = (h >> 15u) & 1u;
  let e = (h >> 10u) & 31u;
  let m = h & 1023u;
  var v: f32;
  if (e == 0u) { v = f32(m) * 5.9604644775390625e-8; }
  else if (e == 31u) { v = bitcast<f32>(0x7f800000u | (m << 13u)); }
  else { v = bitcast<f32>(((e + 112u) << 23u) | (m << 13u)); }
  return select(v, -v, s == 1u);
}
fn f2h(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let s = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return s | select(0x7c00u, 0x7e00u, a > 0x7f800000u); }
  if (a >= 0x477ff000u) { return s | 0x7c00u; } // rounds to infinity
  if (a < 0x38800000u) { // subnormal half (or zero): round a·2^24 to an integer, half to even
    let v = bitcast<f32>(a) * 16777216.0;
    let r = u32(v);
    let f = v - f32(r);
    var q = r;
    if (f > 0.5 || (f == 0.5 && (r & 1u) == 1u)) { q = r + 1u; }
    return s | q;
  }
  let m = a & 0x7fffffu;
  let e = (a >> 23u) - 112u;
  var h = (e << 10u) | (m >> 13u);
  let rest = m & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return s | h;
}
fn rf16(x: f32) -> f32 { return h2f(f2h(x)); }
// e^x by ggml_v_expf's steps (the ts backend's expfVec, ggml-math.ts: the constants are vec.h's), not the builtin:
// WGSL lets exp be off by 3 + 2|x| ulp, and SwiftShader's is (0 to 17 ulp from e^x over [-20, 0], 13 % exact),
// which moved f16-rounded attention sums. Where fma is fused this is the CPU's value bit for bit.
fn expg(x: f32) -> f32 {
  if (x < -104.0) { return 0.0; } // under half the least subnormal (the -3.4e38 sentinels of masked keys land here)
  if (x > 89.0) { return x * 3.4e38; } // +inf at run time (a constant inf is a WGSL compile error)
  let z = fma(x, 0x1.715476p+0f, 0x1.8p23f);
  let n = z - 0x1.8p23f;
  let b = fma(-n, 0x1.7f7d1cp-20f, fma(-n, 0x1.62e4p-1f, x));
  let u = b * b;
  let j = fma(fma(fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u, fma(0x1.ffffecp-1f, b, 1.0));
  return ldexp(j, i32(n));
}
// tanh through exp overflows to inf/inf = NaN on some adapters past |x| ≈ 44; tanh(±15) is ±1 in f32 already
fn tanhs(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
`;

/** Byte and half-word reads from a u32 array bound as W (quantized blocks need not be 4-byte aligned). */
export const BYTE_READS = /* wgsl */ `
fn ld8(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 3u) * 8u)) & 255u; }
fn ld16(o: u32) -> u32 { return ld8(o) | (ld8(o + 1u) << 8u); }
fn ls8(o: u32) -> i32 { return (i32(ld8(o)) << 24u) >> 24u; }
`;

export function shader(p: ShaderParts): string {
  const fields = [...p.ints.map((n) => `${n}: u32,`), ...(p.floats ?? []).map((n) => `${n}: f32,`)];
  if (fields.length === 0) fields.push("unused: u32,");
  const binds = p.bindings.map((b, i) =>
    `@group(0) @binding(${i + 1}) var<storage, ${b.write === true ? "read_write" : "read"}> ${b.name}: array<${b.type}>;`);
  return `struct Params { ${fields.join(" ")} }
@group(0) @binding(0) var<uniform> P: Params;
${binds.join("\n")}
${HELPERS}
${p.decls ?? ""}
@compute @workgroup_size(${p.wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
${p.body}
}
`;
}

/** Packs parameter words: the ints, then the floats, as the Params struct declares them. */
export function params(ints: readonly number[], floats: readonly number[] = []): Uint32Array {
  const words = new Uint32Array(Math.max(4, Math.ceil((ints.length + floats.length) / 4) * 4));
  const f = new Float32Array(words.buffer);
  ints.forEach((v, i) => { words[i] = v >>> 0; });
  floats.forEach((v, i) => { f[ints.length + i] = v; });
  return words;
}
