/**
 * POST /v1/chat/completions and /v1/completions over HTTP: the in-process API (completion-api.ts) does the
 * work, with the slot pool as the place requests run, and this file only writes its answer, one JSON body
 * or Server-Sent Events. A streamed answer's headers go out once the request holds a slot (its first chunk),
 * so a bad body or a full queue is still a plain error status. The client's disconnect aborts generation
 * through `signal`; the slot is released whatever happens.
 */

import type { ServerResponse } from "node:http";
import {
  chatCompletionIn, chatCompletionStreamIn, completionIn, completionStreamIn, type ApiTarget, type RunPlace,
} from "./completion-api.js";
import { sendJson, startEventStream } from "./http.js";
import type { Metrics } from "./metrics.js";
import type { SlotPool } from "./slots.js";

export interface ServerContext extends ApiTarget {
  readonly modelId: string;
  readonly pool: SlotPool;
  readonly metrics: Metrics;
}

/** The slot pool as the in-process API's place to run: each request leases a slot, and its stats go to the metrics. */
export function slotPlace(ctx: ServerContext): RunPlace {
  return {
    acquire: async (prompt, signal) => {
      const slot = await ctx.pool.acquire(prompt, signal ?? new AbortController().signal);
      return { session: slot.session, release: () => ctx.pool.release(slot) };
    },
    onStats: (s) => ctx.metrics.tokens({ prompt: s.promptTokens, reused: s.reusedTokens, generated: s.generatedTokens, decodeTokens: s.decodeTokens, decodeMs: s.decodeMs }),
  };
}

/** `stream: true` picks the streamed answer; any other value is the plain one's to judge (a non-boolean is a 400 there). */
const wantsStream = (body: unknown) => typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;

export async function handleChatCompletions(ctx: ServerContext, place: RunPlace, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (!wantsStream(body)) return sendJson(res, 200, await chatCompletionIn(ctx, place, body, signal));
  return sendStream(res, chatCompletionStreamIn(ctx, place, body, signal));
}

export async function handleCompletions(ctx: ServerContext, place: RunPlace, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (!wantsStream(body)) return sendJson(res, 200, await completionIn(ctx, place, body, signal));
  return sendStream(res, completionStreamIn(ctx, place, body, signal));
}

/** Writes chunks as Server-Sent Events, starting the stream with the first one; an error before it propagates as a status. */
async function sendStream(res: ServerResponse, chunks: AsyncGenerator<unknown, void, undefined>): Promise<void> {
  const first = await chunks.next();
  const sse = startEventStream(res);
  if (first.done !== true) {
    sse.send(first.value);
    for await (const chunk of chunks) sse.send(chunk);
  }
  sse.done();
}
