// The webgpu backend's typed errors, in Node without any GPU: no adapter (each place tried named), a buffer
// over the adapter's limits (limit and tensor named, in the runtime and through loadModel), the GPU out of memory, a lost device (DEVICE_LOST on the next call), and the
// sync-only session API refused on a deferred backend. A fake device stands in for WebGPU: these paths run
// before any shader would.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { requestWebGpuDevice } from "./device.js";
import type { Gpu, GpuAdapter, GpuBuffer, GpuDevice, GpuDeviceLostInfo } from "./gpu-types.js";
import { createRuntime } from "./runtime.js";

/** popErrors: what successive popErrorScope calls answer (then null), as WebGPU pops the newest scope first. */
function fakeDevice(limits: { storage: number; buffer: number }, lost: Promise<GpuDeviceLostInfo>, popErrors: ({ message: string } | null)[] = []): GpuDevice {
  const buffer = (size: number): GpuBuffer => ({ size, mapAsync: async () => undefined, getMappedRange: () => new ArrayBuffer(size), unmap: () => undefined, destroy: () => undefined });
  const unused = (): never => { throw new Error("not used by these tests"); };
  return {
    limits: { maxStorageBufferBindingSize: limits.storage, maxBufferSize: limits.buffer, maxComputeWorkgroupsPerDimension: 65535,
      minStorageBufferOffsetAlignment: 256, minUniformBufferOffsetAlignment: 256 },
    features: new Set(),
    queue: { submit: () => undefined, writeBuffer: () => undefined, onSubmittedWorkDone: async () => undefined },
    lost,
    createBuffer: (d) => buffer(d.size),
    createShaderModule: unused, createComputePipeline: unused, createBindGroup: unused, createCommandEncoder: unused,
    pushErrorScope: () => undefined, popErrorScope: async () => popErrors.shift() ?? null, destroy: () => undefined,
  };
}

test("webgpu: no adapter is UNSUPPORTED and lists what was tried", async () => {
  await assert.rejects(requestWebGpuDevice(), (e: unknown) =>
    e instanceof PeelError && e.code === "UNSUPPORTED" && /navigator\.gpu: not present/.test(e.message) && /wasm backend/.test(e.message));
  const none: Gpu = { requestAdapter: async () => null };
  await assert.rejects(requestWebGpuDevice(none), (e: unknown) =>
    e instanceof PeelError && e.code === "UNSUPPORTED" && /the given GPU object: requestAdapter returned no adapter/.test(e.message));
  const throws: Gpu = { requestAdapter: async () => { throw new Error("Vulkan: no ICD found"); } };
  await assert.rejects(requestWebGpuDevice(throws), (e: unknown) => e instanceof PeelError && /requestAdapter threw Vulkan: no ICD found/.test(e.message));
  const refuses: Gpu = { requestAdapter: async () => ({ limits: fakeDevice({ storage: 1, buffer: 1 }, new Promise(() => undefined)).limits, features: new Set(),
    info: { vendor: "acme", architecture: "x1" }, requestDevice: async () => { throw new Error("OperationError: device lost during creation"); } }) };
  await assert.rejects(requestWebGpuDevice(refuses), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
    /the given GPU object: acme x1 refused a device \(OperationError: device lost during creation\)/.test(e.message));
});

test("webgpu: a buffer over maxStorageBufferBindingSize or maxBufferSize names the limit and what needed it", () => {
  const rt = createRuntime(fakeDevice({ storage: 1 << 20, buffer: 4 << 20 }, new Promise(() => undefined)), "webgpu");
  assert.ok(rt.createStorage(1 << 20, "fits exactly"));
  assert.throws(() => rt.createStorage((1 << 20) + 16, "a Q8_0 weight matrix of (32000, 4096)"), (e: unknown) =>
    e instanceof PeelError && e.code === "UNSUPPORTED" && /maxStorageBufferBindingSize of 1048576/.test(e.message) && /Q8_0 weight matrix of \(32000, 4096\)/.test(e.message));
  const rt2 = createRuntime(fakeDevice({ storage: 8 << 20, buffer: 2 << 20 }, new Promise(() => undefined)), "webgpu");
  assert.throws(() => rt2.createStorage(3 << 20, "the KV cache"), (e: unknown) => e instanceof PeelError && /maxBufferSize of 2097152/.test(e.message));
});

test("webgpu: after the device is lost every call throws DEVICE_LOST saying how to continue on the CPU", async () => {
  let lose: (info: GpuDeviceLostInfo) => void = () => undefined;
  const rt = createRuntime(fakeDevice({ storage: 1 << 20, buffer: 1 << 20 }, new Promise((ok) => { lose = ok; })), "webgpu");
  assert.ok(rt.createStorage(64, "before"));
  lose({ reason: "unknown", message: "GPU process crashed" });
  await new Promise((ok) => setTimeout(ok, 0));
  assert.throws(() => rt.createStorage(64, "after"), (e: unknown) =>
    e instanceof PeelError && e.code === "DEVICE_LOST" && /GPU process crashed/.test(e.message) && /backend "wasm"/.test(e.message));
  await assert.rejects(rt.readback([]), (e: unknown) => e instanceof PeelError && e.code === "DEVICE_LOST");
});

test("webgpu: the GPU out of memory (each buffer under the limits) is UNSUPPORTED at the next readback, not a validation bug", async () => {
  // an allocation the GPU could not make (the message is made up), and the invalid buffer it leaves; the scope popped first is the out-of-memory one
  const rt = createRuntime(fakeDevice({ storage: 1 << 20, buffer: 1 << 20 }, new Promise(() => undefined),
    [{ message: "Out of memory: failed to allocate 805306368 bytes" }, { message: "Invalid Buffer" }]), "webgpu");
  rt.createStorage(1 << 20, "a Q8_0 weight matrix of (32000, 4096)");
  await assert.rejects(rt.readback([]), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
    /the GPU ran out of memory \(Out of memory: failed to allocate 805306368 bytes\)/.test(e.message) && /wasm backend/.test(e.message));
  const ok = createRuntime(fakeDevice({ storage: 1 << 20, buffer: 1 << 20 }, new Promise(() => undefined), [null, { message: "Invalid Buffer" }]), "webgpu");
  await assert.rejects(ok.readback([]), (e: unknown) => !(e instanceof PeelError) && /validation error \(a bug in Peel's webgpu backend\): Invalid Buffer/.test((e as Error).message));
});

test("webgpu: loadModel with backend webgpu where Node has no WebGPU is UNSUPPORTED before reading weights into a GPU", async () => {
  const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const { randomLlamaGguf } = await import("../../../test/fixtures/random-llama.js");
  const { loadModel } = await import("../../model/load.node.js");
  const dir = mkdtempSync(join(tmpdir(), "peel-webgpu-none-"));
  try {
    const path = join(dir, "m.gguf");
    writeFileSync(path, randomLlamaGguf({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 4, weightType: "F32", tied: true, seed: 1, vocabSize: 300 }));
    await assert.rejects(loadModel(path, { backend: "webgpu" }), (e: unknown) =>
      e instanceof PeelError && e.code === "UNSUPPORTED" && /no WebGPU adapter found; tried Node's `webgpu` package \(Dawn\): requestAdapter threw not installed/.test(e.message));
    await assert.rejects(loadModel(path, { backend: "webgpu", threads: 2 }), (e: unknown) =>
      e instanceof PeelError && e.code === "INVALID_ARGUMENT" && /threads are for the wasm backend/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("webgpu: loading a model whose embedding table is over the adapter's binding limit names the tensor and the limit", async () => {
  const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const { randomLlamaGguf } = await import("../../../test/fixtures/random-llama.js");
  const { loadModel } = await import("../../model/load.node.js");
  // F32, dim 32: token_embd is 300·32·4 = 38400 bytes, every block matrix at most 64·32·4 = 8192; a 16 KiB limit
  // refuses the table alone
  const limit = 16384;
  const adapter: GpuAdapter = {
    limits: { maxStorageBufferBindingSize: limit, maxBufferSize: 1 << 20, maxComputeWorkgroupsPerDimension: 65535,
      minStorageBufferOffsetAlignment: 256, minUniformBufferOffsetAlignment: 256 },
    features: new Set(),
    info: { vendor: "fake", architecture: "small-limits" },
    requestDevice: async () => fakeDevice({ storage: limit, buffer: 1 << 20 }, new Promise(() => undefined)),
  };
  const gpu: Gpu = { peelSource: "a test GPU", requestAdapter: async () => adapter };
  const dir = mkdtempSync(join(tmpdir(), "peel-webgpu-limit-"));
  try {
    const path = join(dir, "m.gguf");
    writeFileSync(path, randomLlamaGguf({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 4, weightType: "F32", tied: true, seed: 1, vocabSize: 300 }));
    await assert.rejects(loadModel(path, { backend: "webgpu", gpu }), (e: unknown) =>
      e instanceof PeelError && e.code === "UNSUPPORTED" && /tensor "token_embd\.weight"/.test(e.message) &&
      /needs a GPU buffer of 38400 bytes, over this adapter's maxStorageBufferBindingSize of 16384 bytes/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
