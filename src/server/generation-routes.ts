/**
 * POST /v1/chat/completions and /v1/completions: parse and check the request, build the prompt (the chat
 * template's rendering, or the text with the model's BOS, or token ids), refuse what cannot run (unknown
 * model, a prompt over the context, a response_format not served yet) before taking a slot, wait for a
 * slot, then answer as one JSON body or as Server-Sent Events. The client's disconnect aborts generation
 * through `signal`; the slot is released whatever happens.
 */

import { randomInt } from "node:crypto";
import type { ServerResponse } from "node:http";
import { endOfTurnToken, tokenizeChat, type ChatTemplate, type Grammar, type Model } from "../index.js";
import { ApiError, badField } from "./api-error.js";
import { runOnSlot, type RunEvents, type RunResult, type RunSpec, type RunStats } from "./completions.js";
import { sendJson, startEventStream } from "./http.js";
import type { Metrics } from "./metrics.js";
import { parseChatRequest, parseCompletionRequest, type GenerationRequest } from "./openai/requests.js";
import {
  chatChunk, chatCompletionBody, completionBody, completionChunk, usageChunk, type ResponseMeta,
} from "./openai/responses.js";
import { responseFormatConstraint } from "./response-format.js";
import type { SlotPool } from "./slots.js";

/** The chat template the server renders with, or why there is none (chat requests then get a 400). */
export type ServerChat =
  | { readonly template: ChatTemplate; readonly stopTokens: readonly number[]; readonly stopText: readonly string[] }
  | { readonly error: string };

export interface ServerContext {
  readonly model: Model;
  readonly modelId: string;
  readonly pool: SlotPool;
  readonly metrics: Metrics;
  /** Tokens each slot holds (--ctx-size). */
  readonly contextLength: number;
  readonly chat: ServerChat;
}

/** The template and how its replies end: at its end-of-turn token when the vocabulary has one, else at its text. */
export function serverChat(model: Model, template: ChatTemplate): ServerChat {
  const eot = endOfTurnToken(model, template);
  return { template, stopTokens: eot !== undefined ? [eot] : [], stopText: eot === undefined && template.endOfTurn !== "" ? [template.endOfTurn] : [] };
}

export function checkModelName(ctx: ServerContext, name: string | undefined): void {
  if (name !== undefined && name !== ctx.modelId) {
    throw new ApiError(404, `the model "${name}" does not exist; this server serves "${ctx.modelId}"`, { type: "invalid_request_error", param: "model", code: "model_not_found" });
  }
}

let nextId = 0;
const newMeta = (ctx: ServerContext, prefix: string): ResponseMeta =>
  ({ id: `${prefix}-${Date.now().toString(36)}${(nextId++).toString(36)}`, created: Math.floor(Date.now() / 1000), model: ctx.modelId });

export async function handleChatCompletions(ctx: ServerContext, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const req = parseChatRequest(body, ctx.model.config.vocabSize);
  checkModelName(ctx, req.model);
  const { grammar } = responseFormatConstraint(req.responseFormat);
  if (!("template" in ctx.chat)) throw new ApiError(400, ctx.chat.error, { code: "no_chat_template" });
  const { template, stopTokens, stopText } = ctx.chat;
  const prompt = tokenizeChat(ctx.model, template.render(req.messages, { addGenerationPrompt: true }));
  const spec = runSpec(ctx, req, prompt, "messages", stopTokens, stopText, grammar);
  const meta = newMeta(ctx, "chatcmpl");
  if (!req.stream) {
    const r = await runWithSlot(ctx, spec, signal);
    sendJson(res, 200, chatCompletionBody(meta, r.choices, r.usage));
    return;
  }
  await runWithSlot(ctx, spec, signal, (run) => {
    const sse = startEventStream(res);
    for (let i = 0; i < spec.n; i++) sse.send(chatChunk(meta, i, { role: "assistant", content: "" }, undefined, null, req.includeUsage));
    return run({
      onToken: (index, text, lp) => sse.send(chatChunk(meta, index, { content: text }, lp !== undefined ? [lp] : undefined, null, req.includeUsage)),
      onChoiceEnd: (index, finish) => sse.send(chatChunk(meta, index, {}, undefined, finish, req.includeUsage)),
    }).then((r) => {
      if (req.includeUsage) sse.send(usageChunk(meta, "chat.completion.chunk", r.usage));
      sse.done();
      return r;
    });
  });
}

export async function handleCompletions(ctx: ServerContext, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const req = parseCompletionRequest(body, ctx.model.config.vocabSize);
  checkModelName(ctx, req.model);
  const prompt = typeof req.prompt === "string" ? ctx.model.tokenize(req.prompt, { addSpecial: true }) : [...req.prompt];
  const spec = runSpec(ctx, req, prompt, "prompt", [], []);
  const meta = newMeta(ctx, "cmpl");
  if (!req.stream) {
    const r = await runWithSlot(ctx, spec, signal);
    sendJson(res, 200, completionBody(meta, r.choices, r.usage));
    return;
  }
  await runWithSlot(ctx, spec, signal, (run) => {
    const sse = startEventStream(res);
    const offsets: number[] = Array.from({ length: spec.n }, () => 0);
    return run({
      onToken: (index, text, lp) => {
        sse.send(completionChunk(meta, index, text, lp !== undefined ? [lp] : undefined, offsets[index] ?? 0, null, req.includeUsage));
        offsets[index] = (offsets[index] ?? 0) + text.length;
      },
      onChoiceEnd: (index, finish) => sse.send(completionChunk(meta, index, "", undefined, offsets[index] ?? 0, finish, req.includeUsage)),
    }).then((r) => {
      if (req.includeUsage) sse.send(usageChunk(meta, "text_completion", r.usage));
      sse.done();
      return r;
    });
  });
}

/** The run's settings, after the checks that need the model: the prompt fits the context, max_tokens is sane. */
function runSpec(ctx: ServerContext, req: GenerationRequest, prompt: readonly number[], promptParam: "messages" | "prompt",
  stopTokens: readonly number[], stopText: readonly string[], grammar?: Grammar): RunSpec {
  if (prompt.length === 0) throw badField(promptParam, "has no tokens (an empty prompt for a model that adds no BOS)");
  if (prompt.length >= ctx.contextLength) {
    throw new ApiError(400, `the prompt has ${prompt.length} tokens; the context holds ${ctx.contextLength} (--ctx-size), with room needed for at least one generated token. Shorten the prompt.`,
      { param: promptParam, code: "context_length_exceeded" });
  }
  if (req.maxTokens !== undefined && req.maxTokens > ctx.contextLength) {
    throw badField("max_tokens", `at most ${ctx.contextLength} (the context size), got ${req.maxTokens}`);
  }
  return {
    prompt, maxTokens: req.maxTokens, n: req.n, stop: [...stopText, ...req.stop], stopTokens,
    seed: req.seed ?? randomInt(0, 2 ** 32), logprobs: req.logprobs, logprobsFrom: req.postSamplingProbs ? "sampler" : "model",
    sampling: grammar === undefined ? req.sampling : { ...req.sampling, grammar },
  };
}

type Runner = (events: RunEvents) => Promise<RunResult>;

/** Waits for a slot, runs the request (through `stream` when streaming), records usage, frees the slot. */
async function runWithSlot(ctx: ServerContext, spec: RunSpec, signal: AbortSignal, stream?: (run: Runner) => Promise<RunResult>): Promise<RunResult> {
  const slot = await ctx.pool.acquire(spec.prompt, signal);
  try {
    const onStats = (s: RunStats) =>
      ctx.metrics.tokens({ prompt: s.promptTokens, reused: s.reusedTokens, generated: s.generatedTokens, decodeTokens: s.decodeTokens, decodeMs: s.decodeMs });
    const run: Runner = (events) => runOnSlot(ctx.model, slot, spec, signal, { ...events, onStats });
    return await (stream !== undefined ? stream(run) : run({}));
  } finally {
    ctx.pool.release(slot);
  }
}
