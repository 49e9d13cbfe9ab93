/**
 * Sanity checks on a parsed config, shared by every file format: positive sizes, heads that divide the
 * model width, kv heads that divide the heads, and sizes small enough to be real. Each failure names the
 * offending values.
 */

import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";

const LIMIT = 1 << 24; // no real model has a dimension, layer count or context near 16M

export function validateConfig(c: ModelConfig): void {
  const sizes: Array<[string, number]> = [["dim", c.dim], ["hiddenDim", c.hiddenDim], ["nLayers", c.nLayers], ["nHeads", c.nHeads],
    ["nKvHeads", c.nKvHeads], ["headDim", c.headDim], ["vocabSize", c.vocabSize], ["contextLength", c.contextLength]];
  for (const [name, v] of sizes) {
    if (!Number.isInteger(v) || v <= 0 || v > LIMIT) {
      throw new PeelError("CONFIG", `model config: ${name} must be a positive integer below ${LIMIT}, got ${v}`);
    }
  }
  if (c.nHeads % c.nKvHeads !== 0) {
    throw new PeelError("CONFIG", `model config: nHeads (${c.nHeads}) must be a multiple of nKvHeads (${c.nKvHeads})`);
  }
  if (c.rope.nRot % 2 !== 0 || c.rope.nRot > c.headDim) {
    throw new PeelError("CONFIG", `model config: rotary dims (${c.rope.nRot}) must be even and at most headDim (${c.headDim})`);
  }
  if (!(c.normEps > 0) || !(c.rope.theta > 0)) {
    throw new PeelError("CONFIG", `model config: normEps (${c.normEps}) and rope theta (${c.rope.theta}) must be positive`);
  }
}
