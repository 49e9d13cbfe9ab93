/** Entry of a pool worker in Node (worker_threads): hands the first message to serveJobs (worker.ts). */

import { parentPort } from "node:worker_threads";
import { parseWorkerInit } from "./pool-protocol.js";
import { serveJobs } from "./worker.js";

const port = parentPort;
if (port === null) throw new Error("worker.node.ts is the entry of a pool worker thread, not a program");
port.once("message", (m: unknown) => {
  void serveJobs(parseWorkerInit(m), (r) => port.postMessage(r));
});
