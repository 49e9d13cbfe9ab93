/**
 * The small part of the WebGPU API this backend uses, typed structurally, so that Peel compiles without the
 * DOM's WebGPU declarations (not in TypeScript's lib yet) and accepts any implementation of the standard
 * API: a browser's `navigator.gpu` or Dawn's object from the `webgpu` npm package in Node. Usage and map-mode
 * bits are the standard's numeric constants (GPUBufferUsage, GPUMapMode), named here once.
 */

export const BUFFER_USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;

export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly minStorageBufferOffsetAlignment: number;
}

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuBufferBinding { readonly buffer: GpuBuffer; readonly offset?: number; readonly size?: number }
export interface GpuBindGroupEntry { readonly binding: number; readonly resource: GpuBufferBinding }

export interface GpuComputePass {
  setPipeline(p: GpuComputePipeline): void;
  setBindGroup(index: number, group: GpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  finish(): GpuCommandBuffer;
}

// opaque handles
export interface GpuCommandBuffer { readonly __brand?: "GPUCommandBuffer" }
export interface GpuBindGroup { readonly __brand?: "GPUBindGroup" }
export interface GpuBindGroupLayout { readonly __brand?: "GPUBindGroupLayout" }
export interface GpuShaderModule {
  getCompilationInfo?(): Promise<{ readonly messages: readonly { readonly type: string; readonly message: string; readonly lineNum: number }[] }>;
}
export interface GpuComputePipeline { getBindGroupLayout(index: number): GpuBindGroupLayout }

export interface GpuQueue {
  submit(buffers: readonly GpuCommandBuffer[]): void;
  writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void;
  onSubmittedWorkDone(): Promise<void>;
}

export interface GpuDeviceLostInfo { readonly reason: string; readonly message: string }

export interface GpuDevice {
  readonly limits: GpuLimits;
  readonly features: ReadonlySet<string>;
  readonly queue: GpuQueue;
  readonly lost: Promise<GpuDeviceLostInfo>;
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): GpuBuffer;
  createShaderModule(desc: { code: string; label?: string }): GpuShaderModule;
  createComputePipeline(desc: { layout: "auto"; compute: { module: GpuShaderModule; entryPoint: string }; label?: string }): GpuComputePipeline;
  createBindGroup(desc: { layout: GpuBindGroupLayout; entries: readonly GpuBindGroupEntry[] }): GpuBindGroup;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: "validation" | "out-of-memory" | "internal"): void;
  popErrorScope(): Promise<{ readonly message: string } | null>;
  destroy(): void;
}

export interface GpuAdapter {
  readonly limits: GpuLimits;
  readonly features: ReadonlySet<string>;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
  requestDevice(desc?: { requiredLimits?: Record<string, number>; requiredFeatures?: readonly string[] }): Promise<GpuDevice>;
}

/** `navigator.gpu` or Dawn's `create([])` in Node. */
export interface Gpu {
  /** Where this entry point comes from, for error messages (Peel's own, not part of WebGPU). */
  readonly peelSource?: string;
  requestAdapter(opts?: { powerPreference?: "high-performance" | "low-power" }): Promise<GpuAdapter | null>;
}
