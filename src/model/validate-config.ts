/**
 * Sanity checks on a parsed config, shared by every file format and family: positive sizes, kv heads that
 * divide the heads, sizes small enough to be real, then the family's own rules (RoPE dims; GPT-2's heads
 * tiling dim). Each failure names the offending values.
 */

import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";

const LIMIT = 1 << 24; // no real model has a dimension, layer count or context near 16M

export function validateConfig(c: ModelConfig): void {
  // GPT-2's attention output matrix is (dim, dim): the heads must tile the model width exactly (said before
  // the size checks, which would only report a fractional headDim)
  if (c.family === "gpt2" && Number.isInteger(c.nHeads) && c.nHeads > 0 && c.dim % c.nHeads !== 0) {
    throw new PeelError("CONFIG", `model config: dim (${c.dim}) must be a multiple of nHeads (${c.nHeads}) for GPT-2`);
  }
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
  if (!(c.normEps > 0)) throw new PeelError("CONFIG", `model config: normEps must be positive, got ${c.normEps}`);
  switch (c.family) {
    case "llama":
      if (c.rope.nRot % 2 !== 0 || c.rope.nRot > c.headDim) {
        throw new PeelError("CONFIG", `model config: rotary dims (${c.rope.nRot}) must be even and at most headDim (${c.headDim})`);
      }
      if (!(c.rope.theta > 0)) throw new PeelError("CONFIG", `model config: rope theta must be positive, got ${c.rope.theta}`);
      return;
    case "gpt2": // no RoPE; its head rule is checked above
      return;
  }
}
