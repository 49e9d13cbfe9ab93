/** Entry of a pool worker in a browser (a module Web Worker): hands the first message to serveJobs (worker.ts). */

import { parseWorkerInit, type WorkerReport } from "./pool-protocol.js";
import { serveJobs } from "./worker.js";

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: WorkerReport): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (e) => {
  scope.onmessage = null;
  void serveJobs(parseWorkerInit(e.data), (r) => scope.postMessage(r));
};
