/** Peel's public API for Node: everything in index.ts plus loading models from file paths. */

export * from "./index.js";
export { loadModel, type LoadFileOptions } from "./model/load.node.js";
export { openFileSource } from "./formats/byte-source.node.js";
