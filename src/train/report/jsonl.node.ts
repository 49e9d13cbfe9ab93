/**
 * An append-only JSON Lines log (one record per line) for training metrics. Each write goes to disk
 * before it returns, so a run that crashes or is killed keeps every line logged so far.
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { PeelError } from "../../util/errors.js";

export interface JsonlLog {
  readonly path: string;
  /** Appends `record` as one line (NaN and Infinity become null, as in JSON.stringify); INVALID_ARGUMENT if it cannot be serialized. */
  write(record: object): void;
  close(): void;
}

export interface JsonlLogOptions {
  /** Keep existing lines (resuming a run); false starts the file empty. */
  readonly append: boolean;
}

export function createJsonlLog(path: string, opts: JsonlLogOptions): JsonlLog {
  let fd: number;
  try {
    fd = openSync(path, opts.append ? "a" : "w");
  } catch (e) {
    throw new PeelError("IO", `cannot open log ${path}: ${String(e)}`, { cause: e });
  }
  let open = true;
  return {
    path,
    write(record: object): void {
      if (!open) throw new PeelError("INVALID_ARGUMENT", `log ${path}: write after close`);
      const line = toLine(record, path);
      try {
        writeSync(fd, line);
      } catch (e) {
        throw new PeelError("IO", `cannot write log ${path}: ${String(e)}`, { cause: e });
      }
    },
    close(): void {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

function toLine(record: object, path: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(record);
  } catch (e) {
    throw new PeelError("INVALID_ARGUMENT", `log ${path}: record cannot be written as JSON: ${String(e)}`, { cause: e });
  }
  if (json === undefined) throw new PeelError("INVALID_ARGUMENT", `log ${path}: record cannot be written as JSON`);
  return json + "\n";
}
