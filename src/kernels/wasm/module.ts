/**
 * Loads the compiled kernels (the base64 bytes that scripts/build-wasm.mjs embeds) and instantiates them on a
 * shared WebAssembly.Memory. The compiled module is cached per process, so several backends (and, later,
 * worker threads given the same Module and Memory) pay for compilation once. Browser-safe: no fs, no fetch.
 * It does not allocate buffers (heap.ts) or know what the kernels compute (index.ts).
 */

import { PeelError } from "../../util/errors.js";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.gen.js";

type Fn = (...args: number[]) => number;

/** The module's exports, named as in wasm/index.ts; every pointer is a byte offset into the shared memory. */
export interface WasmExports {
  readonly heapBase: () => number;
  readonly quantizeQ8: Fn;
  readonly quantizeQ8K: Fn;
  readonly roundRowsF16: Fn;
  readonly roundRowsBF16: Fn;
  readonly q8RowBytes: Fn;
  readonly q8kRowBytes: Fn;
  readonly matmulF32: Fn;
  readonly matmulF16: Fn;
  readonly matmulBF16: Fn;
  readonly matmulLegacy: Fn;
  readonly matmulKQuant: Fn;
  readonly matmulKQuantExact: Fn;
  readonly q8kToF32: Fn;
  readonly rmsNorm: Fn;
  readonly layerNorm: Fn;
  readonly rope: Fn;
  readonly swiglu: Fn;
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

const EXPORT_NAMES: ReadonlyArray<keyof WasmExports> = ["heapBase", "quantizeQ8", "quantizeQ8K", "roundRowsF16",
  "roundRowsBF16", "q8RowBytes", "q8kRowBytes", "matmulF32", "matmulF16", "matmulBF16", "matmulLegacy", "matmulKQuant", "matmulKQuantExact", "q8kToF32",
  "rmsNorm", "rope", "swiglu", "addInPlace", "softmax", "storeF16", "attention", "attentionScratchFloats", "transposeF32",
  "gelu", "geluBackward", "swigluBackward", "layerNorm", "addBias", "geluRounded"];

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled kernels module (compiled once per process). */
export function kernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64)).catch((e: unknown) => {
    compiled = undefined;
    throw new PeelError("UNSUPPORTED", `kernels(wasm): this runtime cannot compile the kernels (WebAssembly SIMD and threads are required): ${String(e)}`);
  });
  return compiled;
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

/** Instantiates the kernels on `memory`. */
export async function instantiateKernels(memory: WebAssembly.Memory): Promise<WasmExports> {
  return instantiateModule(await kernelsModule(), memory);
}

/** Instantiates an already compiled kernels module on `memory` (what each worker of the thread pool does). */
export async function instantiateModule(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WasmExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return parseExports(instance.exports);
}
