/**
 * File-backed ByteSource for Node: positional reads through one open file handle, each read into a
 * fresh, exactly-sized Uint8Array (so views over it are 8-byte aligned), or into the caller's buffer
 * (readInto: a model's weights go straight into WebAssembly memory). It does not mmap or cache.
 */

import { open } from "node:fs/promises";
import { PeelError } from "../util/errors.js";
import { checkRange, type ByteSource } from "./byte-source.js";

/** Largest single fs read (Node refuses reads of 2 GiB or more). */
const MAX_READ = 1 << 30;

export async function openFileSource(path: string): Promise<ByteSource> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(e);
    throw new PeelError("IO", `cannot open ${path}: ${why}`, { cause: e });
  }
  const fh = handle;
  const stat = await fh.stat();
  if (!stat.isFile()) {
    await fh.close();
    throw new PeelError("IO", `cannot read ${path}: not a regular file`);
  }
  const size = stat.size;
  let closed = false;
  async function readAt(offset: number, out: Uint8Array): Promise<void> {
    const length = out.length;
    checkRange(path, size, offset, length);
    if (closed) throw new PeelError("IO", `${path}: read after close`);
    let done = 0;
    while (done < length) {
      const want = Math.min(MAX_READ, length - done);
      const { bytesRead } = await fh.read(out, done, want, offset + done);
      if (bytesRead === 0) {
        throw new PeelError("FORMAT", `${path}: truncated: file ended at ${offset + done} while reading ${length} bytes at ${offset} (did it shrink?)`);
      }
      done += bytesRead;
    }
  }
  return {
    size,
    description: path,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const out = new Uint8Array(length);
      await readAt(offset, out);
      return out;
    },
    readInto: readAt,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}
