/**
 * Peel's public API (browser-safe part). Node users import the same names plus `loadModel(path)` from
 * the package root, which resolves to index.node.ts under Node.
 */

export { PeelError, type PeelErrorCode } from "./util/errors.js";
export type { DType } from "./tensor/dtype.js";
export type { Tensor } from "./tensor/tensor.js";

export type { ByteSource } from "./formats/byte-source.js";
export { bytesSource } from "./formats/byte-source.js";

export type { Kernels, KvDType } from "./kernels/kernels.js";
export { createTsKernels } from "./kernels/ts/index.js";
export { createWasmKernels, type WasmKernels, type WasmKernelsOptions } from "./kernels/wasm/index.js";

export type { LlamaConfig, ModelConfig, RopeConfig, RopeScaling } from "./model/config.js";
export type { Model, ModelInfo, TensorSummary } from "./model/model.js";
export { loadModelFromSource, type BackendName, type LoadOptions, type LoadProgress } from "./model/load.js";
export { createTrace, type Trace, type TapName, type TapRecord } from "./model/trace.js";

export * from "./tokenizer/index.js";

export { createSampler, type Sampler, type SamplingOptions } from "./sample/sampler.js";
export { createSession, type Session, type SessionOptions } from "./generate/session.js";
export { generate, type GenerateOptions, type Generation, type GeneratedToken, type FinishReason, type GenerationTimings } from "./generate/generate.js";

export { readSafetensors, readSafetensorsHeader, readSafetensorsTensors, type ReadSafetensorsOptions, type SafetensorsFile } from "./formats/safetensors/read.js";
export { writeSafetensors, type SafetensorsWriteSpec } from "./formats/safetensors/write.js";
export type { SafetensorsHeader, SafetensorsTensorInfo, SafetensorsRawTensor, SafetensorsDType } from "./formats/safetensors/types.js";
