/**
 * Sanity checks on a parsed config, shared by every file format and architecture: positive sizes, kv heads
 * that divide the heads, sizes small enough to be real, rotary dims that fit a head, one window per layer.
 * Each failure names the offending values.
 */

import { PeelError } from "../util/errors.js";
import type { ModelConfig } from "./config.js";

const LIMIT = 1 << 24; // no real model has a dimension, layer count or context near 16M

export function validateConfig(c: ModelConfig): void {
  // without a key_length, heads split dim evenly: say so before the size checks, which would only report a
  // fractional headDim
  if (Number.isInteger(c.nHeads) && c.nHeads > 0 && !Number.isInteger(c.headDim) && c.dim % c.nHeads !== 0) {
    throw new PeelError("CONFIG", `model config: dim (${c.dim}) must be a multiple of nHeads (${c.nHeads}) when the file gives no head size (headDim = dim / nHeads)`);
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
  if ((c.position === "rope") !== (c.rope !== undefined)) {
    throw new PeelError("CONFIG", `model config: rope settings must be given exactly when position is "rope" (position "${c.position}")`);
  }
  if (c.rope !== undefined) {
    if (!Number.isInteger(c.rope.nRot) || c.rope.nRot <= 0 || c.rope.nRot % 2 !== 0 || c.rope.nRot > c.headDim) {
      throw new PeelError("CONFIG", `model config: rotary dims (${c.rope.nRot}) must be even, positive and at most headDim (${c.headDim})`);
    }
    if (!(c.rope.theta > 0)) throw new PeelError("CONFIG", `model config: rope theta must be positive, got ${c.rope.theta}`);
    if (c.rope.localTheta !== undefined && !(c.rope.localTheta > 0)) throw new PeelError("CONFIG", `model config: local rope theta must be positive, got ${c.rope.localTheta}`);
  }
  if (c.layerWindows.length !== c.nLayers || c.layerWindows.some((w) => !Number.isInteger(w) || w < 0)) {
    throw new PeelError("CONFIG", `model config: layerWindows must hold one non-negative integer per layer (${c.nLayers}), got [${c.layerWindows.join(", ")}]`);
  }
  const s2s = c.seq2seq;
  if (s2s !== undefined) {
    if (!Number.isInteger(s2s.encoderLayers) || s2s.encoderLayers <= 0 || s2s.encoderLayers > LIMIT) {
      throw new PeelError("CONFIG", `model config: the encoder's layer count must be a positive integer, got ${s2s.encoderLayers}`);
    }
    if (!Number.isInteger(s2s.relBuckets) || s2s.relBuckets < 4 || s2s.relBuckets % 2 !== 0 || s2s.relBuckets > 4096) {
      throw new PeelError("CONFIG", `model config: relative-position buckets must be an even integer in 4..4096, got ${s2s.relBuckets}`);
    }
  }
  for (const [name, cap] of [["attnSoftcap", c.attnSoftcap], ["finalSoftcap", c.finalSoftcap]] as const) {
    if (cap !== undefined && !(cap > 0 && Number.isFinite(cap))) throw new PeelError("CONFIG", `model config: ${name} must be a positive number, got ${cap}`);
  }
  if (!(c.attnScale > 0 && Number.isFinite(c.attnScale)) || !(c.embedScale > 0 && Number.isFinite(c.embedScale))) {
    throw new PeelError("CONFIG", `model config: attnScale (${c.attnScale}) and embedScale (${c.embedScale}) must be positive`);
  }
}
