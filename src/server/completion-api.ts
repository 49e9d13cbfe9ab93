/**
 * OpenAI's chat and text completions in-process: `createChatCompletion(model, body)` answers the
 * `chat.completion` object a server would send, `createChatCompletionStream` yields its
 * `chat.completion.chunk`s, and `createCompletion` / `createCompletionStream` do the same for
 * `text_completion`. A body is checked exactly as `peel serve` checks it (openai/requests.ts), and a mistake
 * throws an ApiError (a PeelError) whose `param` names the field. The server's routes call the same
 * functions (`chatCompletionIn`, ... with a slot pool as the place to run), so the two cannot drift.
 * Browser-safe: no node:* here or below, and concrete imports only (index.ts exports this file).
 * It does not write HTTP, queue requests or keep sessions between calls unless given one.
 */

import { endOfTurnToken, tokenizeChat } from "../chat/chat-session.js";
import type { ChatTemplate } from "../chat/chat-template.js";
import { modelChatTemplate, type ChatTemplateChoice } from "../chat/model-template.js";
import { createSession, type Session } from "../generate/session.js";
import type { Model } from "../model/model.js";
import type { Grammar } from "../sample/grammar/grammar.js";
import { PeelError } from "../util/errors.js";
import { ApiError, badField } from "./api-error.js";
import { runCompletion, type RunResult, type RunSpec, type RunStats } from "./completions.js";
import { parseChatRequest, parseCompletionRequest, type GenerationRequest } from "./openai/requests.js";
import {
  chatChunk, chatCompletionBody, completionBody, completionChunk, usageChunk,
  type ChatCompletion, type ChatCompletionChunk, type Completion, type CompletionChunk, type ResponseMeta,
} from "./openai/responses.js";
import { responseFormatConstraint } from "./response-format.js";

/** The chat template requests render with, or why there is none (chat requests then get a 400). */
export type ChatSetup =
  | { readonly template: ChatTemplate; readonly stopTokens: readonly number[]; readonly stopText: readonly string[] }
  | { readonly error: string };

/** The template and how its replies end: at its end-of-turn token when the vocabulary has one, else at its text. */
export function chatSetup(model: Model, template: ChatTemplate): ChatSetup {
  const eot = endOfTurnToken(model, template);
  return { template, stopTokens: eot !== undefined ? [eot] : [], stopText: eot === undefined && template.endOfTurn !== "" ? [template.endOfTurn] : [] };
}

/** The model's own template (or `choice`); a model without one still serves completions, and chat requests get an error naming `optionName`. */
export function chatSetupFor(model: Model, choice: ChatTemplateChoice | undefined, optionName = "chatTemplate"): ChatSetup {
  try {
    return chatSetup(model, modelChatTemplate(model, choice));
  } catch (e) {
    if (e instanceof PeelError && e.code === "CONFIG" && choice === undefined) return { error: e.message.replace(/--chat-template/g, optionName) };
    throw e;
  }
}

/** What requests run against: the model, the name it answers to, each session's context, the chat template. */
export interface ApiTarget {
  readonly model: Model;
  /** undefined: any `model` in a request is accepted and echoed. */
  readonly modelId: string | undefined;
  readonly contextLength: number;
  readonly chat: ChatSetup;
}

/** A session held by one request until `release`. */
export interface SessionLease { readonly session: Session; release(): void }

/** Where requests run: the server's slot pool, or the caller's session (or a fresh one) in-process. */
export interface RunPlace {
  acquire(prompt: readonly number[], signal: AbortSignal | undefined): Promise<SessionLease>;
  readonly onStats?: (s: RunStats) => void;
}

interface Prepared {
  readonly spec: RunSpec;
  readonly meta: ResponseMeta;
  readonly includeUsage: boolean;
}

export function checkModelName(target: ApiTarget, name: string | undefined): void {
  if (name !== undefined && target.modelId !== undefined && name !== target.modelId) {
    throw new ApiError(404, `the model "${name}" does not exist; this server serves "${target.modelId}"`, { type: "invalid_request_error", param: "model", code: "model_not_found" });
  }
}

let nextId = 0;
const newMeta = (target: ApiTarget, req: GenerationRequest, prefix: string): ResponseMeta =>
  ({ id: `${prefix}-${Date.now().toString(36)}${(nextId++).toString(36)}`, created: Math.floor(Date.now() / 1000), model: target.modelId ?? req.model ?? "peel" });

/** A fresh seed when the request names none (crypto.getRandomValues: in browsers and Node alike). */
const randomSeed = (): number => crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;

function prepareChat(target: ApiTarget, body: unknown): Prepared {
  const req = parseChatRequest(body, target.model.config.vocabSize);
  checkModelName(target, req.model);
  const { grammar } = responseFormatConstraint(req.responseFormat);
  if (!("template" in target.chat)) throw new ApiError(400, target.chat.error, { code: "no_chat_template" });
  const { template, stopTokens, stopText } = target.chat;
  const prompt = tokenizeChat(target.model, template.render(req.messages, { addGenerationPrompt: true }));
  return { spec: runSpec(target, req, prompt, "messages", stopTokens, stopText, grammar), meta: newMeta(target, req, "chatcmpl"), includeUsage: req.includeUsage };
}

function prepareCompletion(target: ApiTarget, body: unknown): Prepared {
  const req = parseCompletionRequest(body, target.model.config.vocabSize);
  checkModelName(target, req.model);
  const prompt = typeof req.prompt === "string" ? target.model.tokenize(req.prompt, { addSpecial: true }) : [...req.prompt];
  return { spec: runSpec(target, req, prompt, "prompt", [], []), meta: newMeta(target, req, "cmpl"), includeUsage: req.includeUsage };
}

/** The run's settings, after the checks that need the model: the prompt fits the context, max_tokens is sane. */
function runSpec(target: ApiTarget, req: GenerationRequest, prompt: readonly number[], promptParam: "messages" | "prompt",
  stopTokens: readonly number[], stopText: readonly string[], grammar?: Grammar): RunSpec {
  if (prompt.length === 0) throw badField(promptParam, "has no tokens (an empty prompt for a model that adds no BOS)");
  if (prompt.length >= target.contextLength) {
    throw new ApiError(400, `the prompt has ${prompt.length} tokens; the context holds ${target.contextLength} (--ctx-size), with room needed for at least one generated token. Shorten the prompt.`,
      { param: promptParam, code: "context_length_exceeded" });
  }
  if (req.maxTokens !== undefined && req.maxTokens > target.contextLength) {
    throw badField("max_tokens", `at most ${target.contextLength} (the context size), got ${req.maxTokens}`);
  }
  return {
    prompt, maxTokens: req.maxTokens, n: req.n, stop: [...stopText, ...req.stop], stopTokens,
    seed: req.seed ?? randomSeed(), logprobs: req.logprobs, logprobsFrom: req.postSamplingProbs ? "sampler" : "model",
    sampling: grammar === undefined ? req.sampling : { ...req.sampling, grammar },
  };
}

/** Runs to the end in a leased session and returns the result. */
async function runWhole(target: ApiTarget, place: RunPlace, spec: RunSpec, signal: AbortSignal | undefined): Promise<RunResult> {
  const lease = await place.acquire(spec.prompt, signal);
  try {
    const run = runCompletion(target.model, lease.session, spec, signal, place.onStats);
    for (;;) {
      const r = await run.next();
      if (r.done === true) return r.value;
    }
  } finally {
    lease.release();
  }
}

export async function chatCompletionIn(target: ApiTarget, place: RunPlace, body: unknown, signal?: AbortSignal): Promise<ChatCompletion> {
  const p = prepareChat(target, body);
  const r = await runWhole(target, place, p.spec, signal);
  return chatCompletionBody(p.meta, r.choices, r.usage);
}

export async function completionIn(target: ApiTarget, place: RunPlace, body: unknown, signal?: AbortSignal): Promise<Completion> {
  const p = prepareCompletion(target, body);
  const r = await runWhole(target, place, p.spec, signal);
  return completionBody(p.meta, r.choices, r.usage);
}

/**
 * The body is checked now (a mistake throws before anything runs); the chunks come as the run goes. The
 * first chunks (each choice's role) come once a session is held, so a server can still answer a full
 * queue with a status before its stream starts. Stopping the iteration early ends the run and frees the session.
 */
export function chatCompletionStreamIn(target: ApiTarget, place: RunPlace, body: unknown, signal?: AbortSignal): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const p = prepareChat(target, body);
  return (async function* () {
    const { meta, spec, includeUsage } = p;
    const lease = await place.acquire(spec.prompt, signal);
    try {
      for (let i = 0; i < spec.n; i++) yield chatChunk(meta, i, { role: "assistant", content: "" }, undefined, null, includeUsage);
      const run = runCompletion(target.model, lease.session, spec, signal, place.onStats);
      for (let r = await run.next(); ; r = await run.next()) {
        if (r.done === true) {
          if (includeUsage) yield usageChunk(meta, "chat.completion.chunk", r.value.usage);
          return;
        }
        const e = r.value;
        if (e.kind === "token") yield chatChunk(meta, e.index, { content: e.text }, e.logprob !== undefined ? [e.logprob] : undefined, null, includeUsage);
        else yield chatChunk(meta, e.index, {}, undefined, e.finishReason, includeUsage);
      }
    } finally {
      lease.release();
    }
  })();
}

/** As chatCompletionStreamIn, for text completions (each chunk's logprobs carry its text offset). */
export function completionStreamIn(target: ApiTarget, place: RunPlace, body: unknown, signal?: AbortSignal): AsyncGenerator<CompletionChunk, void, undefined> {
  const p = prepareCompletion(target, body);
  return (async function* () {
    const { meta, spec, includeUsage } = p;
    const lease = await place.acquire(spec.prompt, signal);
    try {
      const offsets: number[] = Array.from({ length: spec.n }, () => 0);
      const run = runCompletion(target.model, lease.session, spec, signal, place.onStats);
      for (let r = await run.next(); ; r = await run.next()) {
        if (r.done === true) {
          if (includeUsage) yield usageChunk(meta, "text_completion", r.value.usage);
          return;
        }
        const e = r.value;
        const at = offsets[e.index] ?? 0;
        if (e.kind === "token") {
          offsets[e.index] = at + e.text.length;
          yield completionChunk(meta, e.index, e.text, e.logprob !== undefined ? [e.logprob] : undefined, at, null, includeUsage);
        } else yield completionChunk(meta, e.index, "", undefined, at, e.finishReason, includeUsage);
      }
    } finally {
      lease.release();
    }
  })();
}

// ---- the in-process entry points (exported from index.ts) ----

export interface CompletionApiOptions {
  /** Stops generation; the call then rejects (or the stream throws) with an ABORTED error. */
  readonly signal?: AbortSignal;
  /**
   * Run in this session, keeping the prefix its cache shares with the prompt (a chat's next turn prefills
   * only the new turn), as a server slot does. One call at a time per session. Default: a fresh session per
   * call (the wasm heap only grows, so an app making many calls should pass one).
   */
  readonly session?: Session;
  /** The name answers carry in `model`; a request naming another model is refused (404 model_not_found). Default: any name, echoed. */
  readonly modelId?: string;
  /** Chat template (default: the model's own). */
  readonly chatTemplate?: ChatTemplateChoice;
  /** Context of the fresh session when no session is given (default: the model's, at most 4096, as `peel serve`). */
  readonly contextLength?: number;
}

export const DEFAULT_CONTEXT = 4096;

/** Chat setups per model and template choice: a Jinja template is compiled once, not per call. */
const chatCache = new WeakMap<Model, Map<string, ChatSetup>>();
const inUse = new WeakSet<Session>();

function inProcess(model: Model, opts: CompletionApiOptions): { target: ApiTarget; place: RunPlace } {
  let perModel = chatCache.get(model);
  if (perModel === undefined) chatCache.set(model, (perModel = new Map()));
  const key = JSON.stringify(opts.chatTemplate ?? null);
  let chat = perModel.get(key);
  if (chat === undefined) perModel.set(key, (chat = chatSetupFor(model, opts.chatTemplate)));
  const given = opts.session;
  if (given !== undefined && given.model !== model) throw new PeelError("INVALID_ARGUMENT", "options.session belongs to another model; create it with createSession(model)");
  const contextLength = given?.contextLength ?? opts.contextLength ?? Math.min(model.config.contextLength, DEFAULT_CONTEXT);
  const place: RunPlace = {
    acquire: async () => {
      if (given === undefined) return { session: createSession(model, { contextLength }), release: () => undefined };
      if (inUse.has(given)) throw new PeelError("INVALID_ARGUMENT", "options.session is running another request; a session serves one call at a time (give each concurrent call its own)");
      inUse.add(given);
      return { session: given, release: () => inUse.delete(given) };
    },
  };
  return { target: { model, modelId: opts.modelId, contextLength, chat }, place };
}

/** POST /v1/chat/completions in-process: the `chat.completion` object for an OpenAI request body (its `stream` is not consulted). */
export async function createChatCompletion(model: Model, body: unknown, opts: CompletionApiOptions = {}): Promise<ChatCompletion> {
  const { target, place } = inProcess(model, opts);
  return chatCompletionIn(target, place, body, opts.signal);
}

/** The same, streamed: `chat.completion.chunk` objects (the body's `stream` is implied). A bad body throws at the call. */
export function createChatCompletionStream(model: Model, body: unknown, opts: CompletionApiOptions = {}): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const { target, place } = inProcess(model, opts);
  return chatCompletionStreamIn(target, place, body, opts.signal);
}

/** POST /v1/completions in-process: the `text_completion` object. */
export async function createCompletion(model: Model, body: unknown, opts: CompletionApiOptions = {}): Promise<Completion> {
  const { target, place } = inProcess(model, opts);
  return completionIn(target, place, body, opts.signal);
}

/** The same, streamed: `text_completion` chunks. A bad body throws at the call. */
export function createCompletionStream(model: Model, body: unknown, opts: CompletionApiOptions = {}): AsyncGenerator<CompletionChunk, void, undefined> {
  const { target, place } = inProcess(model, opts);
  return completionStreamIn(target, place, body, opts.signal);
}
