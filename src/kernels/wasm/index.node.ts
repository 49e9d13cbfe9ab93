/**
 * The wasm backend for Node: createWasmKernels with worker_threads as the pool's workers and physical cores
 * as the default thread count. Everything else is index.ts.
 */

import { nodeWorkerHost } from "./host.node.js";
import { createWasmKernels as createWithHost, type WasmKernels, type WasmKernelsOptions } from "./index.js";

export { MAX_THREADS, WASM_WEIGHT_TYPES, type WasmKernels, type WasmKernelsOptions } from "./index.js";
export { physicalCores } from "./host.node.js";

export function createWasmKernels(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
  return createWithHost({ ...opts, host: opts.host ?? nodeWorkerHost });
}
