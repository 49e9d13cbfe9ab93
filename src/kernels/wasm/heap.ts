/**
 * The allocator of one of the wasm backend's shared WebAssembly.Memory objects (the primary memory, or a
 * weight shard's: a model over 4 GiB takes several 32-bit memories rather than one 64-bit memory, for the
 * reasons shards.ts gives): a bump pointer above the module's static data plus free lists per rounded size
 * (allocations are 64-byte aligned, so SIMD loads never straddle a cache line needlessly). Growing the
 * memory keeps every earlier view valid (shared memory never moves). Running past the memory limit (4 GiB,
 * the most 32-bit WebAssembly can address) is a PeelError that says how much was asked for and how much is
 * in use. It does not know what the bytes are for.
 */

import { PeelError } from "../../util/errors.js";

export const PAGE_BYTES = 65536;
/** 32-bit WebAssembly addresses at most 65536 pages = 4 GiB. */
export const MAX_PAGES = 65536;
const ALIGN = 64;
const MIN_GROW_PAGES = 256; // grow in steps of at least 16 MiB

export interface WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** Bytes handed out and not freed. */
  readonly usedBytes: () => number;
  readonly limitBytes: number;
  /** A 64-byte aligned block of at least `bytes`; `what` names it in the out-of-memory error. */
  alloc(bytes: number, what: string): number;
  free(ptr: number): void;
  f32(ptr: number, n: number): Float32Array;
  u16(ptr: number, n: number): Uint16Array;
  u8(ptr: number, n: number): Uint8Array;
  /** The byte offset of a view that lives in this memory, or −1 for any other buffer. */
  offsetOf(view: ArrayBufferView): number;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** A heap over `memory`, handing out bytes from `base` up to `maxPages` pages (the memory grows to `base` at once). */
export function createWasmHeap(memory: WebAssembly.Memory, base: number, maxPages: number): WasmHeap {
  const limitBytes = maxPages * PAGE_BYTES;
  const buffers = new WeakSet<ArrayBufferLike>();
  const sizes = new Map<number, number>(); // ptr → rounded size
  const freeLists = new Map<number, number[]>(); // rounded size → free ptrs
  let top = Math.ceil(base / ALIGN) * ALIGN;
  let used = 0;

  function buffer(): ArrayBufferLike {
    const b = memory.buffer;
    buffers.add(b);
    return b;
  }
  buffer();

  function grow(end: number, bytes: number, what: string): void {
    const have = memory.buffer.byteLength;
    if (end <= have) return;
    if (end > limitBytes) {
      throw new PeelError("UNSUPPORTED", `kernels(wasm): out of WebAssembly memory: ${what} needs ${formatBytes(bytes)} ` +
        `but ${formatBytes(used)} are already in use and this backend's memory is limited to ${formatBytes(limitBytes)} ` +
        `(32-bit WebAssembly cannot address more than 4 GiB). Use a smaller quantization of the model (e.g. Q4_0) or the ts backend.`);
    }
    const need = Math.ceil((end - have) / PAGE_BYTES);
    const pages = Math.min(Math.max(need, MIN_GROW_PAGES), maxPages - have / PAGE_BYTES);
    memory.grow(pages);
    buffer();
  }

  if (top > limitBytes) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): a memory limit of ${formatBytes(limitBytes)} is below the ${formatBytes(top)} ` +
      "the kernels themselves use (their static data and f16 table); allow more memory (maxMemoryBytes)");
  }
  grow(top, top, "the kernels' static data and tables"); // the module's own bytes below base must exist

  return {
    memory,
    usedBytes: () => used,
    limitBytes,
    alloc(bytes, what) {
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): cannot allocate ${bytes} bytes for ${what}`);
      const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
      const reuse = freeLists.get(size)?.pop();
      let ptr: number;
      if (reuse !== undefined) {
        ptr = reuse;
      } else {
        grow(top + size, bytes, what);
        ptr = top;
        top += size;
      }
      sizes.set(ptr, size);
      used += size;
      return ptr;
    },
    free(ptr) {
      const size = sizes.get(ptr);
      if (size === undefined) throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): free of ${ptr}, which is not an allocated block`);
      sizes.delete(ptr);
      used -= size;
      const list = freeLists.get(size);
      if (list) list.push(ptr);
      else freeLists.set(size, [ptr]);
    },
    f32: (ptr, n) => new Float32Array(buffer(), ptr, n),
    u16: (ptr, n) => new Uint16Array(buffer(), ptr, n),
    u8: (ptr, n) => new Uint8Array(buffer(), ptr, n),
    offsetOf: (view) => (buffers.has(view.buffer) ? view.byteOffset : -1),
  };
}

/** Named scratch blocks that grow on demand and are reused across calls (activation staging, quantized rows). */
export interface ScratchSlots {
  /** A block of at least `bytes` for `slot`; its contents are undefined. */
  get(slot: string, bytes: number): number;
}

export function createScratchSlots(heap: WasmHeap): ScratchSlots {
  const slots = new Map<string, { ptr: number; bytes: number }>();
  return {
    get(slot, bytes) {
      const have = slots.get(slot);
      if (have && have.bytes >= bytes) return have.ptr;
      if (have) heap.free(have.ptr);
      const size = Math.max(bytes, (have?.bytes ?? 0) * 2); // grow geometrically
      const ptr = heap.alloc(size, `scratch "${slot}"`);
      slots.set(slot, { ptr, bytes: size });
      return ptr;
    },
  };
}
