/**
 * Dot products of f16 values in the order llama.cpp's x86 CPU backend adds them (the AVX-512 build without
 * AVX512-FP16 that node-llama-cpp's prebuilt binary runs on this machine), so that a product of f16 weights or
 * f16 cache rows with f16-rounded activations gives llama.cpp's f32 result to the last bit:
 *  - `dotF16Vec`: ggml_vec_dot_f16, used for one token at a time (decode) and for the one-row flash kernel:
 *    64 f32 lanes (four vectors of 16), element i of each 64-element chunk into lane i, then the lanes reduced
 *    as GGML_F32Cx16_REDUCE does; elements past the last whole chunk are added one by one in f64.
 *  - `dotF16Tiled`: llamafile's tinyBLAS (sgemm.cpp), used for two tokens or more when the length is a multiple
 *    of 16: 16 f32 lanes over the whole length, element i into lane i mod 16, then one 16-lane reduction.
 * The 16-lane reduction is _mm512_reduce_add_ps's tree: lane i + lane i+8, then i + i+4, then (0 + 2) + (1 + 3).
 * A product of two f16 values is exact in f32, so adding it in f32 equals the fused multiply-add ggml uses.
 * Inputs are f32 arrays whose values are already f16 (weights widened, activations rounded). Not the order of
 * other builds (AVX2 has 32 lanes of 8; ARM another): equality with those is not claimed.
 */

const f32 = Math.fround;
const VEC_STEP = 64;
const TILE_LANES = 16;
/** Lane sums, reused: a dot product allocates nothing. */
const lanes = new Float32Array(VEC_STEP);

/** _mm512_reduce_add_ps over lanes[0..16): halves of 8, of 4, then (0 + 2) + (1 + 3). Overwrites lanes. */
function reduce16(): number {
  for (let l = 0; l < 8; l++) lanes[l] = f32((lanes[l] as number) + (lanes[l + 8] as number));
  for (let l = 0; l < 4; l++) lanes[l] = f32((lanes[l] as number) + (lanes[l + 4] as number));
  return f32(f32((lanes[0] as number) + (lanes[2] as number)) + f32((lanes[1] as number) + (lanes[3] as number)));
}

/** Σ a[aOff + i] · b[bOff + i] for i < n, as ggml_vec_dot_f16 sums it; an f32 value. */
export function dotF16Vec(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  const np = n - (n % VEC_STEP);
  let sum = 0;
  if (np > 0) {
    lanes.fill(0);
    for (let i = 0; i < np; i += VEC_STEP) {
      for (let l = 0; l < VEC_STEP; l++) {
        lanes[l] = f32((lanes[l] as number) + (a[aOff + i + l] as number) * (b[bOff + i + l] as number));
      }
    }
    // the four 16-lane accumulators (lanes 0–15, 16–31, 32–47, 48–63): (0 + 2) + (1 + 3), lane by lane
    for (let l = 0; l < TILE_LANES; l++) {
      lanes[l] = f32(f32((lanes[l] as number) + (lanes[l + 32] as number)) + f32((lanes[l + 16] as number) + (lanes[l + 48] as number)));
    }
    sum = reduce16();
  }
  for (let i = np; i < n; i++) sum += (a[aOff + i] as number) * (b[bOff + i] as number);
  return f32(sum);
}

/** Σ a[aOff + i] · b[bOff + i] for i < n (a multiple of 16), as tinyBLAS sums it; an f32 value. */
export function dotF16Tiled(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  lanes.fill(0, 0, TILE_LANES);
  for (let i = 0; i < n; i += TILE_LANES) {
    for (let l = 0; l < TILE_LANES; l++) {
      lanes[l] = f32((lanes[l] as number) + (a[aOff + i + l] as number) * (b[bOff + i + l] as number));
    }
  }
  return reduce16();
}

/** Whether llama.cpp multiplies (nTokens tokens) × (length n) f16 operands with tinyBLAS (else ggml_vec_dot_f16). */
export function usesTiledF16(nTokens: number, n: number, rows: number): boolean {
  return nTokens >= 2 && n % TILE_LANES === 0 && rows % 4 === 0;
}
