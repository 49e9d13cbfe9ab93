/**
 * Where each weight sits in a llama2.c checkpoint, for both layouts: legacy version 0 (run.c's order,
 * including the two RoPE tables that readers skip) and version 1 (export.py's `version1_export` order).
 * Names are GGUF llama names; shapes are outermost-first (out, in). Pure arithmetic: no reading or writing.
 */

import { PeelError } from "../../util/errors.js";

export interface Llama2cConfig {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
  /** True when the classifier reuses token_embd.weight (no output.weight stored). */
  readonly sharedClassifier: boolean;
  readonly version: 0 | 1;
}

export interface Llama2cEntry {
  /** GGUF tensor name, or null for the legacy freq_cis tables that are skipped. */
  readonly name: string | null;
  readonly shape: readonly number[];
  /** Absolute byte offset in the file. */
  readonly offset: number;
  readonly byteSize: number;
}

export const LLAMA2C_MAGIC = 0x616b3432; // "ak42" as a little-endian u32
export const V0_HEADER_BYTES = 28;
export const V1_HEADER_BYTES = 256;

const LIMITS: ReadonlyArray<readonly [keyof Llama2cConfig, number]> = [
  ["dim", 1 << 16], ["hiddenDim", 1 << 20], ["nLayers", 1024], ["nHeads", 1024], ["nKvHeads", 1024],
  ["vocabSize", 1 << 24], ["seqLen", 1 << 24],
];

/** Throws PeelError FORMAT when the hyperparameters are impossible or absurd. */
export function validateLlama2cConfig(c: Llama2cConfig, description: string): void {
  for (const [key, max] of LIMITS) {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v <= 0 || v > max) {
      throw new PeelError("FORMAT", `${description}: llama2.c header field ${key} = ${v} is outside 1..${max}; this is not a llama2.c checkpoint or it is corrupt`);
    }
  }
  if (c.dim % c.nHeads !== 0 || c.nHeads % c.nKvHeads !== 0) {
    throw new PeelError("FORMAT", `${description}: llama2.c header is inconsistent: dim ${c.dim} must divide by n_heads ${c.nHeads}, and n_heads by n_kv_heads ${c.nKvHeads}`);
  }
}

function perLayer(n: number, base: string, shape: number[]): Array<[string, number[]]> {
  return Array.from({ length: n }, (_, l) => [`blk.${l}.${base}.weight`, shape]);
}

/** The ordered list of tensors (and skipped tables) as they appear in the file. */
export function llama2cLayout(c: Llama2cConfig): Llama2cEntry[] {
  const { dim, hiddenDim: hd, nLayers: L, vocabSize: V } = c;
  const headSize = dim / c.nHeads;
  const kvDim = c.nKvHeads * headSize;
  const blocks = {
    attnNorm: perLayer(L, "attn_norm", [dim]), ffnNorm: perLayer(L, "ffn_norm", [dim]),
    q: perLayer(L, "attn_q", [dim, dim]), k: perLayer(L, "attn_k", [kvDim, dim]), v: perLayer(L, "attn_v", [kvDim, dim]),
    o: perLayer(L, "attn_output", [dim, dim]), gate: perLayer(L, "ffn_gate", [hd, dim]),
    down: perLayer(L, "ffn_down", [dim, hd]), up: perLayer(L, "ffn_up", [hd, dim]),
  };
  const embd: [string, number[]] = ["token_embd.weight", [V, dim]];
  const outNorm: [string, number[]] = ["output_norm.weight", [dim]];
  const freq: [null, number[]] = [null, [c.seqLen, Math.floor(headSize / 2)]];
  const order: Array<[string | null, number[]]> = c.version === 0
    ? [embd, ...blocks.attnNorm, ...blocks.q, ...blocks.k, ...blocks.v, ...blocks.o, ...blocks.ffnNorm,
      ...blocks.gate, ...blocks.down, ...blocks.up, outNorm, freq, freq]
    : [...blocks.attnNorm, ...blocks.ffnNorm, outNorm, embd, ...blocks.q, ...blocks.k, ...blocks.v, ...blocks.o,
      ...blocks.gate, ...blocks.down, ...blocks.up];
  if (!c.sharedClassifier) order.push(["output.weight", [V, dim]]);
  let offset = c.version === 0 ? V0_HEADER_BYTES : V1_HEADER_BYTES;
  return order.map(([name, shape]) => {
    const byteSize = shape.reduce((a, b) => a * b, 1) * 4;
    const e = { name, shape, offset, byteSize };
    offset += byteSize;
    return e;
  });
}

export function llama2cFileSize(c: Llama2cConfig): number {
  const last = llama2cLayout(c).at(-1);
  return last === undefined ? 0 : last.offset + last.byteSize;
}
