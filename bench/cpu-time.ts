/**
 * Timing for the microbenchmarks that measure one thread (matmul.ts, roofline.ts): process CPU time, which
 * other processes on a shared machine do not inflate as they do wall time, best of three repeats after a
 * warm-up call.
 */

/** CPU time of this process in ms (user + system). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Best of three: ms of CPU per call of fn, each repeat calling it until at least minMs have passed. */
export function timeIt(fn: () => void, minMs: number): number {
  fn(); // warm-up
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    let n = 0;
    const t0 = cpuMs();
    let t = t0;
    do { fn(); n++; t = cpuMs(); } while (t - t0 < minMs);
    best = Math.min(best, (t - t0) / n);
  }
  return best;
}
