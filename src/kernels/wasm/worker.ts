/**
 * The body of a pool worker, the same in a Node worker thread and a browser Web Worker: instantiate the
 * kernels module on each shared memory (the primary one, then any weight shards), say "ready", then loop:
 * poll the control block's epoch for a while (a decode step issues jobs microseconds apart), sleep in
 * Atomics.wait when idle, join each new job unless the main thread already closed it, take chunks until none
 * are left, leave. The quit job ends the loop.
 * Entry files (worker.node.ts, worker.web.ts) only wire the first message to `serveJobs`.
 */

import { instantiateModule } from "./module.js";
import { controlBlock, CTRL, newCallRecord, OP, runChunks, type WorkerInit, type WorkerReport } from "./pool-protocol.js";

/** Waits for the epoch to move past `seen`: polls for `spinMicros`, then sleeps. Returns the new epoch. */
function nextEpoch(ints: Int32Array, seen: number, spinMicros: number): number {
  let e = Atomics.load(ints, CTRL.epoch);
  if (e !== seen) return e;
  const until = performance.now() + spinMicros / 1000;
  for (let i = 1; ; i++) {
    e = Atomics.load(ints, CTRL.epoch);
    if (e !== seen) return e;
    if ((i & 255) === 0 && performance.now() > until) break;
  }
  for (;;) {
    Atomics.add(ints, CTRL.epochSleepers, 1); // before the wait's own check of the epoch: see CTRL.epochSleepers
    Atomics.wait(ints, CTRL.epoch, seen);
    Atomics.sub(ints, CTRL.epochSleepers, 1);
    e = Atomics.load(ints, CTRL.epoch);
    if (e !== seen) return e;
  }
}

export async function serveJobs(init: WorkerInit, report: (r: WorkerReport) => void): Promise<void> {
  let exs;
  try {
    exs = await Promise.all(init.memories.map((m) => instantiateModule(init.module, m)));
  } catch (e) {
    report({ type: "error", message: String(e) });
    return;
  }
  const ctrl = controlBlock(init.control);
  const { ints } = ctrl;
  const call = newCallRecord();
  let seen = Atomics.load(ints, CTRL.epoch);
  report({ type: "ready" });
  for (;;) {
    const e = nextEpoch(ints, seen, init.spinMicros);
    // join, then re-check: the main thread closes a job and then waits for inflight = 0 (seq-cst), so either
    // it sees this worker inside, or this worker sees the job closed (or a newer epoch) and stays out
    Atomics.add(ints, CTRL.inflight, 1);
    if (Atomics.load(ints, CTRL.epoch) !== e || Atomics.load(ints, CTRL.closed) === e) {
      Atomics.sub(ints, CTRL.inflight, 1);
      seen = e;
      continue;
    }
    const quit = Atomics.load(ints, CTRL.op) === OP.quit;
    if (!quit) runChunks(exs, ctrl, init.index, call);
    Atomics.sub(ints, CTRL.inflight, 1);
    if (quit) return;
    seen = e;
  }
}
