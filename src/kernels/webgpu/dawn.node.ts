/**
 * WebGPU in Node: the `webgpu` npm package (Dawn) when it is installed, else undefined. Peel does not depend on
 * it (a native module, and it needs a Vulkan, Metal or D3D12 driver: on Linux without a GPU, Mesa's lavapipe
 * from `mesa-vulkan-drivers`); install it beside Peel to use `--backend webgpu` in Node.
 */

import type { Gpu } from "./gpu-types.js";

interface DawnModule { create(flags: string[]): Gpu; globals?: Record<string, unknown> }

/** Dawn's GPU object, or undefined (the device request then reports that nothing was found). */
export async function nodeGpu(): Promise<Gpu | undefined> {
  const name = "webgpu"; // a variable, so bundlers and TypeScript leave the optional import alone
  try {
    const mod = await import(name) as DawnModule;
    if (mod.globals !== undefined) Object.assign(globalThis, mod.globals); // GPUBufferUsage and friends
    return mod.create([]);
  } catch {
    return undefined;
  }
}
