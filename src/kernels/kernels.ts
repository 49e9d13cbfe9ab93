/**
 * The Kernels interface: every piece of math the model does, as plain functions over typed arrays.
 * Backends (the readable TypeScript reference in ts/, later WebAssembly in wasm/) implement it; model/ only
 * calls it. Buffers come from the backend (`allocF32`, `prepareWeight`, `allocKv`) so a backend that
 * computes in its own memory (wasm) can own weights, activations and the KV cache.
 * Conventions: output first, sizes explicit, shapes in comments (outermost-first), no allocation per call.
 * Knows nothing of models: no layer, head or tensor names here beyond generic shape words.
 */

import type { DType } from "../tensor/dtype.js";
import { PeelError } from "../util/errors.js";

/** A 2-D weight matrix kept in its storage type: `rows` output units, each `cols` contiguous elements. */
export interface WeightMatrix {
  readonly dtype: DType;
  readonly rows: number;
  readonly cols: number;
  /** (rows, cols) in `dtype` blocks, laid out as `layout` says; rows are whole numbers of blocks. */
  readonly data: Uint8Array;
  /**
   * How the blocks are ordered in `data` (absent: "gguf"). "gguf": row after row, each row's blocks in order,
   * as in the file. "q4_0x4" (the wasm backend's relaxed build, Q4_0 with rows a multiple of 4) and "q8_0x4"
   * (the wasm backend, Q8_0, rows a multiple of 4): rows in groups of four, the group's blocks interleaved
   * block by block (wasm/matmul-legacy-x4.ts); "q4_Kx4" (relaxed build, Q4_K, rows a multiple of 4) the same
   * per super-block, its 6-bit scales packed again (wasm/matmul-kquants-x4.ts), and "q6_Kx4" (Q6_K) the same
   * (wasm/matmul-q6k-x4.ts). Same size in all, the same bytes but for q4_Kx4's scales; only the backend that
   * made it reads it, and
   * readers of GGUF rows call requireGgufLayout first.
   */
  readonly layout?: WeightLayout;
}

/** Block orders of a WeightMatrix's bytes (WeightMatrix.layout). */
export type WeightLayout = "gguf" | "q4_0x4" | "q8_0x4" | "q4_Kx4" | "q6_Kx4";

/** Throws when w's bytes are not in GGUF row order (a backend's repacked weight handed to a GGUF-row reader). */
export function requireGgufLayout(w: WeightMatrix, reader: string): void {
  const layout = w.layout ?? "gguf";
  if (layout !== "gguf") {
    throw new PeelError("INVALID_ARGUMENT", `${reader}: expected a ${w.dtype} ${w.rows}x${w.cols} weight in GGUF row order, found the ` +
      `"${layout}" layout (repacked by the wasm backend's prepareWeight); pass weights prepared by this backend, or read rows through the backend that prepared them`);
  }
}

/** Storage of the KV cache: F16 halves memory and matches llama.cpp's default; F32 is exact. */
export type KvDType = "F32" | "F16";

/** One layer's keys or values: (seqLen, kvDim) in `dtype`. */
export interface KvBuffer {
  readonly dtype: KvDType;
  readonly data: Float32Array | Uint16Array;
  readonly seqLen: number;
  readonly kvDim: number;
}

export type RopeStyle = "normal" | "neox";

/** Everything RoPE needs besides the data: per-pair inverse frequencies already include scaling. */
export interface RopeSpec {
  readonly style: RopeStyle;
  /** Rotated dims per head (≤ headDim); the rest pass through. */
  readonly nRot: number;
  /** (nRot / 2): angle of pair i at position p is p · invFreq[i] (absent `thetaScale`). */
  readonly invFreq: Float32Array;
  /**
   * llama.cpp's f32 recurrence for the same angles, which backends follow when it is given: θ₀ = f32(p), then
   * θᵢ₊₁ = f32(θᵢ · thetaScale) with thetaScale = powf(base, −2/nRot); pair i turns by f32(f32(θᵢ / factors[i]) ·
   * freqScale). Its angles differ from p · invFreq[i] in the last bits, and those bits reach q and k.
   */
  readonly thetaScale?: number;
  readonly freqScale?: number;
  /** Per-pair divisors (rope_freqs or llama3 scaling), absent: 1. */
  readonly factors?: Float32Array;
}

export interface AttentionShape {
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** Multiplier on q·k before softmax (1/sqrt(headDim) for Llama; 1 where the model scaled q itself). */
  readonly scale: number;
  /**
   * Soft cap on the raw scores, before `scale`: s ← cap · tanh(s / cap) (Gemma 2). 0 or absent: none.
   * Computed as llama.cpp's three f32 steps: s · (1/cap), tanh, · cap.
   */
  readonly softcap?: number;
  /** Sliding window: a query at position p sees keys max(0, p − window + 1)..p. 0 or absent: every earlier key. */
  readonly window?: number;
  /**
   * Position held by cache row 0: a sliding-window layer's cache keeps only its recent rows, so position p
   * sits in row p − kvStart. 0 or absent: row = position.
   */
  readonly kvStart?: number;
  /** Flash attention numerics (FlashVariant); absent: the standard path. */
  readonly flash?: FlashVariant;
  /**
   * false: bidirectional attention (encoders such as BERT): every token of the call sees every cached position
   * up to the call's last, startPos + nTokens − 1, later ones included. Default true: causal. `window` applies
   * to causal attention only.
   */
  readonly causal?: boolean;
  /**
   * Bidirectional attention only: every query sees cache rows 0..keys − 1, whatever its position (cross-attention
   * over another sequence's keys, such as an encoder's output). Absent: startPos + nTokens.
   */
  readonly keys?: number;
  /**
   * Bidirectional attention only: (nTokens, 2) cache-row ranges, query t seeing rows keyRanges[2t]..keyRanges[2t + 1]
   * − 1 and no others, as a sequence of its own (its positions count from the range's first row, where flash
   * tiles then align). Several sequences packed into one call, each query over its own sequence's keys only
   * (embed's batches). Absent: every query sees the rows `keys` or startPos + nTokens gives.
   */
  readonly keyRanges?: Int32Array;
  /**
   * A learned bias added to each score by the relative position of key and query (T5's relative attention
   * bias): (nHeads, 2·span + 1), head h's bias for key position j and query position p at
   * [h · (2·span + 1) + clamp(j − p, −span, span) + span]. Added to the raw score (after any soft cap, before
   * `scale`), as llama.cpp adds its kq_b. Absent: none.
   */
  readonly positionBias?: { readonly table: Float32Array; readonly span: number };
}

/**
 * Flash attention as llama.cpp's CPU backend computes it (an online softmax over the keys, no score row):
 *  - "vec": its one-query-row kernel, taken for micro-batches of fewer than 64 queries (decode): q rounded to
 *    f16 against f16 keys, the running value sum kept in f16 (rounded after every key) when values are f16.
 *  - "tiled": its kernel for micro-batches of 64 queries or more (prefill): 64-key tiles, f32 throughout
 *    (q and the weights are not rounded).
 * The standard path (no flash) takes the softmax of a whole score row and rounds the normalized weights to f16
 * against f16 values, as llama.cpp's non-flash graph does.
 */
export type FlashVariant = "vec" | "tiled";

/** Queries per micro-batch from which llama.cpp's CPU flash attention takes its tiled kernel (GGML_FA_TILE_Q). */
export const FLASH_TILE_QUERIES = 64;
/** Keys per tile of the tiled kernel (GGML_FA_TILE_KV): its online softmax rescales at these boundaries. */
export const FLASH_TILE_KEYS = 64;

/** Operands of matmulF32 given transposed. */
export interface MatmulF32Layout {
  /** w is (cols, rows) instead of (rows, cols). */
  readonly wTransposed?: boolean;
  /** x is (cols, nTokens) instead of (nTokens, cols). */
  readonly xTransposed?: boolean;
}

export interface Kernels {
  readonly name: string;

  /** A zeroed activation buffer of `n` floats that this backend can compute in. */
  allocF32(n: number): Float32Array;
  /** Adopts a weight matrix; may copy its bytes into backend memory. Throws UNSUPPORTED for types it lacks. */
  prepareWeight(dtype: DType, rows: number, cols: number, data: Uint8Array): WeightMatrix;
  /** A zeroed KV buffer of (seqLen, kvDim). */
  allocKv(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer;

  /** out (nTokens, w.rows) = x (nTokens, w.cols) · wᵀ, with activations rounded as llama.cpp's CPU dot products do. */
  matmul(out: Float32Array, w: WeightMatrix, x: Float32Array, nTokens: number): void;
  /**
   * outs[i] (nTokens, ws[i].rows) = x · ws[i]ᵀ for matrices that read the same input (q/k/v, gate/up): the
   * values matmul gives each, computed as one step where the backend can (the activations rounded once, one
   * thread-pool job instead of one per matrix). All ws[i].cols are equal.
   */
  matmulShared(outs: readonly Float32Array[], ws: readonly WeightMatrix[], x: Float32Array, nTokens: number): void;
  /**
   * out (nTokens, rows) = x (nTokens, cols) · wᵀ for plain f32 matrices, exact f32 products (no activation
   * rounding): training's forward and backward products. Any Float32Arrays; a backend stages foreign ones.
   * `layout` says an operand is held transposed (w as (cols, rows), x as (cols, nTokens)), so backward
   * passes need not transpose in JavaScript.
   */
  matmulF32(out: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number, nTokens: number, layout?: MatmulF32Layout): void;
  /** out (nTokens, table.cols) = rows `ids` of `table`, dequantized. */
  embedRows(out: Float32Array, table: WeightMatrix, ids: ArrayLike<number>, nTokens: number): void;
  /** out (nTokens, dim) = x / rms(x) · weight, per row. */
  rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number, nTokens: number, dim: number): void;
  /**
   * out (nTokens, dim) = (x − mean(x)) / sqrt(var(x) + eps) · weight + bias, per row: LayerNorm as ggml_norm
   * followed by llama.cpp's separate gain multiply and bias add.
   */
  layerNorm(out: Float32Array, x: Float32Array, weight: Float32Array, bias: Float32Array, eps: number, nTokens: number, dim: number): void;
  /** Rotates x (nTokens, nHeads, headDim) in place by position. */
  rope(x: Float32Array, positions: Int32Array, nTokens: number, nHeads: number, headDim: number, spec: RopeSpec): void;
  /** Writes src (nTokens, kvDim) into rows row.. of dst, converting to its storage type. */
  storeKv(dst: KvBuffer, src: Float32Array, row: number, nTokens: number): void;
  /**
   * Causal attention for tokens at positions startPos..startPos+nTokens-1 over the cached positions 0..pos (or
   * the last `shape.window` of them), position p in cache row p − shape.kvStart. out, q: (nTokens, nHeads,
   * headDim). scratch: ≥ startPos + nTokens floats. probs (optional tap): (nTokens, nHeads, startPos + nTokens)
   * softmax weights by position, zero where masked (always the standard path's weights).
   */
  attention(out: Float32Array, q: Float32Array, k: KvBuffer, v: KvBuffer, startPos: number, nTokens: number,
    shape: AttentionShape, scratch: Float32Array, probs?: Float32Array): void;
  /** out (n) = max(x, 0) (ggml_relu). */
  relu(out: Float32Array, x: Float32Array, n: number): void;
  /** out (n) = silu(gate) · up. */
  swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  /** out (n) = gelu(gate) · up, gelu as `geluRounded` computes it (ggml's CPU GeGLU uses the same f16 table). */
  geglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void;
  /** x (n) ← x · s, each product rounded to f32 (ggml_scale). */
  scale(x: Float32Array, s: number, n: number): void;
  /** x (n) ← cap · tanh(x / cap), as llama.cpp's three f32 steps: x · (1/cap), tanh, · cap. */
  softcap(x: Float32Array, cap: number, n: number): void;
  /**
   * out (n) = gelu(x) as llama.cpp's CPU backend computes it at inference: x rounded to f16, then a table of
   * f16 results of the tanh formula (x ≤ −10 gives 0, x ≥ 10 gives x). Inference.
   */
  geluRounded(out: Float32Array, x: Float32Array, n: number): void;
  /** out (n) = gelu(x), tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2, ggml). Training. */
  gelu(out: Float32Array, x: Float32Array, n: number): void;
  /** dx (n) += dy · gelu'(x). Training. */
  geluBackward(dx: Float32Array, x: Float32Array, dy: Float32Array, n: number): void;
  /** dGate (n) += dy · up · silu'(gate), dUp (n) += dy · silu(gate): SwiGLU's backward. Training. */
  swigluBackward(dGate: Float32Array, dUp: Float32Array, gate: Float32Array, up: Float32Array, dy: Float32Array, n: number): void;
  /** acc (n) += x. */
  addInPlace(acc: Float32Array, x: Float32Array, n: number): void;
  /** x (nTokens, dim) += bias (dim), on every row. */
  addBias(x: Float32Array, bias: Float32Array, nTokens: number, dim: number): void;
  /** x (n) ← softmax(x) in place. */
  softmax(x: Float32Array, n: number): void;

  /**
   * True for a backend that computes off the CPU (webgpu): kernel calls only record work, and the host arrays
   * it hands out (allocF32, allocKv) hold current values only after `readback`. Absent (ts, wasm): every array
   * is current as soon as a kernel returns.
   */
  readonly deferred?: boolean;
  /**
   * A deferred backend's one sync point: waits for the recorded work and copies the current values of these
   * arrays (and of any foreign output arrays kernels were given) into their host copies.
   */
  readback?(arrays: readonly Float32Array[]): Promise<void>;
  /**
   * A deferred backend's copy of data's first n values as they stand at this point of the recorded work (a tap
   * of a trace): a new host array, filled at the next `readback`.
   */
  snapshot?(data: Float32Array, n: number): Float32Array;
  /**
   * Moves `rows` rows of a KV buffer from row `from` to row `to` (a sliding-window layer's cache keeping its
   * recent rows: kv-cache.ts makeRoom). Needed where the cache is not in host memory (webgpu); absent: the
   * model moves the host array itself.
   */
  copyKvRows?(buf: KvBuffer, from: number, to: number, rows: number): void;
  /** Releases what the backend holds beyond memory (the wasm backend's worker threads); optional. */
  dispose?(): Promise<void>;
  /**
   * Optional early check before a model's weights are adopted one by one: throws UNSUPPORTED naming the
   * model's weight size and the backend's limit when they cannot fit (the wasm backend's 4 GiB address space).
   */
  reserveWeights?(totalBytes: number, modelDescription: string): void;
  /**
   * Optional: `bytes` of the backend's own weight storage, for a loader to read a tensor straight into, so
   * the weights are never held twice (prepareWeight then adopts the bytes without copying). `what` names
   * the tensor in an out-of-memory error.
   */
  allocWeightBytes?(bytes: number, what: string): Uint8Array;
}

/** The argument checks of Kernels.matmulShared, the same in every backend: one output per matrix, equal cols. */
export function checkShared(backend: string, outs: readonly Float32Array[], ws: readonly WeightMatrix[]): void {
  if (outs.length !== ws.length || ws.length === 0) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(${backend}): matmulShared needs one output per matrix, got ${outs.length} outputs for ${ws.length} matrices`);
  }
  const cols = (ws[0] as WeightMatrix).cols;
  for (const w of ws) {
    if (w.cols !== cols) throw new PeelError("INVALID_ARGUMENT", `kernels(${backend}): matmulShared needs matrices of equal cols, got ${cols} and ${w.cols}`);
  }
}
