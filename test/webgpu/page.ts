/**
 * The script the WebGPU tests load into headless Chromium (bundled by chromium.ts with esbuild): creates the
 * webgpu backend on the page's navigator.gpu and exposes the suites on `globalThis.peelWebGpu` for
 * page.evaluate to call.
 */

import { createWebGpuKernels, type WebGpuKernels } from "../../src/kernels/webgpu/index.js";
import { runConformance } from "./page-conformance.js";
import { runDeviceLost, runParity, runTraceDiff, type ParityRequest } from "./page-parity.js";
import { runBench, type BenchRequest } from "./page-bench.js";

let kernels: Promise<WebGpuKernels> | undefined;
const backend = (): Promise<WebGpuKernels> => (kernels ??= createWebGpuKernels());

Object.assign(globalThis, {
  peelWebGpu: {
    adapter: async () => (await backend()).adapter,
    conformance: async () => runConformance(await backend()),
    parity: async (req: ParityRequest) => runParity(await backend(), req),
    traceDiff: async (req: ParityRequest) => runTraceDiff(await backend(), req),
    bench: async (req: BenchRequest) => runBench(await backend(), req),
    // its own backend: the test destroys that backend's device
    deviceLost: async (req: ParityRequest) => {
      const uploads: [number, number][] = []; // the progress reports of the weight upload
      const k = await createWebGpuKernels({ onUpload: (done, total) => { uploads.push([done, total]); } });
      return { ...(await runDeviceLost(k, req)), uploads };
    },
  },
});
