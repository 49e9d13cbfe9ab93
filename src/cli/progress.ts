/**
 * The model-loading progress bar: on a terminal stderr, one line redrawn in place (percent, MB/s, sizes)
 * at most ten times a second and erased when loading ends; when stderr is not a terminal, nothing at all,
 * so logs and pipes stay clean. It never writes to stdout and knows nothing of model formats.
 */

import type { OutStream } from "./io.js";

export interface ProgressBar {
  update(loadedBytes: number, totalBytes: number): void;
  /** Erases the bar (call on success and on failure). */
  done(): void;
}

const MIN_INTERVAL_MS = 100;

export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** The text of one bar line, fitted to `width` columns. Exported for tests. */
export function renderBar(label: string, loaded: number, total: number, elapsedMs: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, loaded / total) : 1;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rate = elapsedMs > 0 ? `${(loaded / 1e6 / (elapsedMs / 1000)).toFixed(1)} MB/s` : "";
  const tail = ` ${percent} ${formatBytes(loaded)}/${formatBytes(total)} ${rate}`;
  // Reserve room for the longest tail ("100% 999.9 MB/999.9 MB 9999.9 MB/s") so the bar does not jitter.
  const barWidth = Math.max(0, Math.min(30, width - label.length - Math.max(tail.length, 40) - 4));
  const filled = Math.round(fraction * barWidth);
  const bar = barWidth > 0 ? ` [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]` : "";
  return `${label}${bar}${tail}`.slice(0, Math.max(0, width - 1));
}

export function createProgressBar(stream: OutStream, label: string, now: () => number = () => performance.now()): ProgressBar {
  if (stream.isTTY !== true) return { update() {}, done() {} };
  const start = now();
  let last = -Infinity;
  let drawn = false;
  return {
    update(loaded, total) {
      const t = now();
      if (t - last < MIN_INTERVAL_MS && loaded < total) return;
      last = t;
      drawn = true;
      const width = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
      stream.write(`\r${renderBar(label, loaded, total, t - start, width)}\x1b[K`);
    },
    done() {
      if (drawn) stream.write("\r\x1b[K");
      drawn = false;
    },
  };
}
