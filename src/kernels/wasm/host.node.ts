/**
 * Pool workers in Node: worker_threads running worker.node.js (worker.node.ts when Peel runs from sources
 * under tsx, whose loader the worker inherits through execArgv). Default threads: physical cores, counted
 * from the distinct (physical id, core id) pairs of /proc/cpuinfo on Linux, else os.availableParallelism()
 * (logical cores) where that file is absent. Also switches on relaxed SIMD where Node keeps it behind a flag.
 */

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import { relaxedSimdSupported } from "./module.js";
import type { WorkerHandle, WorkerHost } from "./pool.js";

/**
 * Node 20 (V8 11.3) implements relaxed SIMD but validates it only under --experimental-wasm-relaxed-simd;
 * Node 22 and later have it on. The flag is process-wide and read when a module is validated or compiled,
 * so setting it before the kernels compile is enough (worker threads share it). PEEL_RELAXED_SIMD=0 in the
 * environment leaves V8 untouched (the kernels then take the baseline build on Node 20).
 * Returns whether relaxed SIMD is available afterwards.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdSupported()) return true;
  if (process.env.PEEL_RELAXED_SIMD === "0") return false;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return relaxedSimdSupported();
}

/** Physical cores on Linux; logical cores elsewhere. */
export function physicalCores(): number {
  const logical = availableParallelism();
  let text: string;
  try {
    text = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return logical;
  }
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
  }
  return cores.size > 0 ? Math.min(cores.size, logical) : logical;
}

/**
 * Built code starts worker.node.js directly. From sources (tests, `node --import tsx`), Node 20 does not
 * carry the tsx loader into worker threads, so a two-line bootstrap registers it first and then imports
 * worker.node.ts (tsx is a development dependency; only a source checkout takes this path).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./worker.node.js", import.meta.url));
  const entry = new URL("./worker.node.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true });
}

export const nodeWorkerHost: WorkerHost = {
  name: "worker_threads",
  defaultThreads: () => Math.max(1, Math.min(256, physicalCores())),
  prepareRuntime: () => { enableRelaxedSimd(); },
  spawn(): WorkerHandle {
    const w = startWorker();
    return {
      postMessage: (m) => w.postMessage(m),
      listen(onMessage, onError) {
        w.on("message", onMessage);
        w.on("error", onError);
        w.on("exit", (code) => onError(new Error(`the worker exited with code ${code}`)));
      },
      unref: () => w.unref(),
      terminate: async () => { await w.terminate(); },
    };
  },
};
