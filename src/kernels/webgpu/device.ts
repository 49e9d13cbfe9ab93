/**
 * Finding a WebGPU device: the caller's `Gpu` object (Dawn's in Node), else the browser's `navigator.gpu`.
 * Asks for the adapter's own storage and buffer limits (the defaults, 128 MiB bindings, would refuse the
 * embedding table of most models) and for `shader-f16` where the adapter has it (`hasF16`), though no shader
 * uses it yet: the only adapter CI has, Chromium's SwiftShader, does not offer it, so an f16 variant could not
 * be tested, and every shader decodes f16 from u32 words instead (wgsl.ts). When nothing answers, the
 * error lists every place tried and what each said. Does not pick between several adapters: the first the
 * platform offers for "high-performance" is taken.
 */

import { PeelError } from "../../util/errors.js";
import type { Gpu, GpuAdapter, GpuDevice } from "./gpu-types.js";

export interface WebGpuDeviceInfo {
  readonly device: GpuDevice;
  /** Where the adapter came from and what it says it is, for messages and benchmarks. */
  readonly description: string;
  readonly hasF16: boolean;
}

function navigatorGpu(): Gpu | undefined {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  const gpu = nav?.gpu;
  return typeof gpu === "object" && gpu !== null && "requestAdapter" in gpu ? gpu as Gpu : undefined;
}

function adapterName(a: GpuAdapter): string {
  const i = a.info;
  const parts = [i?.vendor, i?.architecture, i?.description].filter((s): s is string => typeof s === "string" && s.length > 0);
  return parts.length > 0 ? parts.join(" ") : "unnamed adapter";
}

/** A device on the first adapter found; throws UNSUPPORTED naming each place tried and what it answered. */
export async function requestWebGpuDevice(gpu?: Gpu): Promise<WebGpuDeviceInfo> {
  const tried: string[] = [];
  const candidates: [string, Gpu | undefined][] = gpu !== undefined ? [[gpu.peelSource ?? "the given GPU object", gpu]] : [["navigator.gpu", navigatorGpu()]];
  for (const [where, g] of candidates) {
    if (g === undefined) { tried.push(`${where}: not present`); continue; }
    let adapter: GpuAdapter | null;
    try {
      adapter = await g.requestAdapter({ powerPreference: "high-performance" });
    } catch (e) {
      tried.push(`${where}: requestAdapter threw ${(e as Error).message}`);
      continue;
    }
    if (adapter === null) { tried.push(`${where}: requestAdapter returned no adapter`); continue; }
    const hasF16 = adapter.features.has("shader-f16");
    const lim = adapter.limits;
    try {
      const device = await adapter.requestDevice({
        requiredLimits: { maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize, maxBufferSize: lim.maxBufferSize },
        requiredFeatures: hasF16 ? ["shader-f16"] : [],
      });
      return { device, description: `${where}: ${adapterName(adapter)}`, hasF16 };
    } catch (e) { // an adapter that will not open a device (lost, or refusing its own limits) is as good as none
      tried.push(`${where}: ${adapterName(adapter)} refused a device (${(e as Error).message})`);
    }
  }
  throw new PeelError("UNSUPPORTED", `webgpu: no WebGPU adapter found; tried ${tried.join("; ")}. ` +
    "In a browser, use one with WebGPU enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu); in Node, pass " +
    "a GPU object (e.g. the `webgpu` package's create([])) as `gpu`, or use the wasm backend");
}
