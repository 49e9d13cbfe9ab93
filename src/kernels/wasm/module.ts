/**
 * Loads the compiled kernels (the base64 bytes that scripts/build-wasm.mjs embeds) and instantiates them on a
 * shared WebAssembly.Memory. There are two builds of the same sources: "baseline" (128-bit SIMD) and
 * "relaxed" (plus relaxed SIMD: 8-bit dot products and fused multiply-adds), used where the runtime validates
 * relaxed SIMD (relaxedSimdSupported). Each compiled module is cached per process, so several backends (and
 * worker threads given the same Module and Memory) pay for compilation once. Browser-safe: no fs, no fetch.
 * The same compiled module is instantiated once per memory: a model over 4 GiB spreads its weights over
 * several 32-bit memories (shards.ts), not one memory64, which Node 20 validates only behind
 * --experimental-wasm-memory64 and which would need a second, 64-bit-pointer build of every kernel.
 * It does not allocate buffers (heap.ts) or know what the kernels compute (index.ts).
 */

import { PeelError } from "../../util/errors.js";
import { KERNELS_WASM_BASE64, KERNELS_WASM_RELAXED_BASE64 } from "./kernels-wasm.gen.js";

/** Which build of the kernels runs: plain 128-bit SIMD, or with relaxed SIMD. */
export type SimdVariant = "baseline" | "relaxed";

type Fn = (...args: number[]) => number;

/** The module's exports, named as in wasm/index.ts; every pointer is a byte offset into the shared memory. */
export interface WasmExports {
  readonly heapBase: () => number;
  /** Fills the f16 → f32 table below heapBase() (once, by the main thread, before any product). */
  readonly initF16Table: () => void;
  readonly quantizeQ8: Fn;
  readonly quantizeQ8K: Fn;
  readonly roundRowsF16: Fn;
  readonly roundRowsBF16: Fn;
  readonly q8RowBytes: Fn;
  readonly q8kRowBytes: Fn;
  readonly narrowActivations: Fn;
  readonly matmulF32: Fn;
  readonly matmulF16: Fn;
  readonly matmulBF16: Fn;
  readonly matmulFloatScratchBytes: Fn;
  readonly matmulLegacy: Fn;
  readonly legacyScratchBytes: Fn;
  readonly repackQ4x4: Fn;
  readonly matmulQ4x4: Fn;
  readonly repackQ8x4: Fn;
  readonly matmulQ8x4: Fn;
  readonly legacyTileMeta: Fn;
  readonly legacyTileBytes: Fn;
  readonly matmulKQuant: Fn;
  readonly repackQ4Kx4: Fn;
  readonly matmulQ4Kx4: Fn;
  readonly repackQ6Kx4: Fn;
  readonly matmulQ6Kx4: Fn;
  readonly q6Kx4ScratchBytes: Fn;
  readonly kquantTiles: Fn;
  readonly kquantTileBytes: Fn;
  readonly kquadTiles: Fn;
  readonly kquadTileBytes: Fn;
  readonly kquadScratchBytes: Fn;
  readonly wideQuadTiles: Fn;
  readonly wideQuadTileBytes: Fn;
  readonly wideQuadScratchBytes: Fn;
  readonly wideQuadMinTokens: Fn;
  readonly q2kQuadScratchBytes: Fn;
  readonly kquadMinTokens: Fn;
  readonly matmulLowBit: Fn;
  readonly rmsNorm: Fn;
  readonly layerNorm: Fn;
  readonly rope: Fn;
  readonly swiglu: Fn;
  readonly geglu: Fn;
  readonly scaleInPlace: Fn;
  readonly softcap: Fn;
  readonly addInPlace: Fn;
  readonly addBias: Fn;
  readonly geluRounded: Fn;
  readonly softmax: Fn;
  readonly storeF16: Fn;
  readonly attention: Fn;
  readonly attentionScratchFloats: Fn;
  readonly transposeF32: Fn;
  readonly gelu: Fn;
  readonly geluBackward: Fn;
  readonly swigluBackward: Fn;
}

const EXPORT_NAMES: ReadonlyArray<keyof WasmExports> = ["heapBase", "initF16Table", "quantizeQ8", "quantizeQ8K", "roundRowsF16",
  "roundRowsBF16", "q8RowBytes", "q8kRowBytes", "narrowActivations", "matmulF32", "matmulF16", "matmulBF16", "matmulFloatScratchBytes", "matmulLegacy", "legacyScratchBytes", "repackQ4x4", "matmulQ4x4", "repackQ8x4", "matmulQ8x4", "legacyTileMeta", "legacyTileBytes", "matmulKQuant", "repackQ4Kx4", "matmulQ4Kx4", "repackQ6Kx4", "matmulQ6Kx4", "q6Kx4ScratchBytes", "kquantTiles", "kquantTileBytes", "kquadTiles", "kquadTileBytes", "kquadScratchBytes", "kquadMinTokens", "wideQuadTiles", "wideQuadTileBytes", "wideQuadScratchBytes", "wideQuadMinTokens", "q2kQuadScratchBytes", "matmulLowBit",
  "rmsNorm", "rope", "swiglu", "addInPlace", "softmax", "storeF16", "attention", "attentionScratchFloats", "transposeF32",
  "gelu", "geluBackward", "swigluBackward", "layerNorm", "addBias", "geluRounded", "geglu", "scaleInPlace", "softcap"];

const compiled: Partial<Record<SimdVariant, Promise<WebAssembly.Module>>> = {};

/**
 * The smallest module using a relaxed-SIMD instruction: one function returning
 * i32x4.relaxed_dot_i8x16_i7x16_add_s of three zero vectors (opcode 0xfd 0x113).
 */
const RELAXED_PROBE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // three v128.const 0
  0xfd, 0x93, 0x02, 0x0b]); // relaxed dot-add, end

/** True when this runtime accepts relaxed SIMD (Node ≥ 22, Chrome ≥ 114, Firefox ≥ 145; Node 20 behind a flag). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * The build to run for WasmKernelsOptions.simd: "baseline" as asked; "auto" and "relaxed" take "relaxed"
 * where the runtime accepts it (after `prepareRuntime`, which may switch it on), and "relaxed" is an
 * UNSUPPORTED error where it does not.
 */
export function chooseSimd(wanted: "auto" | SimdVariant, prepareRuntime?: () => void): SimdVariant {
  if (wanted !== "auto" && wanted !== "baseline" && wanted !== "relaxed") {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): simd must be "auto", "baseline" or "relaxed", got "${String(wanted)}"`);
  }
  if (wanted === "baseline") return "baseline";
  prepareRuntime?.();
  if (relaxedSimdSupported()) return "relaxed";
  if (wanted === "relaxed") {
    throw new PeelError("UNSUPPORTED", "kernels(wasm): this runtime does not accept relaxed SIMD (Node ≥ 22, or Node 20 with " +
      "--experimental-wasm-relaxed-simd, Chrome ≥ 114); use simd: \"auto\" or \"baseline\"");
  }
  return "baseline";
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled kernels module of `variant` (compiled once per process). */
export function kernelsModule(variant: SimdVariant = "baseline"): Promise<WebAssembly.Module> {
  const base64 = variant === "relaxed" ? KERNELS_WASM_RELAXED_BASE64 : KERNELS_WASM_BASE64;
  const p = compiled[variant] ?? WebAssembly.compile(decodeBase64(base64)).catch((e: unknown) => {
    delete compiled[variant];
    const needs = variant === "relaxed" ? "WebAssembly SIMD, relaxed SIMD and threads" : "WebAssembly SIMD and threads";
    throw new PeelError("UNSUPPORTED", `kernels(wasm): this runtime cannot compile the ${variant} kernels (${needs} are required): ${String(e)}`);
  });
  compiled[variant] = p;
  return p;
}

/** A shared memory of `initialPages`, growable to `maxPages`. */
export function createSharedMemory(initialPages: number, maxPages: number): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared: true });
  } catch (e) {
    throw new PeelError("UNSUPPORTED", `kernels(wasm): cannot create a shared WebAssembly.Memory of up to ${maxPages} pages ` +
      `(browsers need cross-origin isolation, i.e. COOP/COEP headers, for shared memory): ${String(e)}`);
  }
}

function parseExports(e: WebAssembly.Exports): WasmExports {
  const out: Partial<Record<keyof WasmExports, Fn>> = {};
  for (const name of EXPORT_NAMES) {
    const f = e[name];
    if (typeof f !== "function") throw new PeelError("FORMAT", `kernels(wasm): the compiled module lacks the export "${name}"; rebuild with npm run build:wasm`);
    out[name] = f as Fn;
  }
  return out as WasmExports;
}

/** Instantiates the `variant` kernels on `memory`. */
export async function instantiateKernels(memory: WebAssembly.Memory, variant: SimdVariant = "baseline"): Promise<WasmExports> {
  return instantiateModule(await kernelsModule(variant), memory);
}

/** Instantiates an already compiled kernels module on `memory` (what each worker of the thread pool does). */
export async function instantiateModule(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WasmExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return parseExports(instance.exports);
}
