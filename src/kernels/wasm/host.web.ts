/**
 * Pool workers in browsers: module Web Workers running worker.web.js, loaded by URL relative to this file
 * (bundlers such as Vite recognise `new Worker(new URL(...), { type: "module" })`). Shared memory needs a
 * cross-origin isolated page (COOP/COEP headers). Default threads: navigator.hardwareConcurrency, which
 * counts logical cores (browsers do not expose physical ones). Never imported under Node.
 */

import type { WorkerHandle, WorkerHost } from "./pool.js";

/** True where Web Workers exist (browsers, Deno, Bun); Node has no global Worker. */
export function hasWebWorkers(): boolean {
  return typeof Worker === "function" && typeof navigator !== "undefined";
}

export const webWorkerHost: WorkerHost = {
  name: "Web Workers",
  defaultThreads: () => Math.max(1, Math.min(256, navigator.hardwareConcurrency || 1)),
  spawn(): WorkerHandle {
    const w = new Worker(new URL("./worker.web.js", import.meta.url), { type: "module" });
    return {
      postMessage: (m) => w.postMessage(m),
      listen(onMessage, onError) {
        w.onmessage = (e: MessageEvent) => onMessage(e.data);
        w.onerror = (e: ErrorEvent) => onError(new Error(e.message || "the worker script failed to load"));
      },
      unref: () => {},
      terminate: async () => w.terminate(),
    };
  },
};
