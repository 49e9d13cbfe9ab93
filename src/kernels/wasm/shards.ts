/**
 * Weight shards: how the wasm backend holds more weights than one 32-bit WebAssembly memory can address.
 * Shard 0 is the backend's primary memory (activations, KV cache, norms, scratch, and the weights when they
 * fit beside them). When they do not, the weights go to extra shards instead: each its own shared memory of
 * at most 4 GiB with its own instance of the same kernels module (and its own f16 table, and scratch for the
 * inputs and outputs staged into it). A matrix lives whole in one shard, placed first-fit shard by shard; a
 * product whose weight lives in shard k runs in shard k's instance (pool workers instantiate every shard
 * too), its input copied in and its output copied back: activations are small next to weights (decode: one
 * row of `cols` floats against `rows × cols` weight bytes).
 *
 * Why several memories and not memory64: Node 20 validates 64-bit memories only behind
 * --experimental-wasm-memory64 and the default path must run in plain Node 20; a memory64 build would also
 * be a second compilation of every kernel with 64-bit pointers, and the pool's per-job arguments are
 * Float64 offsets that would need to become 64-bit too. Shards reuse the one module unchanged.
 * The number of shards is fixed when the backend is created (from the weight bytes the loader announces),
 * because pool workers can only receive a new memory by message and they never yield to their event loop.
 * It does not decide which products run where beyond "the shard of the weight" (index.ts).
 */

import { PeelError } from "../../util/errors.js";
import { createScratchSlots, createWasmHeap, formatBytes, MAX_PAGES, PAGE_BYTES, type ScratchSlots, type WasmHeap } from "./heap.js";
import { createSharedMemory, instantiateModule, type WasmExports } from "./module.js";

/** One memory with its kernels instance, allocator and scratch. */
export interface Shard {
  readonly index: number;
  readonly memory: WebAssembly.Memory;
  readonly ex: WasmExports;
  readonly heap: WasmHeap;
  readonly scratch: ScratchSlots;
}

export interface ShardSet {
  /** shards[0] is the primary memory; the others hold only weights (and their staging scratch). */
  readonly shards: readonly Shard[];
  /** The shard whose memory holds `view`, or undefined. */
  find(view: ArrayBufferView): Shard | undefined;
  /** A 64-byte aligned block for `bytes` of weights in the first shard with room; `what` names it in errors. */
  placeWeight(bytes: number, what: string): { shard: Shard; ptr: number };
  /** Bytes of weights placed so far, and how many more the shards can take at most (ignoring fragmentation). */
  weightBytes(): number;
  roomBytes(): number;
}

/** Most memories one backend creates: the primary and 15 weight memories (~56 GiB of weights, beyond any model a CPU decodes usefully). */
export const MAX_SHARDS = 16;
const MAX_SHARD_BYTES = MAX_PAGES * PAGE_BYTES;

/** Scratch kept free in a weight shard for the products run there (staged inputs, quantized rows, outputs). */
function shardReserve(limitBytes: number): number {
  return Math.min(256 * 2 ** 20, Math.floor(limitBytes / 4));
}
/** Room kept in the primary memory for activations, the KV cache and scratch before weights move to shards. */
function primaryReserve(limitBytes: number): number {
  return Math.min(2 ** 30, Math.floor(limitBytes / 4));
}

export interface ShardPlan {
  /** Weight bytes the loader announces (0: unknown; then everything goes to the primary memory). */
  readonly weightBytes: number;
  /** Force weight shards of at most this many bytes (tests); default 4 GiB, used only when needed. */
  readonly shardBytes: number | undefined;
}

/** Extra memories for `plan` beside a primary memory of `primaryBytes` (0: the weights stay in the primary). */
export function extraShards(plan: ShardPlan, primaryBytes: number, staticBytes: number): number {
  const limit = plan.shardBytes ?? MAX_SHARD_BYTES;
  if (!(limit > 0 && limit <= MAX_SHARD_BYTES)) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): shardBytes must be in 1..${MAX_SHARD_BYTES}, got ${limit}`);
  }
  const fitsPrimary = plan.weightBytes <= primaryBytes - staticBytes - primaryReserve(primaryBytes);
  if (plan.weightBytes <= 0 || (plan.shardBytes === undefined && fitsPrimary)) return 0;
  const capacity = shardCapacity(limit, staticBytes);
  // one spare: matrices are never split, so first-fit leaves up to one matrix of room unused per shard
  const n = Math.ceil(plan.weightBytes / capacity) + 1;
  if (n > MAX_SHARDS - 1) {
    throw new PeelError("UNSUPPORTED", `kernels(wasm): the model's ${formatBytes(plan.weightBytes)} of weights need ${n} WebAssembly memories ` +
      `of ${formatBytes(limit)} and this backend creates at most ${MAX_SHARDS - 1} beside its main one ` +
      `(${formatBytes((MAX_SHARDS - 1) * capacity)} of weights). Use a smaller quantization of the model.`);
  }
  return n;
}

function shardCapacity(limitBytes: number, staticBytes: number): number {
  const capacity = limitBytes - Math.ceil(staticBytes / PAGE_BYTES) * PAGE_BYTES - shardReserve(limitBytes);
  if (capacity <= 0) {
    throw new PeelError("INVALID_ARGUMENT", `kernels(wasm): a weight shard of ${formatBytes(limitBytes)} leaves no room for weights ` +
      `beside the kernels' ${formatBytes(staticBytes)} of static data and ${formatBytes(shardReserve(limitBytes))} of scratch; allow larger shards (shardBytes)`);
  }
  return capacity;
}

/** A shard over a fresh memory of at most `limitBytes`, with the kernels instantiated and their f16 table filled. */
async function createShard(index: number, module: WebAssembly.Module, limitBytes: number): Promise<Shard> {
  const maxPages = Math.floor(limitBytes / PAGE_BYTES);
  const memory = createSharedMemory(1, maxPages);
  const ex = await instantiateModule(module, memory);
  const heap = createWasmHeap(memory, ex.heapBase(), maxPages);
  ex.initF16Table();
  return { index, memory, ex, heap, scratch: createScratchSlots(heap) };
}

/** The primary shard plus `extra` weight shards of `plan.shardBytes` (default 4 GiB) each. */
export async function createShardSet(primary: Omit<Shard, "index" | "scratch">, module: WebAssembly.Module, extra: number,
  shardBytes: number | undefined): Promise<ShardSet> {
  const limit = shardBytes ?? MAX_SHARD_BYTES;
  const shards: Shard[] = [{ index: 0, ...primary, scratch: createScratchSlots(primary.heap) }];
  for (let i = 1; i <= extra; i++) shards.push(await createShard(i, module, limit));
  const weightShards = extra > 0 ? shards.slice(1) : shards;
  const placed = weightShards.map(() => 0);
  const capacity = extra > 0 ? shardCapacity(limit, primary.ex.heapBase()) : primary.heap.limitBytes;
  let total = 0;
  /** The out-of-memory error of placeWeight: how much is loaded, what asked for more, and why it has no room. */
  function tooBig(bytes: number, what: string, why: string, cause?: unknown): PeelError {
    return new PeelError("UNSUPPORTED", `kernels(wasm): the model does not fit in WebAssembly memory: its weights need at least ` +
      `${formatBytes(total + bytes)} (${formatBytes(total)} loaded, plus ${what} of ${formatBytes(bytes)}, more to come). ${why} ` +
      "Use a smaller quantization of the model (e.g. Q4_0) or the ts backend.", cause === undefined ? undefined : { cause });
  }
  return {
    shards,
    find(view) {
      for (const s of shards) if (s.heap.offsetOf(view) >= 0) return s;
      return undefined;
    },
    placeWeight(bytes, what) {
      for (let i = 0; i < weightShards.length; i++) {
        const s = weightShards[i] as Shard;
        // the primary alone has no budget of its own: its allocator's error says what is in use
        if (extra > 0 && (placed[i] as number) + bytes > capacity) continue;
        let ptr: number;
        try {
          ptr = s.heap.alloc(bytes, what);
        } catch (e) {
          if (!(e instanceof PeelError) || e.code !== "UNSUPPORTED") throw e;
          throw tooBig(bytes, what, e.message.replace(/^kernels\(wasm\): /, ""), e);
        }
        placed[i] = (placed[i] as number) + bytes;
        total += bytes;
        return { shard: s, ptr };
      }
      throw tooBig(bytes, what, `the ${weightShards.length} weight memories hold ${formatBytes(total)} (at most ${formatBytes(capacity)} each, ` +
        "as matrices are never split): the backend was planned for fewer weight bytes (createWasmKernels' weightBytes).");
    },
    weightBytes: () => total,
    roomBytes: () => extra > 0 ? weightShards.length * capacity - total : primary.heap.limitBytes - primary.heap.usedBytes(),
  };
}
