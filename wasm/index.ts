/**
 * Entry of Peel's WebAssembly kernels (compiled by scripts/build-wasm.mjs with AssemblyScript, SIMD on,
 * no GC runtime, memory imported and shared so worker threads can run the same module on the same memory).
 * Every buffer is a byte offset into that memory; the JS side (src/kernels/wasm/) allocates them.
 */

export { quantizeQ8, quantizeQ8K, roundRowsF16, roundRowsBF16, q8RowBytes, q8kRowBytes, narrowActivations } from "./activation-rounding";
export { matmulF32, matmulF16, matmulBF16, matmulFloatScratchBytes } from "./matmul-float";
export { legacyTileMeta, legacyTileBytes, kquantTiles, kquantTileBytes } from "./activation-tiles";
export { matmulLegacy, legacyScratchBytes } from "./matmul-legacy";
export { repackQ4x4, matmulQ4x4, repackQ8x4, matmulQ8x4 } from "./matmul-legacy-x4";
export { matmulKQuant } from "./matmul-kquants";
export { kquadTiles, kquadTileBytes, kquadScratchBytes, kquadMinTokens } from "./matmul-kquant-quads";
export { repackQ4Kx4 } from "./matmul-kquants-x4";
export { repackQ6Kx4, q6Kx4ScratchBytes } from "./matmul-q6k-x4";
export { matmulQ4Kx4, matmulQ6Kx4 } from "./matmul-kx4";
export { matmulLowBit } from "./matmul-lowbit";
export { wideQuadTiles, wideQuadTileBytes, wideQuadScratchBytes, wideQuadMinTokens } from "./matmul-lowbit-quads";
export { q2kQuadScratchBytes } from "./matmul-q2k-quads";
export { rmsNorm, layerNorm } from "./norm";
export { rope } from "./rope";
export { swiglu, geglu, scaleInPlace, softcap, addInPlace, addBias, geluRounded, softmax, storeF16 } from "./elementwise";
export { attention, attentionScratchFloats } from "./attention";
export { heapBase, initF16Table } from "./f16-table";
export { transposeF32 } from "./transpose";
export { gelu, geluBackward, swigluBackward } from "./train-elementwise";
