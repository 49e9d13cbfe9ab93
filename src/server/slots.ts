/**
 * The slots: N sessions created once at startup and reused for every request (the wasm backend's memory
 * only grows, so a session per request would leak), and a bounded queue of requests waiting for one. A
 * free slot is handed to the waiter at the head of the queue; among free slots a request takes the one
 * whose cached tokens share the longest prefix with its prompt (llama-server's prompt cache), so a
 * conversation that comes back finds its history still evaluated. A waiter whose client leaves is dropped
 * from the queue. It does not generate; completions.ts runs requests on the slot it gets.
 */

import { commonPrefixLength, createSession, type Model, type Session, type SessionOptions } from "../index.js";
import { ApiError } from "./api-error.js";

export interface Slot {
  readonly id: number;
  readonly session: Session;
}

export interface SlotPool {
  readonly size: number;
  /** Requests waiting for a slot now. */
  readonly queued: number;
  /** Slots serving a request now. */
  readonly busy: number;
  /**
   * Resolves with a slot (the best match for `prompt` among the free ones) once one is free; rejects with a
   * 503 at once when the queue is full, and with an ABORTED-like 499 when `signal` fires while waiting.
   */
  acquire(prompt: readonly number[], signal: AbortSignal): Promise<Slot>;
  release(slot: Slot): void;
}

interface Waiter { readonly prompt: readonly number[]; readonly resolve: (s: Slot) => void; readonly reject: (e: Error) => void; readonly signal: AbortSignal; readonly onAbort: () => void }

export function createSlotPool(model: Model, n: number, maxQueue: number, sessionOpts: SessionOptions): SlotPool {
  const slots: Slot[] = Array.from({ length: n }, (_, id) => ({ id, session: createSession(model, sessionOpts) }));
  const free = new Set<Slot>(slots);
  const queue: Waiter[] = [];

  const bestFree = (prompt: readonly number[]): Slot | undefined => {
    let best: Slot | undefined, bestLen = -1;
    for (const s of free) {
      const len = commonPrefixLength(s.session.tokens, prompt);
      if (len > bestLen) { best = s; bestLen = len; }
    }
    return best;
  };
  const take = (slot: Slot): Slot => { free.delete(slot); return slot; };

  return {
    size: n,
    get queued() { return queue.length; },
    get busy() { return n - free.size; },
    acquire(prompt, signal) {
      if (signal.aborted) return Promise.reject(new ApiError(499, "the client closed the request", { code: "aborted" }));
      const slot = queue.length === 0 ? bestFree(prompt) : undefined;
      if (slot !== undefined) return Promise.resolve(take(slot));
      if (queue.length >= maxQueue) {
        return Promise.reject(new ApiError(503, `the server is busy: ${n} slots in use and ${queue.length} requests waiting (the queue's limit); retry shortly`,
          { code: "queue_full", headers: { "Retry-After": "1" } }));
      }
      return new Promise<Slot>((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(new ApiError(499, "the client closed the request while it waited for a slot", { code: "aborted" }));
        };
        const waiter: Waiter = { prompt, resolve, reject, signal, onAbort };
        signal.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
      });
    },
    release(slot) {
      free.add(slot);
      const next = queue.shift();
      if (next === undefined) return;
      next.signal.removeEventListener("abort", next.onAbort);
      next.resolve(take(bestFree(next.prompt) ?? slot));
    },
  };
}
