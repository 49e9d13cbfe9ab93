/**
 * Pool workers in Node: worker_threads running worker.node.js (worker.node.ts when Peel runs from sources
 * under tsx, whose loader the worker inherits through execArgv). Default threads: physical cores, counted
 * from the distinct (physical id, core id) pairs of /proc/cpuinfo on Linux, else os.availableParallelism()
 * (logical cores) where that file is absent.
 */

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { WorkerHandle, WorkerHost } from "./pool.js";

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

const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./worker.node.ts" : "./worker.node.js", import.meta.url);

export const nodeWorkerHost: WorkerHost = {
  name: "worker_threads",
  defaultThreads: () => Math.max(1, Math.min(256, physicalCores())),
  spawn(): WorkerHandle {
    const w = new Worker(ENTRY);
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
