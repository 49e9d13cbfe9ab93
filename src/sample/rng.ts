/**
 * A small seeded random number generator (xoshiro128**, seeded through splitmix32) so that the same seed
 * gives the same samples on every platform. Not for cryptography. Its state can be saved and restored
 * exactly, so a resumed training run draws the same batches it would have drawn without the pause.
 */

import { PeelError } from "../util/errors.js";

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** The four 32-bit words of xoshiro128** (unsigned), enough to continue a sequence exactly. */
export interface RngState {
  readonly s: readonly [number, number, number, number];
}

/** An Rng whose position in its sequence can be saved. */
export interface StatefulRng extends Rng {
  /** A copy of the current state; `restoreRng(state())` continues with the same numbers as this one. */
  state(): RngState;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function createRng(seed: number): StatefulRng {
  const sm = { s: seed >>> 0 };
  return fromWords(splitmix32(sm), splitmix32(sm), splitmix32(sm), splitmix32(sm));
}

/** Continues the sequence saved by `state()`; INVALID_ARGUMENT unless it is four uint32 words, not all zero. */
export function restoreRng(state: RngState): StatefulRng {
  const s: unknown = (state as { s?: unknown } | null)?.s;
  const ok = Array.isArray(s) && s.length === 4 && s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
  if (!ok) throw new PeelError("INVALID_ARGUMENT", `rng state: expected four unsigned 32-bit integers, got ${JSON.stringify(s)}`);
  const [a, b, c, d] = s as [number, number, number, number];
  // xoshiro's all-zero state is a fixed point: it would return 0 forever
  if ((a | b | c | d) === 0) throw new PeelError("INVALID_ARGUMENT", "rng state: all four words are zero, which no seeded generator reaches");
  return fromWords(a, b, c, d);
}

function fromWords(a: number, b: number, c: number, d: number): StatefulRng {
  return {
    next(): number {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d;
      c ^= t;
      d = rotl(d, 11);
      return result / 4294967296;
    },
    state(): RngState {
      return { s: [a >>> 0, b >>> 0, c >>> 0, d >>> 0] };
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
