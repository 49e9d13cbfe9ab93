/**
 * `npm run bench`: Peel's speed benchmarks (not tests; they print tables): tokenizers, sentence embeddings
 * beside llama.cpp, then training
 * against TensorFlow.js. The llama.cpp side-by-side runs are `npm run bench:llamacpp` (they need model files).
 */

import { benchEmbeddings } from "./embed.js";
import { benchTokenizers } from "./tokenizers.js";

await benchTokenizers();
console.log("");
await benchEmbeddings();
console.log("");
await import("./train.js");
