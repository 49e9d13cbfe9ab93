/**
 * Peel's public API for Node: everything in index.ts plus loading models from file paths, and
 * createWasmKernels with worker_threads (it shadows the browser one re-exported from index.ts).
 */

export * from "./index.js";
export { loadModel, type LoadFileOptions } from "./model/load.node.js";
export { openFileSource } from "./formats/byte-source.node.js";
export { loadTokenizerFile, type LoadTokenizerFileOptions } from "./tokenizer/load-file.node.js";
export { loadTiktokenFile, type LoadTiktokenOptions } from "./tokenizer/tiktoken/load.node.js";
export { trainBpeFiles, readTrainingFiles } from "./tokenizer/train/files.node.js";
export { createWasmKernels, physicalCores } from "./kernels/wasm/index.node.js";
export { writeSafetensorsFile, type WriteSafetensorsFileOptions } from "./formats/safetensors/write.node.js";
export { runTraining, type TrainRunOptions, type NewRunOptions, type TrainRunHooks, type RunSummary, type RunInfo } from "./train/run/run.node.js";
export { saveCheckpoint, loadCheckpoint } from "./train/checkpoint/checkpoint.node.js";
export { writeGgufFile, writeLlamaGgufFile } from "./train/export/gguf.node.js";
