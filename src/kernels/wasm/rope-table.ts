/**
 * The cos/sin table the wasm RoPE kernel reads: one (cos, sin) pair per token and frequency, in scratch.
 * Every layer rotates q and k at the same positions, so the last table is kept and reused while the
 * positions and the spec are the same (one rope call over 128 tokens, 12 heads of 64: 167 → 98 µs with the
 * scalar kernel; the 110M model's prefill makes 24 of them, and the table is built on the calling thread
 * before the pool splits the rotation).
 */

import type { RopeSpec } from "../kernels.js";
import type { ScratchSlots, WasmHeap } from "./heap.js";
import { ropeAngles } from "../rope-angles.js";

let angles = new Float32Array(64);

/** A function returning the table's offset in wasm memory for `positions` (nTokens of them) and `spec`. */
export type RopeTables = (positions: ArrayLike<number>, nTokens: number, spec: RopeSpec) => number;

export function createRopeTables(heap: WasmHeap, scratch: ScratchSlots): RopeTables {
  let last: { spec: RopeSpec; positions: Int32Array; ptr: number } | undefined;
  return (positions, nTokens, spec) => {
    const half = spec.nRot / 2, bytes = nTokens * half * 8;
    const ptr = scratch.get("rope", bytes);
    // the same spec and positions (their count included) mean the same table size; the slot may have moved
    if (last !== undefined && last.spec === spec && last.ptr === ptr && samePositions(last.positions, positions, nTokens)) return ptr;
    const cs = heap.f32(ptr, nTokens * half * 2);
    if (angles.length < half) angles = new Float32Array(half);
    for (let t = 0; t < nTokens; t++) {
      ropeAngles(angles, spec, positions[t] as number);
      for (let i = 0; i < half; i++) {
        const theta = angles[i] as number;
        cs[2 * (t * half + i)] = Math.cos(theta);
        cs[2 * (t * half + i) + 1] = Math.sin(theta);
      }
    }
    last = { spec, ptr, positions: Int32Array.from({ length: nTokens }, (_, t) => positions[t] as number) };
    return ptr;
  };
}

function samePositions(a: Int32Array, b: ArrayLike<number>, n: number): boolean {
  if (a.length !== n) return false;
  for (let t = 0; t < n; t++) if (a[t] !== b[t]) return false;
  return true;
}
