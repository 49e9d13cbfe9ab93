/**
 * Peel's results → OpenAI response bodies and stream chunks (`chat.completion`, `chat.completion.chunk`,
 * `text_completion`, `list`, embeddings). The wire names live here and in requests.ts only. Each function
 * builds one JSON-ready object; nothing here writes to a socket or knows about slots. Browser-safe (the
 * in-process API returns these objects).
 */

import type { FinishReason } from "../../generate/generate.js";

/** What every object of one request shares. */
export interface ResponseMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export interface Usage { readonly promptTokens: number; readonly completionTokens: number }

export interface TokenAlternative { readonly token: string; readonly bytes: readonly number[]; readonly logprob: number }
export interface TokenLogprobInfo extends TokenAlternative { readonly top: readonly TokenAlternative[] }

export interface FinishedChoice {
  readonly index: number;
  readonly text: string;
  readonly finishReason: FinishReason | undefined;
  /** Present when the request asked for log-probabilities. */
  readonly logprobs: readonly TokenLogprobInfo[] | undefined;
}

type WireFinish = "stop" | "length" | null;

/** OpenAI knows "stop" and "length": running out of context is a length stop to a client. */
export function wireFinishReason(r: FinishReason | undefined): WireFinish {
  switch (r) {
    case "stop": return "stop";
    case "length": case "context": return "length";
    case "aborted": case undefined: return null;
  }
}

export function usageBody(u: Usage): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
}

const alt = (a: TokenAlternative) => ({ token: a.token, logprob: a.logprob, bytes: [...a.bytes] });

function chatLogprobs(lp: readonly TokenLogprobInfo[] | undefined) {
  return lp === undefined ? null : { content: lp.map((t) => ({ ...alt(t), top_logprobs: t.top.map(alt) })), refusal: null };
}

/** The legacy completions shape: parallel arrays, top alternatives as token → logprob maps. */
function completionLogprobs(lp: readonly TokenLogprobInfo[] | undefined, offset0: number) {
  if (lp === undefined) return null;
  const textOffset: number[] = [];
  let at = offset0;
  for (const t of lp) { textOffset.push(at); at += t.token.length; }
  return {
    tokens: lp.map((t) => t.token),
    token_logprobs: lp.map((t) => t.logprob),
    top_logprobs: lp.map((t) => Object.fromEntries(t.top.map((a) => [a.token, a.logprob]))),
    text_offset: textOffset,
  };
}

export function chatCompletionBody(m: ResponseMeta, choices: readonly FinishedChoice[], u: Usage) {
  return {
    id: m.id, object: "chat.completion", created: m.created, model: m.model,
    choices: choices.map((c) => ({
      index: c.index,
      message: { role: "assistant", content: c.text, refusal: null },
      logprobs: chatLogprobs(c.logprobs),
      finish_reason: wireFinishReason(c.finishReason),
    })),
    usage: usageBody(u),
    system_fingerprint: "peel",
  };
}

/** One streamed piece of a chat reply; the first of each choice carries the role, the last its finish reason. */
export function chatChunk(m: ResponseMeta, index: number, delta: { role?: "assistant"; content?: string },
  logprobs: readonly TokenLogprobInfo[] | undefined, finish: FinishReason | undefined | null, withUsageField: boolean) {
  return {
    id: m.id, object: "chat.completion.chunk", created: m.created, model: m.model, system_fingerprint: "peel",
    choices: [{ index, delta, logprobs: chatLogprobs(logprobs), finish_reason: finish === null ? null : wireFinishReason(finish) }],
    ...(withUsageField ? { usage: null } : {}),
  };
}

/** The last chunk of a stream with stream_options.include_usage: no choices, the usage. */
export function usageChunk(m: ResponseMeta, object: "chat.completion.chunk" | "text_completion", u: Usage) {
  return { id: m.id, object, created: m.created, model: m.model, system_fingerprint: "peel", choices: [], usage: usageBody(u) };
}

export function completionBody(m: ResponseMeta, choices: readonly FinishedChoice[], u: Usage) {
  return {
    id: m.id, object: "text_completion", created: m.created, model: m.model, system_fingerprint: "peel",
    choices: choices.map((c) => ({ index: c.index, text: c.text, logprobs: completionLogprobs(c.logprobs, 0), finish_reason: wireFinishReason(c.finishReason) })),
    usage: usageBody(u),
  };
}

export function completionChunk(m: ResponseMeta, index: number, text: string, logprobs: readonly TokenLogprobInfo[] | undefined,
  textOffset: number, finish: FinishReason | undefined | null, withUsageField: boolean) {
  return {
    id: m.id, object: "text_completion", created: m.created, model: m.model, system_fingerprint: "peel",
    choices: [{ index, text, logprobs: completionLogprobs(logprobs, textOffset), finish_reason: finish === null ? null : wireFinishReason(finish) }],
    ...(withUsageField ? { usage: null } : {}),
  };
}

export function modelsBody(ids: readonly string[], created: number) {
  return { object: "list", data: ids.map((id) => ({ id, object: "model", created, owned_by: "peel" })) };
}

export function embeddingsBody(model: string, vectors: readonly Float32Array[], promptTokens: number, base64: boolean) {
  return {
    object: "list",
    data: vectors.map((v, index) => ({
      object: "embedding", index,
      embedding: base64 ? base64Of(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) : Array.from(v),
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** Standard base64 without Node's Buffer (btoa over a binary string, in slices to bound the argument list). */
function base64Of(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export type ChatCompletion = ReturnType<typeof chatCompletionBody>;
export type ChatCompletionChunk = ReturnType<typeof chatChunk> | ReturnType<typeof usageChunk>;
export type Completion = ReturnType<typeof completionBody>;
export type CompletionChunk = ReturnType<typeof completionChunk> | ReturnType<typeof usageChunk>;
