/**
 * The WebGPU backend's plumbing: which GPU buffer stands behind each host array, a queue that records kernel
 * dispatches without waiting, and the one asynchronous sync point (`readback`).
 *
 * Host arrays are handles. `allocF32`/`allocKv` return an ordinary typed array (the host copy) and create a
 * GPU buffer for its ArrayBuffer; a kernel given that array, or a subarray of it, binds the GPU buffer with
 * the view's element offset. The GPU copy is the live one: kernels never touch the host copy, which is
 * refreshed only by `readback` (and pushed up only by `write`). Arrays the backend did not allocate are
 * foreign: as inputs they are taken to be constants (norm gains, biases, rope tables: uploaded at first use
 * and cached by identity); as outputs they get a temporary GPU buffer that the next `readback` copies into them.
 *
 * Dispatches go into one command encoder and one compute pass; their parameters (and small per-call data such
 * as token ids and rope angles) go into an upload arena whose host image is written to the GPU just before
 * the encoder is submitted, so nothing is waited for between kernels or layers. `flush` submits; `readback`
 * copies the asked-for buffers to mappable ones, submits and awaits the mapping: the only await in a forward
 * pass. A lost device is remembered and every later call throws DEVICE_LOST.
 */

import { PeelError } from "../../util/errors.js";
import { BUFFER_USAGE, MAP_READ, type GpuBindGroupEntry, type GpuBuffer, type GpuCommandEncoder, type GpuComputePass,
  type GpuComputePipeline, type GpuDevice } from "./gpu-types.js";

type HostArray = Float32Array | Uint16Array | Int32Array | Uint32Array;

/** A bound operand: a GPU buffer and the element (4-byte word) offset of the view within it. */
export interface Bound { readonly buffer: GpuBuffer; readonly offset: number }

/** One storage binding of a dispatch: read-only or written. */
export interface Operand { readonly bound: Bound; readonly write: boolean }

const ARENA_BYTES = 4 << 20;
const SLOT = 256; // minUniformBufferOffsetAlignment and minStorageBufferOffsetAlignment are at most 256

export interface Runtime {
  readonly device: GpuDevice;
  /** A zeroed GPU buffer of `bytes` (rounded up to 4) checked against the adapter's limits; `what` names it in errors. */
  createStorage(bytes: number, what: string): GpuBuffer;
  /** Registers a host array as the handle of `buffer`. */
  register(host: HostArray, buffer: GpuBuffer): void;
  /** The GPU side of an input array (foreign ones uploaded once and cached). */
  input(a: HostArray): Bound;
  /** The GPU side of an output array (foreign ones get a buffer that `readback` copies into them). */
  output(a: Float32Array): Bound;
  /** Per-call data (ids, angles) placed in the upload arena; valid for the dispatches recorded before the next flush. */
  upload(data: Uint32Array | Float32Array | Int32Array): Bound & { readonly bytes: number };
  /** Records one dispatch: uniform parameters (u32 and f32 words), storage operands in binding order 1.., workgroups. */
  dispatch(pipeline: GpuComputePipeline, params: Uint32Array, operands: readonly Operand[], groups: number): void;
  pipeline(key: string, code: () => string): GpuComputePipeline;
  /** Destroys a buffer once the work recorded so far has run (at the next readback). */
  retire(buffer: GpuBuffer): void;
  /** Records a buffer-to-buffer copy (bytes, multiples of 4). */
  copy(src: Bound, dst: Bound, words: number): void;
  /** Submits what is recorded. */
  flush(): void;
  /** Copies the GPU contents of these arrays (and pending foreign outputs) into their host copies. */
  readback(arrays: readonly Float32Array[]): Promise<void>;
  /** A host array that the next readback fills with a's first n values as they stand now in the recorded work. */
  snapshot(a: Float32Array, n: number): Float32Array;
  /** Pushes a registered array's host copy to the GPU (after everything recorded so far). */
  write(a: HostArray): void;
  checkAlive(): void;
  destroy(): void;
}

export function createRuntime(device: GpuDevice, backendName: string): Runtime {
  const limits = device.limits;
  const owned = new Map<ArrayBufferLike, GpuBuffer>();
  const constants = new WeakMap<HostArray, GpuBuffer>();
  const pendingOut: { buffer: GpuBuffer; host: Float32Array }[] = [];
  const arena = device.createBuffer({ size: ARENA_BYTES, usage: BUFFER_USAGE.UNIFORM | BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST, label: "peel upload arena" });
  const arenaHost = new Uint8Array(ARENA_BYTES);
  let arenaUsed = 0;
  let encoder: GpuCommandEncoder | undefined;
  let pass: GpuComputePass | undefined;
  const pipelines = new Map<string, GpuComputePipeline>();
  const transient: GpuBuffer[] = []; // buffers to destroy once the work recorded so far has run
  const stagingPool = new Map<number, GpuBuffer[]>(); // mappable buffers by size, reused across readbacks
  let lost: string | undefined;
  device.lost.then((info) => { lost = `${info.reason}: ${info.message}`; }, () => undefined);
  // a shader or binding mistake is a validation error that WebGPU reports only asynchronously: collect them
  // between sync points and throw at the next readback instead of returning garbage. A buffer the GPU has no
  // memory for (each under the adapter's limits, all together over its memory) is an out-of-memory error,
  // caught in its own scope so it is not reported as a bug: it is the model's size
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  const outOfMemory = (message: string): PeelError => new PeelError("UNSUPPORTED", `${backendName}: the GPU ran out of memory ` +
    `(${message}) for the weights, KV cache or buffers created since the last step; use a smaller or more quantized model, ` +
    "a shorter context, or the wasm backend");

  const checkAlive = (): void => {
    if (lost !== undefined) {
      throw new PeelError("DEVICE_LOST", `${backendName}: the GPU device was lost (${lost}); its buffers, weights and KV cache are gone. ` +
        "Load the model again with backend \"wasm\" (or a new webgpu backend) and evaluate the session's tokens again to continue");
    }
  };
  const enc = (): GpuCommandEncoder => (encoder ??= device.createCommandEncoder());
  const endPass = (): void => { pass?.end(); pass = undefined; };

  const createStorage = (bytes: number, what: string): GpuBuffer => {
    checkAlive();
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > limits.maxStorageBufferBindingSize || size > limits.maxBufferSize) {
      const [name, limit] = size > limits.maxBufferSize ? ["maxBufferSize", limits.maxBufferSize] : ["maxStorageBufferBindingSize", limits.maxStorageBufferBindingSize];
      throw new PeelError("UNSUPPORTED", `${backendName}: ${what} needs a GPU buffer of ${bytes} bytes, over this adapter's ${name} of ${limit} bytes; ` +
        "use a smaller or more quantized model, or the wasm backend");
    }
    return device.createBuffer({ size, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST, label: what });
  };

  const flush = (): void => {
    checkAlive();
    endPass();
    if (arenaUsed > 0) device.queue.writeBuffer(arena, 0, arenaHost, 0, arenaUsed);
    if (encoder !== undefined) device.queue.submit([encoder.finish()]);
    encoder = undefined;
    arenaUsed = 0;
  };

  const reserve = (bytes: number): number => {
    const size = Math.ceil(bytes / SLOT) * SLOT;
    if (size > ARENA_BYTES) throw new PeelError("UNSUPPORTED", `${backendName}: ${bytes} bytes of per-call data exceed the upload arena of ${ARENA_BYTES} bytes; use a smaller batch`);
    if (arenaUsed + size > ARENA_BYTES) flush();
    const at = arenaUsed;
    arenaUsed += size;
    return at;
  };

  const upload = (data: Uint32Array | Float32Array | Int32Array): Bound & { bytes: number } => {
    const at = reserve(Math.max(data.byteLength, 4));
    arenaHost.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return { buffer: arena, offset: at / 4, bytes: Math.max(data.byteLength, 4) };
  };

  const resolveOwned = (a: HostArray): Bound | undefined => {
    const buffer = owned.get(a.buffer);
    return buffer === undefined ? undefined : { buffer, offset: a.byteOffset / 4 };
  };

  return {
    device,
    createStorage,
    register(host, buffer) { owned.set(host.buffer, buffer); },
    input(a) {
      const b = resolveOwned(a);
      if (b !== undefined) return b;
      let buffer = constants.get(a);
      if (buffer === undefined) {
        buffer = createStorage(a.byteLength, `a constant array of ${a.length} elements`);
        const padded = new Uint8Array(Math.ceil(a.byteLength / 4) * 4);
        padded.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        device.queue.writeBuffer(buffer, 0, padded);
        constants.set(a, buffer);
      }
      return { buffer, offset: 0 };
    },
    output(a) {
      const b = resolveOwned(a);
      if (b !== undefined) return b;
      const buffer = createStorage(a.byteLength, `an output of ${a.length} floats`);
      pendingOut.push({ buffer, host: a });
      return { buffer, offset: 0 };
    },
    upload,
    dispatch(pipeline, params, operands, groups) {
      checkAlive();
      const at = reserve(params.byteLength);
      arenaHost.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), at);
      // WebGPU refuses one buffer bound twice in a dispatch when a binding writes it: read such inputs from a copy
      const written = new Set(operands.filter((o) => o.write).map((o) => o.bound.buffer));
      const binds = operands.map((o) => {
        if (o.write || !written.has(o.bound.buffer)) return o.bound.buffer;
        const copy = createStorage(o.bound.buffer.size, "a copy of an operand that is also written");
        endPass();
        enc().copyBufferToBuffer(o.bound.buffer, 0, copy, 0, o.bound.buffer.size);
        transient.push(copy);
        return copy;
      });
      const entries: GpuBindGroupEntry[] = [{ binding: 0, resource: { buffer: arena, offset: at, size: Math.ceil(params.byteLength / 16) * 16 } }];
      binds.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
      const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      pass ??= enc().beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      const max = limits.maxComputeWorkgroupsPerDimension;
      // shaders number workgroups as y · num_workgroups.x + x and return past `groups`
      if (groups <= max) pass.dispatchWorkgroups(Math.max(groups, 1));
      else pass.dispatchWorkgroups(max, Math.ceil(groups / max));
    },
    pipeline(key, code) {
      let p = pipelines.get(key);
      if (p === undefined) {
        const module = device.createShaderModule({ code: code(), label: key });
        p = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: key });
        pipelines.set(key, p);
      }
      return p;
    },
    retire(buffer) { transient.push(buffer); },
    copy(src, dst, words) {
      checkAlive();
      endPass();
      enc().copyBufferToBuffer(src.buffer, src.offset * 4, dst.buffer, dst.offset * 4, words * 4);
    },
    flush,
    async readback(arrays) {
      checkAlive();
      endPass();
      const jobs: { staging: GpuBuffer; host: Float32Array }[] = [];
      const stage = (src: GpuBuffer, srcOffset: number, host: Float32Array): void => {
        const size = Math.max(256, Math.ceil(host.byteLength / 256) * 256);
        const staging = stagingPool.get(size)?.pop() ?? device.createBuffer({ size, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
        if (host.byteLength > 0) enc().copyBufferToBuffer(src, srcOffset, staging, 0, host.byteLength);
        jobs.push({ staging, host });
      };
      for (const a of arrays) {
        const b = resolveOwned(a);
        if (b !== undefined) stage(b.buffer, b.offset * 4, a);
      }
      const outs = pendingOut.splice(0);
      for (const o of outs) stage(o.buffer, 0, o.host);
      const done = transient.splice(0);
      flush();
      const oomScope = device.popErrorScope(); // pushed last, so popped first
      const scope = device.popErrorScope();
      device.pushErrorScope("validation");
      device.pushErrorScope("out-of-memory");
      try {
        await Promise.all(jobs.map((j) => j.staging.mapAsync(MAP_READ)));
      } catch (e) {
        checkAlive();
        const oom = await oomScope;
        if (oom !== null) throw outOfMemory(oom.message);
        throw e;
      }
      const oom = await oomScope; // before validation: buffers that could not be made also fail validation
      if (oom !== null) throw outOfMemory(oom.message);
      const invalid = await scope;
      if (invalid !== null) throw new Error(`${backendName}: WebGPU validation error (a bug in Peel's webgpu backend): ${invalid.message}`);
      for (const j of jobs) {
        if (j.host.length > 0) j.host.set(new Float32Array(j.staging.getMappedRange(), 0, j.host.length));
        j.staging.unmap();
        const free = stagingPool.get(j.staging.size) ?? [];
        free.push(j.staging); // the logits of the next step need the same size: keep it
        stagingPool.set(j.staging.size, free);
      }
      for (const o of outs) o.buffer.destroy();
      for (const b of done) b.destroy();
    },
    snapshot(a, n) {
      const b = resolveOwned(a);
      if (b === undefined) { // a foreign output is itself filled at the next readback; a foreign input is current
        const pending = pendingOut.find((o) => o.host === a);
        return pending !== undefined ? a.subarray(0, n) : a.slice(0, n);
      }
      const copy = createStorage(n * 4, `a snapshot of ${n} floats`);
      endPass();
      if (n > 0) enc().copyBufferToBuffer(b.buffer, b.offset * 4, copy, 0, n * 4);
      const host = new Float32Array(n);
      pendingOut.push({ buffer: copy, host });
      return host;
    },
    write(a) {
      const b = resolveOwned(a);
      if (b === undefined) throw new PeelError("INVALID_ARGUMENT", `${backendName}: write needs an array from allocF32/allocKv, got a foreign one`);
      flush(); // the kernels recorded so far must see the old contents
      const bytes = new Uint8Array(Math.ceil(a.byteLength / 4) * 4);
      bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      device.queue.writeBuffer(b.buffer, b.offset * 4, bytes);
    },
    checkAlive,
    destroy() {
      for (const b of owned.values()) b.destroy();
      owned.clear();
      for (const list of stagingPool.values()) for (const b of list) b.destroy();
      arena.destroy();
      device.destroy();
    },
  };
}
