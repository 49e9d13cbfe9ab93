/**
 * Random-access byte sources: the one interface every format reader pulls bytes through, so a reader
 * never needs to hold a whole multi-GB file in memory. This file is browser-safe (in-memory sources only);
 * the file-backed source lives in byte-source.node.ts. It does not cache or prefetch.
 */

import { PeelError } from "../util/errors.js";

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; throws PeelError FORMAT "truncated" past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads dest.length bytes at `offset` straight into dest (which may view a SharedArrayBuffer,
   * e.g. WebAssembly memory), without a buffer of its own in between.
   */
  readInto?(offset: number, dest: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Used in error messages: a file path or "in-memory bytes". */
  readonly description: string;
}

/** Throws the standard "truncated" error when [offset, offset+length) is not inside a source of `size` bytes. */
export function checkRange(description: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new PeelError("INVALID_ARGUMENT", `${description}: bad read range offset=${offset} length=${length}`);
  }
  if (offset + length > size) {
    const available = Math.max(0, size - offset);
    throw new PeelError(
      "FORMAT",
      `${description}: truncated: wanted ${length} bytes at offset ${offset}, but only ${available} are available ` +
        `(size ${size}); the file is incomplete or corrupt`,
    );
  }
}

/** Throws ABORTED, naming the source, once `signal` has fired; readers check it between reads. */
export function checkAbort(signal: AbortSignal | undefined, description: string): void {
  if (signal?.aborted === true) throw new PeelError("ABORTED", `${description}: loading was aborted`);
}

/** Largest single read: a multi-GB tensor is read in pieces of this size, checking for an abort in between. */
const MAX_CHUNK = 256 * 1024 * 1024;

/** Reads `size` bytes at `at` (one read when small, 256 MiB chunks into one buffer when large). */
export async function readChunked(source: ByteSource, at: number, size: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (size <= MAX_CHUNK) return source.read(at, size);
  const out = new Uint8Array(size);
  for (let done = 0; done < size; done += MAX_CHUNK) {
    checkAbort(signal, source.description);
    out.set(await source.read(at + done, Math.min(MAX_CHUNK, size - done)), done);
  }
  return out;
}

/** Pieces of readInto: small, so copying a tensor into the caller's buffer holds little else at a time. */
const INTO_CHUNK = 16 * 1024 * 1024;

/**
 * Reads dest.length bytes at `at` into dest, in 16 MiB pieces: straight in where the source can, else each
 * piece read and copied (a fresh buffer per piece costs page faults, which on some VMs run at ~10 s/GiB).
 */
export async function readInto(source: ByteSource, at: number, dest: Uint8Array, signal: AbortSignal | undefined): Promise<Uint8Array> {
  for (let done = 0; done < dest.length; done += INTO_CHUNK) {
    checkAbort(signal, source.description);
    const n = Math.min(INTO_CHUNK, dest.length - done);
    if (source.readInto !== undefined) await source.readInto(at + done, dest.subarray(done, done + n));
    else dest.set(await source.read(at + done, n), done);
  }
  return dest;
}

/** A source over bytes already in memory; `read` returns views (no copies). */
export function bytesSource(bytes: Uint8Array, description = "in-memory bytes"): ByteSource {
  return {
    size: bytes.length,
    description,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        checkRange(description, bytes.length, offset, length);
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
  };
}

/**
 * A Blob (a browser File dropped on a page, or Node's Blob) as a ByteSource: each read slices the blob, so a
 * multi-GB file is never held whole.
 */
export function blobSource(blob: Blob, description = "a Blob"): ByteSource {
  return {
    size: blob.size,
    description,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(description, blob.size, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
  };
}
