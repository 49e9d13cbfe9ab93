/**
 * OpenAI request bodies → Peel's camelCase request records. The wire names (`max_tokens`, `top_p`,
 * `stream_options.include_usage`, `logit_bias`, ...) appear only here; llama-server's extensions (`top_k`,
 * `min_p`, `typical_p`, `repeat_penalty`, `repeat_last_n`, `post_sampling_probs`) are accepted too. Every field is checked and a
 * mistake is a 400 naming it. Limits that depend on the loaded model (context size, vocabulary) are checked
 * by the handlers; `response_format` is parsed here and judged by server/response-format.ts.
 */

import type { ChatMessage } from "../../chat/chat-template.js";
import type { SamplingOptions } from "../../sample/sampler.js";
import { badField } from "../api-error.js";
import { asObject, describe, optBool, optNumber, optString, optStringList, tokenIdList, type JsonObject } from "./parse.js";

export const MAX_STOP_STRINGS = 16;
export const MAX_CHOICES = 16;
export const MAX_TOP_LOGPROBS = 20;

export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | { readonly type: "json_schema"; readonly name: string; readonly schema: JsonObject; readonly strict: boolean };

/** What chat and text completions share. */
export interface GenerationRequest {
  readonly model: string | undefined;
  /** Tokens to generate at most; undefined: until the context is full. */
  readonly maxTokens: number | undefined;
  readonly n: number;
  readonly stream: boolean;
  /** stream_options.include_usage: a streamed answer ends with a chunk holding the usage and no choices (unused unstreamed). */
  readonly includeUsage: boolean;
  readonly stop: readonly string[];
  /** undefined: a fresh random seed per request. */
  readonly seed: number | undefined;
  /** Alternatives per token when log-probabilities are asked for; undefined: none. */
  readonly logprobs: number | undefined;
  /** llama-server's post_sampling_probs: report the distribution the sampler drew from, not the model's. */
  readonly postSamplingProbs: boolean;
  readonly sampling: Omit<SamplingOptions, "seed">;
}

export interface ChatRequest extends GenerationRequest {
  readonly messages: readonly ChatMessage[];
  readonly responseFormat: ResponseFormat;
}

export interface CompletionRequest extends GenerationRequest {
  /** Text, or token ids as OpenAI allows. */
  readonly prompt: string | readonly number[];
}

function generationFields(o: JsonObject, vocabSize: number): Omit<GenerationRequest, "logprobs"> {
  const maxTokens = optNumber(o, "max_completion_tokens", 1, 1e9, { integer: true }) ?? optNumber(o, "max_tokens", 1, 1e9, { integer: true });
  const streamOptions = o["stream_options"] === undefined || o["stream_options"] === null ? {} : asObject(o["stream_options"], "stream_options");
  const stream = optBool(o, "stream") ?? false;
  const seed = optNumber(o, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, { integer: true });
  const temperature = optNumber(o, "temperature", 0, 2);
  const sampling: Omit<SamplingOptions, "seed"> = {
    // OpenAI's defaults: temperature 1, top_p 1; OpenAI has no top-k, and llama-server applies its default of
    // 40 when a request names none, as here: it changes little in the drawn text and spares a sort of the
    // whole vocabulary every token (top_k: 0 turns it off)
    temperature: temperature ?? 1,
    topP: topP(optNumber(o, "top_p", 0, 1)),
    topK: optNumber(o, "top_k", 0, 1e9, { integer: true }) ?? 40,
    ...defined("minP", optNumber(o, "min_p", 0, 1)),
    ...defined("typicalP", nonZero(optNumber(o, "typical_p", 0, 1))),
    ...defined("presencePenalty", optNumber(o, "presence_penalty", -2, 2)),
    ...defined("frequencyPenalty", optNumber(o, "frequency_penalty", -2, 2)),
    ...defined("repeatPenalty", optNumber(o, "repeat_penalty", 0.01, 10)),
    ...defined("penaltyLastN", optNumber(o, "repeat_last_n", 0, 1 << 20, { integer: true })),
    ...logitBias(o["logit_bias"], vocabSize),
  };
  return {
    model: optString(o, "model"),
    maxTokens,
    n: optNumber(o, "n", 1, MAX_CHOICES, { integer: true }) ?? 1,
    stream,
    includeUsage: optBool(streamOptions, "include_usage", "stream_options.") ?? false,
    stop: optStringList(o, "stop", MAX_STOP_STRINGS),
    seed: seed === undefined ? undefined : ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32,
    postSamplingProbs: optBool(o, "post_sampling_probs") ?? false,
    sampling,
  };
}

const defined = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : { [key]: v } as { [P in K]: V });
/** OpenAI's top_p 0 keeps only the top token; Peel's nucleus needs p > 0, and a tiny p does the same. */
const topP = (p: number | undefined) => (p === undefined ? 1 : p === 0 ? 1e-9 : p);
const nonZero = (v: number | undefined) => (v === 0 ? undefined : v);

/** `{"50256": -100}`: token id → bias in [-100, 100]; -100 bans the token, as OpenAI documents. */
function logitBias(v: unknown, vocabSize: number): { logitBias?: Record<number, number> } {
  if (v === undefined || v === null) return {};
  const o = asObject(v, "logit_bias");
  const out: Record<number, number> = {};
  for (const [k, b] of Object.entries(o)) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= vocabSize) throw badField(`logit_bias.${k}`, `keys are token ids in 0..${vocabSize - 1}`);
    if (typeof b !== "number" || !(b >= -100 && b <= 100)) throw badField(`logit_bias.${k}`, `expected a number in [-100, 100], got ${JSON.stringify(b) ?? describe(b)}`);
    out[id] = b <= -100 ? -Infinity : b;
  }
  return { logitBias: out };
}

export function parseChatRequest(body: unknown, vocabSize: number): ChatRequest {
  const o = asObject(body, "body");
  const logprobs = optBool(o, "logprobs") ?? false;
  const top = optNumber(o, "top_logprobs", 0, MAX_TOP_LOGPROBS, { integer: true });
  if (top !== undefined && !logprobs) throw badField("top_logprobs", "needs logprobs: true");
  return {
    ...generationFields(o, vocabSize),
    logprobs: logprobs ? top ?? 0 : undefined,
    messages: parseMessages(o["messages"]),
    responseFormat: parseResponseFormat(o["response_format"]),
  };
}

export function parseCompletionRequest(body: unknown, vocabSize: number): CompletionRequest {
  const o = asObject(body, "body");
  const p = o["prompt"];
  let prompt: string | readonly number[];
  if (typeof p === "string") prompt = p;
  else if (Array.isArray(p) && p.length === 1 && typeof p[0] === "string") prompt = p[0];
  else if (Array.isArray(p) && p.every((x) => typeof x === "number")) prompt = tokenIdList(p, "prompt", vocabSize);
  else if (p === undefined || p === null) throw badField("prompt", "required (a string or an array of token ids)");
  else throw badField("prompt", `expected a string or an array of token ids, got ${describe(p)}${Array.isArray(p) ? " (batched prompts are not supported; send one request per prompt)" : ""}`);
  if (optBool(o, "echo") === true) throw badField("echo", "echo is not supported");
  if (o["suffix"] !== undefined && o["suffix"] !== null) throw badField("suffix", "suffix is not supported");
  return {
    ...generationFields(o, vocabSize),
    logprobs: optNumber(o, "logprobs", 0, MAX_TOP_LOGPROBS, { integer: true }),
    prompt,
  };
}

function parseMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v)) throw badField("messages", v === undefined ? "required (an array of messages)" : `expected an array of messages, got ${describe(v)}`);
  if (v.length === 0) throw badField("messages", "must hold at least one message");
  return v.map((m: unknown, i) => {
    const o = asObject(m, `messages[${i}]`);
    const role = o["role"];
    if (typeof role !== "string" || role === "") throw badField(`messages[${i}].role`, `expected a role string ("system", "user", "assistant"), got ${describe(role)}`);
    return { role: role === "developer" ? "system" : role, content: messageContent(o["content"], `messages[${i}].content`) };
  });
}

/** A string, or an array of text parts (joined); other part types are refused by name. */
function messageContent(v: unknown, param: string): string {
  if (typeof v === "string") return v;
  if (v === null) return ""; // an assistant turn that only called tools
  if (!Array.isArray(v)) throw badField(param, `expected a string or an array of parts, got ${describe(v)}`);
  return v.map((part: unknown, j) => {
    const p = asObject(part, `${param}[${j}]`);
    if (p["type"] !== "text") throw badField(`${param}[${j}].type`, `only "text" parts are supported, got ${JSON.stringify(p["type"]) ?? "nothing"}`);
    const text = optString(p, "text", `${param}[${j}].`);
    if (text === undefined) throw badField(`${param}[${j}].text`, "required");
    return text;
  }).join("");
}

function parseResponseFormat(v: unknown): ResponseFormat {
  if (v === undefined || v === null) return { type: "text" };
  const o = asObject(v, "response_format");
  switch (o["type"]) {
    case "text": return { type: "text" };
    case "json_object": return { type: "json_object" };
    case "json_schema": {
      const js = asObject(o["json_schema"], "response_format.json_schema");
      const name = optString(js, "name", "response_format.json_schema.") ?? "response";
      const schema = asObject(js["schema"] ?? {}, "response_format.json_schema.schema");
      return { type: "json_schema", name, schema, strict: optBool(js, "strict", "response_format.json_schema.") ?? false };
    }
    default: throw badField("response_format.type", `expected "text", "json_object" or "json_schema", got ${JSON.stringify(o["type"]) ?? "nothing"}`);
  }
}

export interface EmbeddingsRequest {
  readonly model: string | undefined;
  /** Texts or token-id lists, one vector each. */
  readonly inputs: readonly (string | readonly number[])[];
  readonly base64: boolean;
}

export const MAX_EMBEDDING_INPUTS = 256;

export function parseEmbeddingsRequest(body: unknown, vocabSize: number): EmbeddingsRequest {
  const o = asObject(body, "body");
  const v = o["input"];
  let inputs: (string | readonly number[])[];
  if (typeof v === "string") inputs = [v];
  else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number")) inputs = [tokenIdList(v, "input", vocabSize)];
  else if (Array.isArray(v) && v.length > 0) {
    inputs = v.map((x: unknown, i) => (typeof x === "string" ? x : tokenIdList(x, `input[${i}]`, vocabSize)));
  } else throw badField("input", v === undefined ? "required (a string or an array of strings)" : `expected a non-empty string array or a string, got ${describe(v)}`);
  if (inputs.length > MAX_EMBEDDING_INPUTS) throw badField("input", `at most ${MAX_EMBEDDING_INPUTS} inputs per request, got ${inputs.length}`);
  inputs.forEach((x, i) => { if (x.length === 0) throw badField(`input[${i}]`, "is empty"); });
  const format = optString(o, "encoding_format") ?? "float";
  if (format !== "float" && format !== "base64") throw badField("encoding_format", `expected "float" or "base64", got ${JSON.stringify(format)}`);
  return { model: optString(o, "model"), inputs, base64: format === "base64" };
}

/** llama-server's /tokenize: `{"content": "...", "add_special": false, "with_pieces": false}`. */
export function parseTokenizeRequest(body: unknown): { readonly content: string; readonly addSpecial: boolean; readonly parseSpecial: boolean; readonly withPieces: boolean } {
  const o = asObject(body, "body");
  const content = optString(o, "content");
  if (content === undefined) throw badField("content", "required (the text to tokenize)");
  return { content, addSpecial: optBool(o, "add_special") ?? false, parseSpecial: optBool(o, "parse_special") ?? true, withPieces: optBool(o, "with_pieces") ?? false };
}

/** llama-server's /detokenize: `{"tokens": [1, 2, 3]}`. */
export function parseDetokenizeRequest(body: unknown, vocabSize: number): { readonly tokens: readonly number[] } {
  const o = asObject(body, "body");
  return { tokens: tokenIdList(o["tokens"] ?? null, "tokens", vocabSize) };
}
