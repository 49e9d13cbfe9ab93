/**
 * The WebAssembly SIMD backend: the Kernels interface over one shared WebAssembly.Memory. Activations, the KV
 * cache and weights live in that memory (`allocF32`, `allocKv` and `prepareWeight` return views into it, and
 * a weight's bytes are copied in once, so the loader's copy can be dropped). Kernels take byte offsets; arrays
 * that live elsewhere (norm gains, test inputs) are staged through scratch blocks, outputs copied back.
 * With `threads` > 1 a pool of workers (pool.ts) shares the memory: big matmuls are split by rows, attention
 * by heads and batched norms (RMSNorm, LayerNorm) by tokens, each row computed by exactly one thread with the
 * same code, so results are bitwise the same for any thread count. Small jobs run on the calling thread alone (waking
 * workers costs more than they save). Embedding rows are dequantized by the shared TS dequantizers (one row
 * per token, exact like get_rows). Browser-safe: in Node, index.node.ts supplies the worker_threads host.
 * The attention wrapper is attention.ts, the element-wise ones elementwise.ts, the staging they share staging.ts.
 */

import { checkShared, type Kernels, type KvBuffer, type KvDType, type WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { PeelError } from "../../util/errors.js";
import { dequantizeRow } from "../../formats/gguf/dequant/index.js";
import { createScratchSlots, createWasmHeap, formatBytes, MAX_PAGES, PAGE_BYTES, type WasmHeap } from "./heap.js";
import { createRopeTables } from "./rope-table.js";
import { chooseSimd, createSharedMemory, instantiateKernels, kernelsModule, type SimdVariant, type WasmExports } from "./module.js";
import { prepareMatmul, runMatmulRows, serialActivations, WASM_WEIGHT_TYPES, type ActivationSplit, type MatmulCall } from "./matmul.js";
import { createThreadPool, type ThreadPool, type WorkerHost } from "./pool.js";
import { MAX_SHARED, matmulArgs, OP } from "./pool-protocol.js";
import { hasWebWorkers, webWorkerHost } from "./host.web.js";
import { createAttentionKernel } from "./attention.js";
import { createElementwiseKernels } from "./elementwise.js";
import { createStaging, MIN_PARALLEL_MACS, MIN_PARALLEL_NORM } from "./staging.js";

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
}

/** The backend's memory and allocator, for diagnostics and the thread pool. */
export interface WasmKernels extends Kernels {
  readonly heap: WasmHeap;
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
  const pool = threads > 1 && host !== undefined ? await createThreadPool(host, await kernelsModule(simd), memory, ex, threads) : undefined;
  return bindKernels(ex, heap, pool, simd);
}

function bindKernels(ex: WasmExports, heap: WasmHeap, startedPool: ThreadPool | undefined, simd: SimdVariant): WasmKernels {
  const scratch = createScratchSlots(heap);
  let weightBytes = 0;
  let pool = startedPool;
  const threads = pool?.threads ?? 1;

  function runMatmul(c: MatmulCall): void {
    if (pool === undefined || c.rows * c.cols * c.nTokens < MIN_PARALLEL_MACS || c.rows < 2 * ROW_GRANULE) {
      runMatmulRows(ex, c, 0, c.rows);
      return;
    }
    runPooled(pool, c, [c.out], [c.w], [c.rows]);
  }

  /** Products with c's input and weight type (c is the first) as one pool job, each thread with its row scratch. */
  function runPooled(p: ThreadPool, c: MatmulCall, outs: readonly number[], ws: readonly number[], rows: readonly number[]): void {
    const stride = Math.ceil(c.rowScratchBytes / 64) * 64;
    const rowScratch = c.rowScratch === 0 ? 0 : scratch.get("w-row-pool", stride * p.threads);
    const total = rows.reduce((a, b) => a + b, 0);
    p.run(OP.matmul, total, ROW_GRANULE, (a) => matmulArgs(a, c, outs, ws, rows, rowScratch, stride));
  }

  const ropeTable = createRopeTables(heap, scratch);

  const serialSplit = serialActivations(ex);
  /** How prepareMatmul runs its per-token work: on the pool for prefill-sized inputs, else on this thread. */
  function activationSplit(nTokens: number, cols: number): ActivationSplit {
    return pool !== undefined && nTokens > 1 && nTokens * cols >= MIN_PARALLEL_NORM ? pooledActivations : serialSplit;
  }

  /** prepareMatmul's per-token work (quantizing prefill activations, laying out tiles) split across the pool. */
  function pooledActivations(job: number, total: number, args: ArrayLike<number>): void {
    if (pool === undefined) throw new Error("unreachable: pooled activations without a pool");
    pool.run(OP.activation, total, 1, (a) => {
      a[0] = job;
      for (let i = 0; i < args.length; i++) a[i + 1] = args[i] as number;
    });
  }

  const st = createStaging(ex, heap, scratch, threads, () => pool);
  const { input, output, outputs, weightPtr, kvPtr } = st;

  const kernels: WasmKernels = {
    name: "wasm",
    heap,
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
      if (heap.usedBytes() + totalBytes > heap.limitBytes) {
        throw new PeelError("UNSUPPORTED", `kernels(wasm): ${modelDescription} has ${formatBytes(totalBytes)} of weights, more than ` +
          `WebAssembly memory can hold: the limit is ${formatBytes(heap.limitBytes)} (32-bit WebAssembly addresses at most 4 GiB)` +
          `${heap.usedBytes() > 0 ? ` and ${formatBytes(heap.usedBytes())} are already in use` : ""}. ` +
          "Use a smaller quantization (e.g. Q4_0) or the ts backend.");
      }
    },
    prepareWeight(dtype, rows, cols, data): WeightMatrix {
      checkWeight(dtype, rows, cols, data);
      const bytes = rows * (cols / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes;
      if (heap.offsetOf(data) >= 0) return { dtype, rows, cols, data: data.subarray(0, bytes) };
      let p: number;
      try {
        p = heap.alloc(bytes, `a ${dtype} ${rows}x${cols} weight matrix`);
      } catch (e) {
        if (!(e instanceof PeelError) || e.code !== "UNSUPPORTED") throw e;
        throw new PeelError("UNSUPPORTED", `kernels(wasm): the model does not fit in WebAssembly memory: its weights need at least ` +
          `${formatBytes(weightBytes + bytes)} (${formatBytes(weightBytes)} loaded, plus a ${dtype} ${rows}x${cols} matrix of ${formatBytes(bytes)}, ` +
          `more to come) and the limit is ${formatBytes(heap.limitBytes)} (32-bit WebAssembly addresses at most 4 GiB). ` +
          `Use a smaller quantization (e.g. Q4_0) or the ts backend.`, { cause: e });
      }
      weightBytes += bytes;
      const view = heap.u8(p, bytes);
      view.set(data.subarray(0, bytes));
      return { dtype, rows, cols, data: view };
    },
    allocKv(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer {
      const n = seqLen * kvDim;
      const p = heap.alloc(n * (dtype === "F16" ? 2 : 4), `a KV cache buffer of ${seqLen}x${kvDim} ${dtype}`);
      const data = dtype === "F16" ? heap.u16(p, n).fill(0) : heap.f32(p, n).fill(0);
      return { dtype, data, seqLen, kvDim };
    },
    matmul(out, w, x, nTokens) {
      const wp = weightPtr(w);
      const xp = input(x, nTokens * w.cols, "in-x");
      output(out, nTokens * w.rows, "out", false, (op) => {
        runMatmul(prepareMatmul(ex, scratch, w.dtype, op, wp, xp, w.rows, w.cols, nTokens, activationSplit(nTokens, w.cols)));
      });
    },
    matmulShared(outs, ws, x, nTokens) {
      checkShared("wasm", outs, ws);
      const w0 = ws[0] as WeightMatrix, cols = w0.cols;
      const rows = ws.map((w) => w.rows), total = rows.reduce((a, b) => a + b, 0);
      const p = pool;
      if (p === undefined || ws.length < 2 || ws.length > MAX_SHARED || total * cols * nTokens < MIN_PARALLEL_MACS ||
        ws.some((w) => w.dtype !== w0.dtype || w.rows % ROW_GRANULE !== 0)) {
        for (let i = 0; i < ws.length; i++) kernels.matmul(outs[i] as Float32Array, ws[i] as WeightMatrix, x, nTokens);
        return;
      }
      // one weight type, so one rounding of x serves every matrix; rows on the granule, so every chunk bound
      // inside a matrix falls where a single product's would
      const wps = ws.map(weightPtr);
      const xp = input(x, nTokens * cols, "in-x");
      outputs(outs, rows.map((r) => nTokens * r), (ops) => {
        runPooled(p, prepareMatmul(ex, scratch, w0.dtype, ops[0] as number, wps[0] as number, xp, w0.rows, cols, nTokens, activationSplit(nTokens, cols)), ops, wps, rows);
      });
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
      output(out, nTokens * rows, "out", false, (op) => runMatmul({ dtype: "F32", out: op, w: wp, x: xp, rows, cols, nTokens, rowScratch: 0, rowScratchBytes: 0, meta: 0 }));
    },
    embedRows(out, table, ids, nTokens) {
      const rowBytes = (table.cols / DTYPES[table.dtype].blockElems) * DTYPES[table.dtype].blockBytes;
      for (let t = 0; t < nTokens; t++) {
        const id = ids[t] as number;
        if (!(id >= 0 && id < table.rows)) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): embedding row ${id} outside 0..${table.rows - 1}`);
        dequantizeRow(table.dtype, table.data, id * rowBytes, out, t * table.cols, table.cols);
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
      output(x, nTokens * nHeads * headDim, "io-x", true, (xp) =>
        ex.rope(xp, csPtr, nTokens, nHeads, headDim, spec.nRot, spec.style === "neox" ? 1 : 0));
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
