/**
 * The WebAssembly SIMD backend: the Kernels interface over a shared WebAssembly.Memory. Activations, the KV
 * cache and weights live in that memory (`allocF32`, `allocKv` and `prepareWeight` return views into it, and
 * a weight's bytes are copied in once, or read straight in through `allocWeightBytes`); weights beyond it go
 * to extra memories (shards.ts), where their products run. Kernels take byte offsets; arrays
 * that live elsewhere (norm gains, test inputs) are staged through scratch blocks, outputs copied back.
 * With `threads` > 1 a pool of workers (pool.ts) shares the memory: big matmuls are split by rows, attention
 * by heads and batched norms (RMSNorm, LayerNorm) by tokens, each row computed by exactly one thread with the
 * same code, so results are bitwise the same for any thread count. Small jobs run on the calling thread alone (waking
 * workers costs more than they save). Embedding rows are dequantized by the shared TS dequantizers (one row
 * per token, exact like get_rows). Q4_0, Q8_0, Q4_K and Q6_K weights may be repacked at prepareWeight (layout-x4.ts). Browser-safe: in Node, index.node.ts supplies the worker_threads host.
 * The attention wrapper is attention.ts, the element-wise ones elementwise.ts, the staging they share staging.ts.
 */

import { checkShared, type Kernels, type KvBuffer, type KvDType, type WeightLayout, type WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { PeelError } from "../../util/errors.js";
import { dequantizeRow } from "../../formats/gguf/dequant/index.js";
import { createWasmHeap, formatBytes, MAX_PAGES, PAGE_BYTES, type WasmHeap } from "./heap.js";
import { createShardSet, extraShards, type Shard, type ShardSet } from "./shards.js";
import { createRopeTables } from "./rope-table.js";
import { chooseSimd, createSharedMemory, instantiateKernels, kernelsModule, type SimdVariant, type WasmExports } from "./module.js";
import { prepareMatmul, runMatmulRows, serialActivations, WASM_WEIGHT_TYPES, type ActivationSplit, type MatmulCall } from "./matmul.js";
import { createThreadPool, type ThreadPool, type WorkerHost } from "./pool.js";
import { MAX_SHARED, matmulArgs, OP } from "./pool-protocol.js";
import { hasWebWorkers, webWorkerHost } from "./host.web.js";
import { createAttentionKernel } from "./attention.js";
import { createElementwiseKernels } from "./elementwise.js";
import { createStaging, MIN_PARALLEL_MACS, MIN_PARALLEL_NORM } from "./staging.js";
import { createInPlaceRegistry, ggufRowOfX4, layoutFor } from "./layout-x4.js";

export { WASM_WEIGHT_TYPES } from "./matmul.js";
export { relaxedSimdSupported, type SimdVariant } from "./module.js";

export interface WasmKernelsOptions {
  /** Upper bound of the backend's memory in bytes (default and most: 4 GiB); tests use small limits. */
  readonly maxMemoryBytes?: number;
  /**
   * Threads computing, the calling one included: an integer in 1..256. Default: the host's (physical cores
   * in Node, navigator.hardwareConcurrency in browsers), or 1 where there is no worker host.
   */
  readonly threads?: number;
  /** How pool workers are created (default: Web Workers where the runtime has them; Node: index.node.ts). */
  readonly host?: WorkerHost;
  /**
   * Which build of the kernels: "auto" (default) takes "relaxed" where the runtime accepts relaxed SIMD
   * (after the host's prepareRuntime), else "baseline"; asking for "relaxed" where it is missing is an error.
   * Both compute the same quantities; they differ in f32 rounding (fused multiply-adds, summation order).
   */
  readonly simd?: "auto" | SimdVariant;
  /**
   * Bytes of weights the backend will hold (the loader passes the model's): when they do not fit the primary
   * memory beside activations and the KV cache, they go to extra memories (shards.ts). Default 0: one memory.
   */
  readonly weightBytes?: number;
  /** Put the weights in extra memories of at most this many bytes each, even when they would fit (tests). */
  readonly shardBytes?: number;
  /**
   * Repack Q4_0, Q4_K and Q6_K (relaxed build) and Q8_0 weights with rows a multiple of 4 into the "q4_0x4" /
   * "q4_Kx4" / "q6_Kx4" / "q8_0x4" layouts at prepareWeight (layout-x4.ts): faster one-token products, same outputs bit
   * for bit. Default
   * true; false keeps every weight's bytes in GGUF order (tests compare both).
   */
  readonly repackWeights?: boolean;
}

/** The backend's memory and allocator, for diagnostics and the thread pool. */
export interface WasmKernels extends Kernels {
  /** The primary memory's allocator (activations, KV cache; weights too unless they went to shards). */
  readonly heap: WasmHeap;
  /** WebAssembly memories in use: 1, or 1 + the weight shards (shards.ts). */
  readonly memories: number;
  allocWeightBytes(bytes: number, what: string): Uint8Array;
  readonly exports: WasmExports;
  /** Threads computing (1: no pool). */
  readonly threads: number;
  /** The build of the kernels that runs (WasmKernelsOptions.simd). */
  readonly simd: SimdVariant;
  /** Chunks of split jobs that pool workers ran so far (diagnostics; 0 without a pool). */
  workerChunks(): number;
  /** Stops the pool's workers; later calls run on the calling thread alone. */
  dispose(): Promise<void>;
}

export const MAX_THREADS = 256;

/** Matmul row splits fall on multiples of this, so a kernel's row tiles are the same whatever the thread count. */
const ROW_GRANULE = 16;

export function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): threads must be an integer in 1..${MAX_THREADS}, got ${threads}`);
  }
}

export async function createWasmKernels(opts: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const maxBytes = opts.maxMemoryBytes ?? MAX_PAGES * PAGE_BYTES;
  if (!(maxBytes > 0 && maxBytes <= MAX_PAGES * PAGE_BYTES)) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): maxMemoryBytes must be in 1..${MAX_PAGES * PAGE_BYTES}, got ${maxBytes}`);
  }
  if (opts.threads !== undefined) checkThreads(opts.threads);
  const host = opts.host ?? (hasWebWorkers() ? webWorkerHost : undefined);
  const threads = opts.threads ?? host?.defaultThreads() ?? 1;
  if (threads > 1 && host === undefined) {
    throw new PeelError("UNSUPPORTED", `kernels(wasm): ${threads} threads need a worker host and this runtime has no Web Workers; ` +
      "in Node, use createWasmKernels from Peel's Node entry (it starts worker_threads), or threads: 1");
  }
  const simd = chooseSimd(opts.simd ?? "auto", host?.prepareRuntime);
  const maxPages = Math.max(2, Math.floor(maxBytes / PAGE_BYTES));
  const memory = createSharedMemory(1, maxPages);
  const ex = await instantiateKernels(memory, simd);
  const heap = createWasmHeap(memory, ex.heapBase(), maxPages);
  ex.initF16Table(); // the heap has grown the memory past heapBase()
  const plan = { weightBytes: opts.weightBytes ?? 0, shardBytes: opts.shardBytes };
  const module = await kernelsModule(simd);
  const set = await createShardSet({ memory, ex, heap }, module, extraShards(plan, heap.limitBytes, ex.heapBase()), plan.shardBytes);
  const pool = threads > 1 && host !== undefined
    ? await createThreadPool(host, module, set.shards.map((s) => s.memory), set.shards.map((s) => s.ex), threads) : undefined;
  return bindKernels(set, pool, simd, opts.repackWeights ?? true);
}

function bindKernels(set: ShardSet, startedPool: ThreadPool | undefined, simd: SimdVariant, repack: boolean): WasmKernels {
  const primary = set.shards[0] as Shard;
  const { ex, heap, scratch } = primary;

  let pool = startedPool;
  const threads = pool?.threads ?? 1;

  /** Runs c (pointers into shard s's memory) on s's kernels instance. */
  function runMatmul(c: MatmulCall, s: Shard = primary): void {
    if (pool === undefined || c.rows * c.cols * c.nTokens < MIN_PARALLEL_MACS || c.rows < 2 * ROW_GRANULE) {
      runMatmulRows(s.ex, c, 0, c.rows);
      return;
    }
    runPooled(pool, c, [c.out], [c.w], [c.rows], s);
  }

  /** Products with c's input and weight type (c is the first) as one pool job, each thread with its row scratch. */
  function runPooled(p: ThreadPool, c: MatmulCall, outs: readonly number[], ws: readonly number[], rows: readonly number[], s: Shard): void {
    const stride = Math.ceil(c.rowScratchBytes / 64) * 64;
    const rowScratch = c.rowScratch === 0 ? 0 : s.scratch.get("w-row-pool", stride * p.threads);
    const total = rows.reduce((a, b) => a + b, 0);
    p.run(OP.matmul, total, ROW_GRANULE, (a) => matmulArgs(a, c, outs, ws, rows, rowScratch, stride), s.index);
  }

  const ropeTable = createRopeTables(heap, scratch);

  const serialSplits = set.shards.map((s) => serialActivations(s.ex));
  const pooledSplits = set.shards.map((s): ActivationSplit => (job, total, args) => pooledActivations(job, total, args, s.index));
  /** How prepareMatmul runs its per-token work in shard s: on the pool for prefill-sized inputs, else on this thread. */
  function activationSplit(nTokens: number, cols: number, s: Shard = primary): ActivationSplit {
    return (pool !== undefined && nTokens > 1 && nTokens * cols >= MIN_PARALLEL_NORM ? pooledSplits : serialSplits)[s.index] as ActivationSplit;
  }

  /** prepareMatmul's per-token work (quantizing prefill activations, laying out tiles) split across the pool. */
  function pooledActivations(job: number, total: number, args: ArrayLike<number>, shard: number): void {
    if (pool === undefined) throw new Error("unreachable: pooled activations without a pool");
    pool.run(OP.activation, total, 1, (a) => {
      a[0] = job;
      for (let i = 0; i < args.length; i++) a[i + 1] = args[i] as number;
    }, shard);
  }

  let rowBuf = new Uint8Array(0);
  /** A buffer for one repacked table row put back in GGUF order (embedRows), kept between calls. */
  function embedRow(bytes: number): Uint8Array {
    if (rowBuf.length < bytes) rowBuf = new Uint8Array(bytes);
    return rowBuf;
  }

  const st = createStaging(set, threads, () => pool);
  const inPlace = createInPlaceRegistry();

  /** Rewrites the Q4_0 / Q8_0 / Q4_K / Q6_K matrix `view` (in a backend memory) into its x4 layout in place. */
  function repackX4(layout: WeightLayout, view: Uint8Array, rows: number, cols: number): void {
    const s = set.find(view) as Shard;
    const repack = layout === "q4_0x4" ? s.ex.repackQ4x4 : layout === "q8_0x4" ? s.ex.repackQ8x4 : layout === "q4_Kx4" ? s.ex.repackQ4Kx4 : s.ex.repackQ6Kx4;
    repack(s.heap.offsetOf(view), rows, cols, s.scratch.get("w-repack", (view.length / rows) * 4));
  }
  const { input, output, outputs, weightAt, kvPtr } = st;

  const kernels: WasmKernels = {
    name: "wasm",
    heap,
    memories: set.shards.length,
    exports: ex,
    threads,
    simd,
    workerChunks: () => pool?.workerChunks() ?? 0,
    async dispose() {
      const p = pool;
      pool = undefined;
      await p?.dispose();
    },
    allocF32(n) {
      const p = heap.alloc(n * 4, `an activation buffer of ${n} floats`);
      return heap.f32(p, n).fill(0);
    },
    reserveWeights(totalBytes, modelDescription) {
      // weights already read into this backend (allocWeightBytes) count as room: they are the same bytes
      const room = set.roomBytes() + set.weightBytes();
      if (totalBytes > room) {
        const n = set.shards.length, used = heap.usedBytes() - (n > 1 ? 0 : set.weightBytes());
        throw new PeelError("UNSUPPORTED", `kernels(wasm): ${modelDescription} has ${formatBytes(totalBytes)} of weights, more than ` +
          "WebAssembly memory can hold: the limit is " + (n > 1 ? `${formatBytes(room)} in this backend's ${n - 1} weight memories` :
          `${formatBytes(heap.limitBytes)}${used > 0 ? ` and ${formatBytes(used)} are already in use` : ""}`) +
          " (32-bit WebAssembly addresses at most 4 GiB per memory). Create the backend with the model's weight bytes " +
          "(createWasmKernels({ weightBytes }), as loadModel does) to spread them over several memories, or use a smaller quantization.");
      }
    },
    allocWeightBytes(bytes, what) {
      const { shard, ptr } = set.placeWeight(bytes, what);
      return shard.heap.u8(ptr, bytes);
    },
    prepareWeight(dtype, rows, cols, data): WeightMatrix {
      checkWeight(dtype, rows, cols, data);
      const bytes = rows * (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
      const want = layoutFor(dtype, rows, simd, repack);
      const s = set.find(data);
      // bytes the loader read into this backend are adopted (and repacked) where they are, unless they back another weight
      const plan = s === undefined ? { layout: want, repack: want !== "gguf", copy: true }
        : inPlace.plan(s.index, s.heap.offsetOf(data), s.heap.offsetOf(data) + bytes, rows, cols, want);
      let view = data.subarray(0, bytes);
      if (plan.copy) {
        view = kernels.allocWeightBytes(bytes, `a ${dtype} ${rows}x${cols} weight matrix`);
        view.set(data.subarray(0, bytes));
      }
      if (plan.repack) repackX4(plan.layout, view, rows, cols);
      return plan.layout === "gguf" ? { dtype, rows, cols, data: view } : { dtype, rows, cols, data: view, layout: plan.layout };
    },
    allocKv(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer {
      const n = seqLen * kvDim;
      const p = heap.alloc(n * (dtype === "F16" ? 2 : 4), `a KV cache buffer of ${seqLen}x${kvDim} ${dtype}`);
      const data = dtype === "F16" ? heap.u16(p, n).fill(0) : heap.f32(p, n).fill(0);
      return { dtype, data, seqLen, kvDim };
    },
    matmul(out, w, x, nTokens) {
      // in the weight's shard: x is staged into its scratch, the output computed there and copied back
      const { s, ptr: wp } = weightAt(w);
      const xp = input(x, nTokens * w.cols, "in-x", s);
      output(out, nTokens * w.rows, "out", false, (op) => {
        runMatmul(prepareMatmul(s.ex, s.scratch, w.dtype, op, wp, xp, w.rows, w.cols, nTokens, activationSplit(nTokens, w.cols, s), w.layout), s);
      }, s);
    },
    matmulShared(outs, ws, x, nTokens) {
      checkShared("wasm", outs, ws);
      const w0 = ws[0] as WeightMatrix, cols = w0.cols;
      const rows = ws.map((w) => w.rows), total = rows.reduce((a, b) => a + b, 0);
      const p = pool;
      const at = ws.map(weightAt), s = (at[0] as { s: Shard }).s;
      if (p === undefined || ws.length < 2 || ws.length > MAX_SHARED || total * cols * nTokens < MIN_PARALLEL_MACS ||
        ws.some((w, i) => w.dtype !== w0.dtype || w.layout !== w0.layout || w.rows % ROW_GRANULE !== 0 || at[i]?.s !== s)) {
        for (let i = 0; i < ws.length; i++) kernels.matmul(outs[i] as Float32Array, ws[i] as WeightMatrix, x, nTokens);
        return;
      }
      // one weight type, so one rounding of x serves every matrix; rows on the granule, so every chunk bound
      // inside a matrix falls where a single product's would
      // (and all in one shard, whose kernels instance runs the job)
      const wps = at.map((a) => a.ptr);
      const xp = input(x, nTokens * cols, "in-x", s);
      outputs(outs, rows.map((r) => nTokens * r), (ops) => {
        runPooled(p, prepareMatmul(s.ex, s.scratch, w0.dtype, ops[0] as number, wps[0] as number, xp, w0.rows, cols, nTokens, activationSplit(nTokens, cols, s), w0.layout), ops, wps, rows, s);
      }, s);
    },
    matmulF32(out, w, x, rows, cols, nTokens, layout) {
      let wp = input(w, rows * cols, "in-wf");
      let xp = input(x, nTokens * cols, "in-x");
      if (layout?.wTransposed === true) {
        const t = scratch.get("in-wf-t", rows * cols * 4);
        ex.transposeF32(t, wp, cols, rows);
        wp = t;
      }
      if (layout?.xTransposed === true) {
        const t = scratch.get("in-x-t", nTokens * cols * 4);
        ex.transposeF32(t, xp, cols, nTokens);
        xp = t;
      }
      output(out, nTokens * rows, "out", false, (op) => runMatmul({ dtype: "F32", out: op, w: wp, layout: "gguf", x: xp, rows, cols, nTokens, rowScratch: 0, rowScratchBytes: 0, meta: 0 }));
    },
    embedRows(out, table, ids, nTokens) {
      const rowBytes = (table.cols / DTYPES[table.dtype].blockElems) * DTYPES[table.dtype].blockBytes;
      const x4 = table.layout !== undefined && table.layout !== "gguf", row = x4 ? embedRow(rowBytes) : table.data;
      for (let t = 0; t < nTokens; t++) {
        const id = ids[t] as number;
        if (!(id >= 0 && id < table.rows)) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): embedding row ${id} outside 0..${table.rows - 1}`);
        if (x4) ggufRowOfX4(table, id, row); // the row back in GGUF order, then the shared dequantizer
        dequantizeRow(table.dtype, row, x4 ? 0 : id * rowBytes, out, t * table.cols, table.cols);
      }
    },
    rmsNorm(out, x, weight, eps, nTokens, dim) {
      const xp = input(x, nTokens * dim, "in-x");
      const wp = input(weight, dim, "in-w");
      output(out, nTokens * dim, "out", false, (op) => {
        if (pool === undefined || nTokens < 2 || nTokens * dim < MIN_PARALLEL_NORM) ex.rmsNorm(op, xp, wp, eps, dim, 0, nTokens);
        else pool.run(OP.rmsNorm, nTokens, 1, (a) => { a[0] = op; a[1] = xp; a[2] = wp; a[3] = eps; a[4] = dim; });
      });
    },
    layerNorm(out, x, weight, bias, eps, nTokens, dim) {
      const xp = input(x, nTokens * dim, "in-x");
      const wp = input(weight, dim, "in-w");
      const bp = input(bias, dim, "in-b");
      output(out, nTokens * dim, "out", false, (op) => {
        if (pool === undefined || nTokens < 2 || nTokens * dim < MIN_PARALLEL_NORM) ex.layerNorm(op, xp, wp, bp, eps, dim, 0, nTokens);
        else pool.run(OP.layerNorm, nTokens, 1, (a) => { a[0] = op; a[1] = xp; a[2] = wp; a[3] = bp; a[4] = eps; a[5] = dim; });
      });
    },
    rope(x, positions, nTokens, nHeads, headDim, spec) {
      const csPtr = ropeTable(positions, nTokens, spec);
      const neox = spec.style === "neox" ? 1 : 0;
      output(x, nTokens * nHeads * headDim, "io-x", true, (xp) => {
        // prefill: tokens split across the pool (the kernel's token range); a decode step's few heads stay here
        if (pool === undefined || nTokens < 2 || nTokens * nHeads * headDim < MIN_PARALLEL_NORM) ex.rope(xp, csPtr, 0, nTokens, nHeads, headDim, spec.nRot, neox);
        else pool.run(OP.rope, nTokens, 1, (a) => { a[0] = xp; a[1] = csPtr; a[2] = nHeads; a[3] = headDim; a[4] = spec.nRot; a[5] = neox; });
      });
    },
    storeKv(dst, src, row, nTokens) {
      const n = nTokens * dst.kvDim;
      const off = row * dst.kvDim;
      if (off + n > dst.data.length) throw new PeelError("CONTEXT_OVERFLOW", `kernels(wasm): KV rows ${row}..${row + nTokens - 1} exceed the cache of ${dst.seqLen}`);
      if (dst.dtype === "F32") { (dst.data as Float32Array).set(src.subarray(0, n), off); return; }
      ex.storeF16(kvPtr(dst) + off * 2, input(src, n, "in-x"), n);
    },
    attention: createAttentionKernel(st),
    ...createElementwiseKernels(st),
  };
  return kernels;
}

function checkWeight(dtype: DType, rows: number, cols: number, data: Uint8Array): void {
  if (!WASM_WEIGHT_TYPES.includes(dtype)) {
    throw new PeelError("UNSUPPORTED", `kernels(wasm): no matrix product for weight type ${dtype}; supported: ${WASM_WEIGHT_TYPES.join(", ")}`);
  }
  const info = DTYPES[dtype];
  const need = rows * (cols / info.blockElems) * info.blockBytes;
  if (cols % info.blockElems !== 0 || data.length < need) {
    throw new PeelError("CONFIG", `kernels(wasm): a ${rows}x${cols} ${dtype} matrix needs ${need} bytes with cols a multiple of ${info.blockElems}; got ${data.length} bytes`);
  }
}
