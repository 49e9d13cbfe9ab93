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
 */

import { checkShared, type Kernels, type KvBuffer, type KvDType, type WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { PeelError } from "../../util/errors.js";
import { dequantizeRow } from "../../formats/gguf/dequant/index.js";
import { attention as referenceAttention } from "../ts/attention.js";
import { geluF16Table } from "../ts/elementwise.js";
import { createScratchSlots, createWasmHeap, formatBytes, MAX_PAGES, PAGE_BYTES, type WasmHeap } from "./heap.js";
import { createRopeTables } from "./rope-table.js";
import { chooseSimd, createSharedMemory, instantiateKernels, kernelsModule, type SimdVariant, type WasmExports } from "./module.js";
import { prepareMatmul, runMatmulRows, serialActivations, WASM_WEIGHT_TYPES, type ActivationSplit, type MatmulCall } from "./matmul.js";
import { createThreadPool, type ThreadPool, type WorkerHost } from "./pool.js";
import { MAX_SHARED, matmulArgs, OP } from "./pool-protocol.js";
import { hasWebWorkers, webWorkerHost } from "./host.web.js";

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

/** Jobs smaller than these (multiply-adds; elements for RMSNorm) run on the calling thread alone. */
const MIN_PARALLEL_MACS = 1 << 17;
const MIN_PARALLEL_NORM = 1 << 15;
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

  /** output() for several arrays at once: fn gets their offsets in wasm memory (each staged in its own slot). */
  function outputs(as: readonly Float32Array[], ns: readonly number[], fn: (ptrs: number[]) => void, ptrs: number[] = []): void {
    const i = ptrs.length;
    if (i === as.length) { fn(ptrs); return; }
    output(as[i] as Float32Array, ns[i] as number, `out-${i}`, false, (p) => outputs(as, ns, fn, [...ptrs, p]));
  }

  /** prepareMatmul's per-token work (quantizing prefill activations, laying out tiles) split across the pool. */
  function pooledActivations(job: number, total: number, args: ArrayLike<number>): void {
    if (pool === undefined) throw new Error("unreachable: pooled activations without a pool");
    pool.run(OP.activation, total, 1, (a) => {
      a[0] = job;
      for (let i = 0; i < args.length; i++) a[i + 1] = args[i] as number;
    });
  }

  /** Offset of `a` (n floats) in wasm memory, staging a copy in `slot` if it lives elsewhere. */
  function input(a: Float32Array, n: number, slot: string): number {
    need(a, n, slot);
    const off = heap.offsetOf(a);
    if (off >= 0) return off;
    const p = scratch.get(slot, n * 4);
    heap.f32(p, n).set(a.subarray(0, n));
    return p;
  }
  /** Runs fn on an output offset; a foreign output is computed in scratch and copied back. */
  function output(a: Float32Array, n: number, slot: string, copyIn: boolean, fn: (ptr: number) => void): void {
    need(a, n, slot);
    const off = heap.offsetOf(a);
    if (off >= 0) { fn(off); return; }
    const p = scratch.get(slot, n * 4);
    if (copyIn) heap.f32(p, n).set(a.subarray(0, n));
    fn(p);
    a.set(heap.f32(p, n));
  }
  function weightPtr(w: WeightMatrix): number {
    const off = heap.offsetOf(w.data);
    if (off < 0) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): a ${w.dtype} ${w.rows}x${w.cols} weight was not prepared by this backend (prepareWeight)`);
    return off;
  }
  /** The GELU table (65536 f32) in wasm memory, copied from the reference's on first use: both backends read the same values. */
  let geluTable = -1;
  function geluTablePtr(): number {
    if (geluTable < 0) {
      const t = geluF16Table();
      geluTable = heap.alloc(t.length * 4, "the GELU table");
      heap.f32(geluTable, t.length).set(t);
    }
    return geluTable;
  }
  function kvPtr(b: KvBuffer): number {
    const off = heap.offsetOf(b.data);
    if (off < 0) throw new PeelError("INVALID_ARGUMENT", "kernels(wasm): a KV buffer was not allocated by this backend (allocKv)");
    return off;
  }

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
    attention(out, q, k, v, startPos, nTokens, shape, scratchRow, probs) {
      const { nHeads, nKvHeads, headDim, scale } = shape;
      const cap = shape.softcap ?? 0, window = shape.window ?? 0, kvStart = shape.kvStart ?? 0;
      const flash = shape.flash === "vec" ? 1 : shape.flash === "tiled" ? 2 : 0;
      const causal = shape.causal === false ? 0 : 1;
      // the kernel's f16 sum takes eight lanes at a time; a position bias (T5) has no wasm kernel yet
      if ((flash === 1 && headDim % 8 !== 0) || shape.positionBias !== undefined) {
        referenceAttention(out, q, k, v, startPos, nTokens, shape, scratchRow, probs);
        return;
      }
      // cross-attention (shape.keys): the bidirectional kernel sees rows 0..start + nTokens − 1 and reads
      // startPos for nothing else, so a start of keys − nTokens (negative when the queries outnumber the keys)
      // makes every query see exactly the keys
      const start = causal === 0 && shape.keys !== undefined ? shape.keys - nTokens : startPos;
      const n = nTokens * nHeads * headDim;
      const qp = input(q, n, "in-q");
      const flags = (k.dtype === "F16" ? 1 : 0) | (v.dtype === "F16" ? 2 : 0);
      // the kernel finds position p at row p of the address it is given: with a cache that starts at position
      // kvStart, that is kvStart rows before the buffer (wrapping as u32); only rows ≥ kvStart are ever read
      const kp = kvPtr(k) - kvStart * k.kvDim * (k.dtype === "F16" ? 2 : 4);
      const vp = kvPtr(v) - kvStart * v.kvDim * (v.dtype === "F16" ? 2 : 4);
      // cost in multiply-add equivalents: q·k and p·v per cached position, plus ~64 for the exp and bookkeeping
      // (which dominate for small heads: 260K-class models have headDim 8)
      const work = nTokens * (window > 0 && causal === 1 ? Math.min(window, start + nTokens) : start + nTokens) * nHeads * (2 * headDim + 64);
      const serial = pool === undefined || nHeads < 2 || work < MIN_PARALLEL_MACS;
      // each thread takes one run of heads: the kernel walks the cache rows once for all the heads it is given
      const heads = serial ? nHeads : Math.ceil(nHeads / threads);
      const stride = Math.ceil((ex.attentionScratchFloats(headDim, start + nTokens, heads) * 4 + 16) / 64) * 64;
      const sp = scratch.get("attention", stride * (serial ? 1 : threads));
      const split = serial ? undefined : pool;
      output(out, n, "out", false, (op) => {
        if (split === undefined) {
          ex.attention(op, qp, kp, vp, flags, start, nTokens, nHeads, nKvHeads, headDim, scale, sp, 0, nHeads, cap, window, flash, causal, kvStart);
          return;
        }
        split.run(OP.attention, nHeads, heads, (a) => {
          a[0] = op; a[1] = qp; a[2] = kp; a[3] = vp; a[4] = flags; a[5] = start; a[6] = nTokens;
          a[7] = nHeads; a[8] = nKvHeads; a[9] = headDim; a[10] = scale; a[11] = sp; a[12] = stride; a[13] = cap; a[14] = window; a[15] = flash; a[16] = causal; a[17] = kvStart;
        });
      });
      if (probs) { // the tap's slow path: the standard weights, which flash attention never forms
        const { flash: _, ...standard } = shape;
        referenceAttention(new Float32Array(n), q, k, v, startPos, nTokens, standard, scratchRow, probs);
      }
    },
    swiglu(out, gate, up, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      output(out, n, "out", false, (op) => {
        if (pool === undefined || n < MIN_PARALLEL_NORM) ex.swiglu(op, gp, upp, n);
        else pool.run(OP.swiglu, n, 16, (a) => { a[0] = op; a[1] = gp; a[2] = upp; });
      });
    },
    relu(out, x, n) {
      // one compare per value: not worth a trip through the staging buffers
      for (let i = 0; i < n; i++) { const v = x[i] as number; out[i] = v > 0 ? v : 0; }
    },
    geglu(out, gate, up, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      const tp = geluTablePtr();
      output(out, n, "out", false, (op) => ex.geglu(op, gp, upp, n, tp));
    },
    scale(x, s, n) {
      output(x, n, "io-x", true, (xp) => ex.scaleInPlace(xp, s, n));
    },
    softcap(x, cap, n) {
      output(x, n, "io-x", true, (xp) => ex.softcap(xp, cap, Math.fround(1 / cap), n));
    },
    geluRounded(out, x, n) {
      const xp = input(x, n, "in-x");
      const tp = geluTablePtr();
      output(out, n, "out", false, (op) => ex.geluRounded(op, xp, n, tp));
    },
    gelu(out, x, n) {
      const xp = input(x, n, "in-x");
      output(out, n, "out", false, (op) => ex.gelu(op, xp, n));
    },
    geluBackward(dx, x, dy, n) {
      const xp = input(x, n, "in-x");
      const dyp = input(dy, n, "in-w");
      output(dx, n, "io-x", true, (dxp) => ex.geluBackward(dxp, xp, dyp, n));
    },
    swigluBackward(dGate, dUp, gate, up, dy, n) {
      const gp = input(gate, n, "in-x");
      const upp = input(up, n, "in-w");
      const dyp = input(dy, n, "in-q");
      output(dGate, n, "io-x", true, (dgp) => output(dUp, n, "io-x2", true, (dup) => ex.swigluBackward(dgp, dup, gp, upp, dyp, n)));
    },
    addInPlace(acc, x, n) {
      const xp = input(x, n, "in-x");
      output(acc, n, "io-x2", true, (ap) => ex.addInPlace(ap, xp, n));
    },
    addBias(x, bias, nTokens, dim) {
      const bp = input(bias, dim, "in-b");
      output(x, nTokens * dim, "io-x2", true, (xp) => ex.addBias(xp, bp, nTokens, dim));
    },
    softmax(x, n) {
      output(x, n, "io-x", true, (xp) => ex.softmax(xp, n));
    },
  };
  return kernels;
}

function need(a: ArrayLike<number>, n: number, what: string): void {
  if (a.length < n) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): ${what} has ${a.length} elements, need ${n}`);
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
