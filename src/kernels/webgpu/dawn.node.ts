/**
 * WebGPU in Node: the `webgpu` npm package (Dawn) when it is installed, else undefined. Peel does not depend on
 * it (a native module, and it needs a Vulkan, Metal or D3D12 driver: on Linux without a GPU, Mesa's lavapipe
 * from `mesa-vulkan-drivers`); install it beside Peel to use `--backend webgpu` in Node.
 */

import type { Gpu } from "./gpu-types.js";

interface DawnModule { create(flags: string[]): Gpu; globals?: Record<string, unknown> }

const SOURCE = "Node's `webgpu` package (Dawn)";

/** Dawn's GPU object; where the package is missing, one whose adapter request says so (the error lists it). */
export async function nodeGpu(): Promise<Gpu> {
  const name = "webgpu"; // a variable, so bundlers and TypeScript leave the optional import alone
  let mod: DawnModule;
  try {
    mod = await import(name) as DawnModule;
  } catch {
    return { peelSource: SOURCE, requestAdapter: async () => { throw new Error("not installed (npm install webgpu beside Peel)"); } };
  }
  if (mod.globals !== undefined) Object.assign(globalThis, mod.globals); // GPUBufferUsage and friends
  const gpu = mod.create([]);
  return { peelSource: SOURCE, requestAdapter: (opts) => gpu.requestAdapter(opts) };
}
