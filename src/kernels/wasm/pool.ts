/**
 * The thread pool of the wasm backend, main-thread side: `threads - 1` workers, each running the same
 * kernels module on the same shared WebAssembly.Memory. A job is written into a small shared control block
 * (job code, Float64 arguments, range to split) and published by bumping an epoch with Atomics; the main
 * thread runs part 0 itself, then polls (and, where the runtime lets the main thread block, sleeps) until
 * the workers have counted themselves done. No postMessage per job: a decode step issues ~100 jobs.
 * How workers are created is the host's business (host.node.ts: worker_threads; host.web.ts: Web Workers),
 * so this file runs in both. It does not decide which kernels are split or how (index.ts, pool-protocol.ts).
 */

import { PeelError } from "../../util/errors.js";
import type { WasmExports } from "./module.js";
import { CONTROL_BYTES, controlBlock, CTRL, newCallRecord, OP, parseWorkerInit, runShare, type ControlBlock, type OpCode,
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
}

export interface ThreadPool {
  readonly threads: number;
  /** Runs job `op` with `args` over items 0..total-1, split in contiguous parts on multiples of `granule`. */
  run(op: OpCode, total: number, granule: number, setArgs: (args: Float64Array) => void): void;
  /** Stops the workers; the pool must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Microseconds a worker keeps polling for the next job before sleeping (jobs of one step come µs apart). */
const WORKER_SPIN_MICROS = 300;
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

/** Starts `threads - 1` workers on `memory` and waits until each has instantiated the module. */
export async function createThreadPool(host: WorkerHost, module: WebAssembly.Module, memory: WebAssembly.Memory,
  ex: WasmExports, threads: number): Promise<ThreadPool> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ctrl: ControlBlock = controlBlock(control);
  const { ints } = ctrl;
  const workers = await startWorkers(host, threads - 1, (index) =>
    parseWorkerInit({ module, memory, control, index, spinMicros: WORKER_SPIN_MICROS }));
  const canBlock = mainThreadCanBlock(ints);
  const call = newCallRecord();
  let disposed = false;

  function waitForWorkers(): void {
    let left = Atomics.load(ints, CTRL.pending);
    for (let i = 0; left !== 0 && i < MAIN_SPIN; i++) left = Atomics.load(ints, CTRL.pending);
    while (left !== 0) {
      if (canBlock) Atomics.wait(ints, CTRL.pending, left, 50);
      left = Atomics.load(ints, CTRL.pending);
    }
  }

  return {
    threads,
    run(op, total, granule, setArgs) {
      if (disposed) throw new PeelError("INVALID_ARGUMENT", "kernels(wasm): the thread pool was disposed");
      setArgs(ctrl.args);
      ints[CTRL.op] = op;
      ints[CTRL.parts] = threads;
      ints[CTRL.total] = total;
      ints[CTRL.granule] = granule;
      ints[CTRL.failed] = 0;
      Atomics.store(ints, CTRL.pending, threads - 1);
      Atomics.add(ints, CTRL.epoch, 1); // publishes everything above (sequentially consistent)
      Atomics.notify(ints, CTRL.epoch);
      let error: unknown;
      try {
        runShare(ex, ctrl, 0, call);
      } catch (e) {
        error = e;
      }
      waitForWorkers(); // always, so no worker is still writing when this returns or throws
      if (error !== undefined) throw error;
      if (Atomics.load(ints, CTRL.failed) !== 0) throw new Error("kernels(wasm): a pool worker failed while running a job");
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      ints[CTRL.op] = OP.quit;
      Atomics.add(ints, CTRL.epoch, 1);
      Atomics.notify(ints, CTRL.epoch);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
