/**
 * How the wasm backend's kernel wrappers reach wasm memory: the offset of an array that lives there, or a
 * copy staged in a named scratch slot (and, for outputs, copied back), plus the offsets of weights and KV
 * buffers, which must live there. With weight shards (shards.ts) a product stages its input into, and its output
 * out of, the memory that holds its weight; everything else lives in the primary memory. index.ts, elementwise.ts and attention.ts share one of these; it computes
 * nothing itself.
 */

import type { KvBuffer, WeightMatrix } from "../kernels.js";
import { PeelError } from "../../util/errors.js";
import type { ScratchSlots, WasmHeap } from "./heap.js";
import type { WasmExports } from "./module.js";
import type { ThreadPool } from "./pool.js";
import type { Shard, ShardSet } from "./shards.js";

/** Jobs smaller than these (multiply-adds; elements for norms and element-wise ops) run on the calling thread alone. */
export const MIN_PARALLEL_MACS = 1 << 17;
export const MIN_PARALLEL_NORM = 1 << 15;

export interface Staging {
  readonly ex: WasmExports;
  readonly heap: WasmHeap;
  readonly scratch: ScratchSlots;
  /** Threads computing (1: no pool). */
  readonly threads: number;
  /** The thread pool while it runs (undefined without one, or after dispose). */
  pool(): ThreadPool | undefined;
  /** Offset of `a` (n floats) in shard s's memory (default: the primary), staging a copy in `slot` if it lives elsewhere. */
  input(a: Float32Array, n: number, slot: string, s?: Shard): number;
  /** Offset of `a` (n ints) in the primary memory, staging a copy in `slot` if it lives elsewhere. */
  inputI32(a: Int32Array, n: number, slot: string): number;
  /** Runs fn on an output offset in shard s; a foreign output is computed in scratch (copied in first if `copyIn`) and copied back. */
  output(a: Float32Array, n: number, slot: string, copyIn: boolean, fn: (ptr: number) => void, s?: Shard): void;
  /** output() for several arrays at once: fn gets their offsets in shard s's memory (each staged in its own slot). */
  outputs(as: readonly Float32Array[], ns: readonly number[], fn: (ptrs: number[]) => void, s?: Shard): void;
  /** The shard holding w (a weight made by prepareWeight) and w's offset in it. */
  weightAt(w: WeightMatrix): { s: Shard; ptr: number };
  kvPtr(b: KvBuffer): number;
}

/** Staging over a shard set (shards.ts): activations, KV buffers and scratch live in shards[0], weights in any. */
export function createStaging(set: ShardSet, threads: number, pool: () => ThreadPool | undefined): Staging {
  const primary = set.shards[0] as Shard;
  const { ex, heap, scratch } = primary;
  function output(a: Float32Array, n: number, slot: string, copyIn: boolean, fn: (ptr: number) => void, s: Shard = primary): void {
    need(a, n, slot);
    const off = s.heap.offsetOf(a);
    if (off >= 0) { fn(off); return; }
    const p = s.scratch.get(slot, n * 4);
    if (copyIn) s.heap.f32(p, n).set(a.subarray(0, n));
    fn(p);
    a.set(s.heap.f32(p, n));
  }
  function outputs(as: readonly Float32Array[], ns: readonly number[], fn: (ptrs: number[]) => void, s: Shard, ptrs: number[] = []): void {
    const i = ptrs.length;
    if (i === as.length) { fn(ptrs); return; }
    output(as[i] as Float32Array, ns[i] as number, `out-${i}`, false, (p) => outputs(as, ns, fn, s, [...ptrs, p]), s);
  }
  return {
    ex, heap, scratch, threads, pool, output,
    outputs: (as, ns, fn, s = primary) => outputs(as, ns, fn, s),
    input(a, n, slot, s = primary) {
      need(a, n, slot);
      const off = s.heap.offsetOf(a);
      if (off >= 0) return off;
      const p = s.scratch.get(slot, n * 4);
      s.heap.f32(p, n).set(a.subarray(0, n));
      return p;
    },
    inputI32(a, n, slot) {
      need(a, n, slot);
      const off = heap.offsetOf(a);
      if (off >= 0) return off;
      const p = scratch.get(slot, n * 4);
      new Int32Array(heap.memory.buffer, p, n).set(a.subarray(0, n));
      return p;
    },
    weightAt(w) {
      const s = set.find(w.data);
      if (s === undefined) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): a ${w.dtype} ${w.rows}x${w.cols} weight was not prepared by this backend (prepareWeight)`);
      return { s, ptr: s.heap.offsetOf(w.data) };
    },
    kvPtr(b) {
      const off = heap.offsetOf(b.data);
      if (off < 0) throw new PeelError("INVALID_ARGUMENT", "kernels(wasm): a KV buffer was not allocated by this backend (allocKv)");
      return off;
    },
  };
}

export function need(a: ArrayLike<number>, n: number, what: string): void {
  if (a.length < n) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): ${what} has ${a.length} elements, need ${n}`);
}
