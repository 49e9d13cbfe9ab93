/**
 * What the main thread and the pool's workers agree on: the layout of the control block (a small
 * SharedArrayBuffer beside the wasm memory), the job codes, how a job's range is cut into chunks, and the
 * one function that runs chunks. A job's items (rows, heads, tokens) are cut into a few chunks per thread,
 * on multiples of the job's granule (16 rows for a matmul, whose kernels tile rows within those bounds);
 * threads take chunks from a shared counter until none are left, so a thread that the OS did not schedule
 * does not hold the others up. Every thread runs chunks with `runChunks`, so a row (or head) is computed by
 * the same code whichever thread gets it: results are bitwise the same for any number of threads.
 * It does not start workers (pool.ts, worker.ts) or choose which jobs are worth splitting (index.ts).
 */

import type { DType } from "../../tensor/dtype.js";
import type { WeightLayout } from "../kernels.js";
import { runActivationRange, runMatmulRows, WASM_WEIGHT_TYPES, type MatmulCall } from "./matmul.js";
import type { WasmExports } from "./module.js";

/** Int32 slots of the control block. */
export const CTRL = {
  /** Bumped by the main thread for every job; workers wait on it. */
  epoch: 0,
  /** The last epoch the main thread closed: workers arriving later must not touch it. */
  closed: 1,
  op: 2,
  /** Next chunk to take, and chunks finished (the thread finishing the last one notifies `done`). */
  next: 3,
  done: 4,
  /** Workers inside a job (between joining and leaving); the main thread waits for 0 before the next job. */
  inflight: 5,
  /** Set to 1 when a chunk threw; the main thread reports it after the job. */
  failed: 6,
  /** Items of the job and items per chunk. */
  total: 7,
  chunk: 8,
  /** Chunks run by workers since the pool started (a statistic for tests and diagnostics). */
  workerChunks: 9,
  /**
   * Threads asleep (or about to sleep) in Atomics.wait on `epoch`, and whether the main thread sleeps while
   * it waits for a job's chunks (`done`) or its workers (`inflight`, which nobody notifies: it polls):
   * a notify is only needed when someone sleeps, and V8's Atomics.notify costs ~1.5 µs even with no waiter.
   * Each side updates its count before it waits and the other reads it after its own update (all
   * sequentially consistent), so either the notifier sees the sleeper or the sleeper's wait sees the new value.
   */
  epochSleepers: 10,
  doneSleepers: 11,
  /** Which memory's kernels instance runs the job (shards.ts; 0: the primary memory). */
  shard: 12,
} as const;
const CTRL_INTS = 16;
/** Float64 job arguments follow the ints (pointers, sizes, scales). */
export const MAX_ARGS = 24;
export const CONTROL_BYTES = CTRL_INTS * 4 + MAX_ARGS * 8;

export const OP = { quit: 0, matmul: 1, attention: 2, rmsNorm: 3, layerNorm: 4, activation: 5, swiglu: 6, geglu: 7, softcap: 8, rope: 9 } as const;
export type OpCode = (typeof OP)[keyof typeof OP];

export interface ControlBlock {
  readonly ints: Int32Array;
  readonly args: Float64Array;
}

export function controlBlock(buffer: SharedArrayBuffer): ControlBlock {
  return { ints: new Int32Array(buffer, 0, CTRL_INTS), args: new Float64Array(buffer, CTRL_INTS * 4, MAX_ARGS) };
}

/**
 * Chunks per thread a job is cut into, at most. A few per thread let a thread that falls behind (a shared,
 * noisy machine) hand work to the others; each chunk costs about a microsecond (atomics on the shared control
 * block, the call into the kernel, and a new weight stream for the prefetcher), which in a decode step of
 * ~225 jobs added up: 16 chunks a job on 2 threads decoded 1.1B Q4_K at 25.7-27.5 tok/s, 6 chunks at
 * 29.2-29.7 (3 was worse: one thread took two of the three). Two halves, and a plan of one big chunk per
 * thread followed by small ones, measured the same as 6 within this machine's noise.
 */
const CHUNKS_PER_THREAD = 3;

/** Items per chunk for `threads` threads: a multiple of `granule`, a function of the job and thread count. */
export function chunkSize(total: number, granule: number, threads: number): number {
  return Math.max(granule, Math.ceil(total / (CHUNKS_PER_THREAD * threads) / granule) * granule);
}

type MutableCall = { -readonly [K in keyof MatmulCall]: MatmulCall[K] };

/** Matrices one OP.matmul job multiplies at most (its arguments must fit in MAX_ARGS). */
export const MAX_SHARED = 4;

/**
 * Argument order of OP.matmul: one or more products with one input and one weight type, rows numbered across
 * the matrices in order. `first` is the first matrix's prepared call (its x, meta and row scratch serve all),
 * its row scratch given per thread.
 */
/** Block orders a matmul job's weights come in; its args[1] is the type's index + TYPE_CODES · the layout's index. */
const LAYOUTS: readonly WeightLayout[] = ["gguf", "q4_0x4", "q8_0x4", "q4_Kx4", "q6_Kx4"];
const TYPE_CODES = 64;

export function matmulArgs(args: Float64Array, first: MatmulCall, outs: readonly number[], ws: readonly number[],
  rows: readonly number[], rowScratchBase: number, rowScratchStride: number): void {
  args[0] = ws.length; args[1] = WASM_WEIGHT_TYPES.indexOf(first.dtype) + TYPE_CODES * LAYOUTS.indexOf(first.layout); args[2] = first.x; args[3] = first.cols;
  args[4] = first.nTokens; args[5] = rowScratchBase; args[6] = rowScratchStride; args[7] = first.meta;
  for (let i = 0; i < ws.length; i++) { args[8 + 3 * i] = outs[i] as number; args[9 + 3 * i] = ws[i] as number; args[10 + 3 * i] = rows[i] as number; }
}

/**
 * Takes chunks of the job in `ctrl` until none are left and runs them; `index` picks this thread's scratch
 * and `call` is its reusable record. A chunk that throws still counts as done (and sets `failed`).
 */
export function runChunks(exs: readonly WasmExports[], ctrl: ControlBlock, index: number, call: MutableCall): void {
  const ints = ctrl.ints;
  const ex = exs[ints[CTRL.shard] as number] as WasmExports;
  const total = ints[CTRL.total] as number, chunk = ints[CTRL.chunk] as number;
  const nChunks = Math.ceil(total / chunk);
  for (;;) {
    const c = Atomics.add(ints, CTRL.next, 1);
    if (c >= nChunks) return;
    try {
      runRange(ex, ctrl, c * chunk, Math.min(total, (c + 1) * chunk), index, call);
    } catch {
      Atomics.store(ints, CTRL.failed, 1);
    }
    if (index !== 0) Atomics.add(ints, CTRL.workerChunks, 1);
    if (Atomics.add(ints, CTRL.done, 1) === nChunks - 1 && Atomics.load(ints, CTRL.doneSleepers) !== 0) Atomics.notify(ints, CTRL.done);
  }
}

function runRange(ex: WasmExports, ctrl: ControlBlock, start: number, end: number, index: number, call: MutableCall): void {
  const { ints, args: a } = ctrl;
  const n = (i: number) => a[i] as number;
  switch (ints[CTRL.op]) {
    case OP.attention: // out, q, k, v, flags, startPos, nTokens, nHeads, nKvHeads, headDim, scale, scratch, stride, softcap, window, flash, causal, ranges, bias, span
      ex.attention(n(0), n(1), n(2), n(3), n(4), n(5), n(6), n(7), n(8), n(9), n(10), n(11) + index * n(12), start, end, n(13), n(14), n(15), n(16), n(17), n(18), n(19));
      return;
    case OP.rmsNorm: // out, x, weight, eps, dim
      ex.rmsNorm(n(0), n(1), n(2), n(3), n(4), start, end);
      return;
    case OP.layerNorm: // out, x, weight, bias, eps, dim
      ex.layerNorm(n(0), n(1), n(2), n(3), n(4), n(5), start, end);
      return;
    case OP.matmul: { // rows start..end across the matrices: each matrix runs its own part of the range
      call.dtype = WASM_WEIGHT_TYPES[n(1) % TYPE_CODES] as DType;
      call.layout = LAYOUTS[Math.floor(n(1) / TYPE_CODES)] as WeightLayout;
      call.x = n(2); call.cols = n(3); call.nTokens = n(4);
      call.rowScratch = n(5) === 0 ? 0 : n(5) + index * n(6);
      call.meta = n(7);
      for (let i = 0, first = 0; i < n(0); i++) {
        const rows = n(10 + 3 * i), lo = Math.max(start, first), hi = Math.min(end, first + rows);
        if (lo < hi) {
          call.out = n(8 + 3 * i); call.w = n(9 + 3 * i); call.rows = rows;
          runMatmulRows(ex, call, lo - first, hi - first);
        }
        first += rows;
      }
      return;
    }
    case OP.activation: // job (ACTIVATION_JOB), then its arguments
      runActivationRange(ex, n(0), a.subarray(1), start, end);
      return;
    case OP.swiglu: // out, gate, up (elements start..end: multiples of 16 but the last, as ggml's groups of 16 fall in one call)
      ex.swiglu(n(0) + start * 4, n(1) + start * 4, n(2) + start * 4, end - start);
      return;
    case OP.geglu: // out, gate, up, GELU table (elements start..end: each on its own)
      ex.geglu(n(0) + start * 4, n(1) + start * 4, n(2) + start * 4, end - start, n(3));
      return;
    case OP.softcap: // x, cap, f32(1 / cap) (elements start..end, in place; chunks are whole vectors but the last)
      ex.softcap(n(0) + start * 4, n(1), n(2), end - start);
      return;
    case OP.rope: // x, cos/sin table, nHeads, headDim, nRot, neox (tokens start..end, in place)
      ex.rope(n(0), n(1), start, end, n(2), n(3), n(4), n(5));
      return;
    default:
      throw new Error(`thread pool: unknown job code ${ints[CTRL.op]}`);
  }
}

export function newCallRecord(): MutableCall {
  return { dtype: "F32", out: 0, w: 0, layout: "gguf", x: 0, rows: 0, cols: 0, nTokens: 0, rowScratch: 0, rowScratchBytes: 0, meta: 0 };
}

/** The first message a worker gets: everything it needs to run jobs. */
export interface WorkerInit {
  readonly module: WebAssembly.Module;
  /** The primary memory, then each weight shard's (shards.ts): the worker instantiates the module on each. */
  readonly memories: readonly WebAssembly.Memory[];
  readonly control: SharedArrayBuffer;
  /** This worker's part index (1..threads-1; the main thread is 0). */
  readonly index: number;
  /** Microseconds a worker polls for the next job before it sleeps in Atomics.wait. */
  readonly spinMicros: number;
}

/** Checks the shape of a message received as WorkerInit (it crosses a thread boundary as `unknown`). */
export function parseWorkerInit(m: unknown): WorkerInit {
  const o = m as Partial<Record<keyof WorkerInit, unknown>> | null;
  if (o === null || typeof o !== "object" || !(o.module instanceof WebAssembly.Module) ||
    !Array.isArray(o.memories) || o.memories.length === 0 || !o.memories.every((m) => m instanceof WebAssembly.Memory) ||
    !(o.control instanceof SharedArrayBuffer) || typeof o.index !== "number" || typeof o.spinMicros !== "number") {
    throw new Error("thread pool: a worker got a malformed init message");
  }
  return { module: o.module, memories: o.memories as WebAssembly.Memory[], control: o.control, index: o.index, spinMicros: o.spinMicros };
}

/** Messages from a worker to the main thread (only during start-up and on failure). */
export type WorkerReport = { readonly type: "ready" } | { readonly type: "error"; readonly message: string };
