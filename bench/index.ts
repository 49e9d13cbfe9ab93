/**
 * `npm run bench`: Peel's speed benchmarks (not tests; they print tables). Today: tokenizers.
 */

import { benchTokenizers } from "./tokenizers.js";

await benchTokenizers();
