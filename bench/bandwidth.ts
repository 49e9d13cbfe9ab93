/**
 * A quick memory-bandwidth probe for the roofline of bench/llamacpp.ts: `threads` worker threads each copy
 * a 64 MiB buffer several times (memcpy through TypedArray.set); the figure is bytes read per second, summed
 * over threads (a copy also writes as many bytes; reads are what a matrix-vector product streams).
 */

import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const n = workerData.bytes, reps = workerData.reps;
const a = new Uint8Array(n).fill(1), b = new Uint8Array(n);
b.set(a); // first touch
const t0 = performance.now();
for (let i = 0; i < reps; i++) (i & 1 ? a : b).set(i & 1 ? b : a);
parentPort.postMessage({ bytes: n * reps, ms: performance.now() - t0 });
`;

/** Best of `tries` of the summed read bandwidth of `threads` copying threads, in GB/s (1e9 bytes). */
export async function measureBandwidth(threads: number, tries = 3): Promise<number> {
  let best = 0;
  for (let t = 0; t < tries; t++) {
    const results = await Promise.all(Array.from({ length: threads }, () => new Promise<{ bytes: number; ms: number }>((resolve, reject) => {
      const w = new Worker(WORKER, { eval: true, workerData: { bytes: 64 << 20, reps: 8 } });
      w.once("message", resolve);
      w.once("error", reject);
    })));
    const gbs = results.reduce((s, r) => s + r.bytes / (r.ms * 1e6), 0);
    best = Math.max(best, gbs);
  }
  return best;
}
