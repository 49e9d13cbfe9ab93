/**
 * The thread pool of the wasm backend, main-thread side: `threads - 1` workers, each running the same
 * kernels module on the same shared WebAssembly.Memory. A job is written into a small shared control block
 * (job code, Float64 arguments, items and chunk size) and published by bumping an epoch with Atomics; the
 * main thread takes chunks like any worker, then polls (and, where the runtime lets the main thread block,
 * sleeps) until every chunk is done, closes the job and waits for workers still inside it to leave.
 * No postMessage per job: a decode step issues ~100 jobs.
 * How workers are created is the host's business (host.node.ts: worker_threads; host.web.ts: Web Workers),
 * so this file runs in both. It does not decide which kernels are split or how (index.ts, pool-protocol.ts).
 */

import { PeelError } from "../../util/errors.js";
import type { WasmExports } from "./module.js";
import { chunkSize, CONTROL_BYTES, controlBlock, CTRL, newCallRecord, OP, parseWorkerInit, runChunks, type ControlBlock, type OpCode,
  type WorkerInit, type WorkerReport } from "./pool-protocol.js";

/** A started worker, as the pool sees it. */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  /** Messages the worker posts (WorkerReport), and failures to start or crashes (as an Error). */
  listen(onMessage: (message: unknown) => void, onError: (error: Error) => void): void;
  /** Stops keeping the process alive (Node); a no-op in browsers. */
  unref(): void;
  terminate(): Promise<void>;
}

/** How a runtime creates pool workers and how many threads it uses by default. */
export interface WorkerHost {
  readonly name: string;
  spawn(): WorkerHandle;
  /** Threads when the caller does not say (physical cores where the runtime can tell). */
  defaultThreads(): number;
  /**
   * Runtime switches the kernels want, called before they compile: in Node 20, relaxed SIMD is behind a V8
   * flag (host.node.ts turns it on). Optional; browsers need none.
   */
  prepareRuntime?(): void;
}

export interface ThreadPool {
  readonly threads: number;
  /**
   * Runs job `op` with `args` over items 0..total-1, cut into chunks on multiples of `granule`, on the
   * kernels instance of memory `shard` (0: the primary; shards.ts).
   */
  run(op: OpCode, total: number, granule: number, setArgs: (args: Float64Array) => void, shard?: number): void;
  /** Chunks run by workers so far (0 means the calling thread did all the work). */
  workerChunks(): number;
  /** Stops the workers; the pool must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Microseconds a worker keeps polling for the next job before sleeping (jobs of one step come µs apart). */
const WORKER_SPIN_MICROS = 200;
/** Polls of the main thread before it sleeps in Atomics.wait (where allowed) while workers finish. */
const MAIN_SPIN = 1 << 14;

function mainThreadCanBlock(ints: Int32Array): boolean {
  try {
    Atomics.wait(ints, CTRL.failed, 1, 0); // the value differs: returns at once, or throws where blocking is not allowed
    return true;
  } catch {
    return false;
  }
}

async function startWorkers(host: WorkerHost, n: number, initFor: (index: number) => WorkerInit): Promise<WorkerHandle[]> {
  const workers: WorkerHandle[] = [];
  const ready: Array<Promise<void>> = [];
  for (let i = 1; i <= n; i++) {
    const w = host.spawn();
    workers.push(w);
    ready.push(new Promise<void>((resolve, reject) => {
      let started = false;
      w.listen((m) => {
        const r = m as WorkerReport;
        if (r.type === "ready") { started = true; resolve(); } else reject(new Error(r.message));
      }, (e) => { if (!started) reject(e); });
    }));
    w.postMessage(initFor(i));
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw new PeelError("UNSUPPORTED", `kernels(wasm): the thread pool could not start its ${n} worker(s) (${host.name}): ${String(e)}. ` +
      "Use threads: 1 (--threads 1) to run without workers.", { cause: e });
  }
  for (const w of workers) w.unref(); // an idle pool never keeps the process alive
  return workers;
}

/**
 * Starts `threads - 1` workers on `memories` (the primary first, then weight shards; `exs` are this thread's
 * instances on them) and waits until each has instantiated the module on every memory.
 */
export async function createThreadPool(host: WorkerHost, module: WebAssembly.Module, memories: readonly WebAssembly.Memory[],
  exs: readonly WasmExports[], threads: number): Promise<ThreadPool> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ctrl: ControlBlock = controlBlock(control);
  const { ints } = ctrl;
  const workers = await startWorkers(host, threads - 1, (index) =>
    parseWorkerInit({ module, memories, control, index, spinMicros: WORKER_SPIN_MICROS }));
  const canBlock = mainThreadCanBlock(ints);
  const call = newCallRecord();
  let disposed = false;

  /** Polls slot `at` until it equals `want` (sleeping between polls where the main thread may block). */
  function waitFor(at: number, want: number): void {
    let v = Atomics.load(ints, at);
    for (let i = 0; v !== want && i < MAIN_SPIN; i++) v = Atomics.load(ints, at);
    while (v !== want) {
      if (canBlock) {
        Atomics.add(ints, CTRL.doneSleepers, 1);
        Atomics.wait(ints, at, v, 1);
        Atomics.sub(ints, CTRL.doneSleepers, 1);
      }
      v = Atomics.load(ints, at);
    }
  }

  return {
    threads,
    workerChunks: () => Atomics.load(ints, CTRL.workerChunks),
    run(op, total, granule, setArgs, shard = 0) {
      if (disposed) throw new PeelError("INVALID_ARGUMENT", "kernels(wasm): the thread pool was disposed");
      setArgs(ctrl.args);
      const chunk = chunkSize(total, granule, threads);
      ints[CTRL.op] = op;
      ints[CTRL.shard] = shard;
      ints[CTRL.total] = total;
      ints[CTRL.chunk] = chunk;
      ints[CTRL.failed] = 0;
      ints[CTRL.next] = 0;
      ints[CTRL.done] = 0;
      const epoch = Atomics.add(ints, CTRL.epoch, 1) + 1; // publishes everything above (sequentially consistent)
      if (Atomics.load(ints, CTRL.epochSleepers) !== 0) Atomics.notify(ints, CTRL.epoch); // spinning workers see the epoch
      runChunks(exs, ctrl, 0, call);
      waitFor(CTRL.done, Math.ceil(total / chunk)); // chunks taken by workers
      Atomics.store(ints, CTRL.closed, epoch); // late workers stay out...
      waitFor(CTRL.inflight, 0); // ...and early ones have left: the control block is free again
      if (Atomics.load(ints, CTRL.failed) !== 0) throw new Error("kernels(wasm): a kernel failed in the thread pool");
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      ints[CTRL.op] = OP.quit;
      ints[CTRL.total] = 0;
      ints[CTRL.chunk] = 1;
      Atomics.add(ints, CTRL.epoch, 1);
      Atomics.notify(ints, CTRL.epoch);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
