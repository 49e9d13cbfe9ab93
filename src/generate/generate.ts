/**
 * Text generation: tokenize the prompt, prefill it in batches, then decode one token per step with the
 * KV cache, sampling each next token, until end-of-generation, the token budget, the context end or an
 * abort. Returned as an async iterable of tokens (with the newly completed text of each), so callers can
 * stream; the event loop runs between steps, so an AbortSignal stops generation promptly.
 */

import type { Model } from "../model/model.js";
import { createSampler, validateSampling, type SamplingOptions } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import { yieldToEventLoop } from "../util/yield.js";
import { createStopMatcher } from "./stop-strings.js";
import { checkTokenIds, createSession, LLAMA_UBATCH, type Session, type SessionOptions } from "./session.js";

export interface GenerateOptions extends SamplingOptions, SessionOptions {
  /** Most tokens to generate (default 128). */
  readonly maxTokens?: number;
  /** Add the model's BOS/EOS around a text prompt as its tokenizer says (default true). Ignored for id prompts. */
  readonly addSpecial?: boolean;
  /** Stop at the model's end-of-generation tokens (default true). */
  readonly stopAtEog?: boolean;
  /** More ids that end generation like end-of-generation tokens (a chat template's end-of-turn token). */
  readonly stopTokens?: readonly number[];
  /**
   * Stop when the text contains one of these strings, even across token boundaries: text that could be the
   * start of one is held back until it cannot, and the stop string and what follows are not returned.
   */
  readonly stop?: readonly string[];
  readonly signal?: AbortSignal;
  /** Continue in an existing session instead of a fresh one (its tokens stay in front of the prompt). */
  readonly session?: Session;
}

export interface GeneratedToken {
  /**
   * The token id; -1 for the one trailing item that carries only text: bytes of an incomplete UTF-8
   * character still buffered when generation ended, flushed as U+FFFD.
   */
  readonly id: number;
  /** Text completed by this token (may be "" while a multi-byte character is incomplete). */
  readonly text: string;
}

export type FinishReason = "stop" | "length" | "context" | "aborted";

export interface GenerationTimings {
  prefillTokens: number;
  prefillMs: number;
  decodeTokens: number;
  decodeMs: number;
}

export interface Generation extends AsyncIterable<GeneratedToken> {
  readonly promptTokens: readonly number[];
  /** Ids generated so far (end-of-generation token excluded). */
  readonly tokens: readonly number[];
  readonly finishReason: FinishReason | undefined;
  readonly timings: Readonly<GenerationTimings>;
}

const now = () => performance.now();

export function generate(model: Model, prompt: string | readonly number[], opts: GenerateOptions = {}): Generation {
  const maxTokens = opts.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new PeelError("INVALID_ARGUMENT", `generate: maxTokens must be an integer ≥ 0, got ${maxTokens}`);
  validateSampling(opts);
  const promptTokens = typeof prompt === "string" ? model.tokenize(prompt, { addSpecial: opts.addSpecial ?? true }) : [...prompt];
  if (promptTokens.length === 0) throw new PeelError("INVALID_ARGUMENT", "generate: the prompt is empty (no tokens); give some text or set addSpecial to add BOS");
  checkTokenIds(promptTokens, model.config.vocabSize);
  const session = opts.session ?? createSession(model, opts);
  const room = session.contextLength - session.tokens.length;
  if (promptTokens.length > room) {
    throw new PeelError("CONTEXT_OVERFLOW", `the prompt has ${promptTokens.length} tokens but the context has room for ${room} (context length ${session.contextLength}); shorten the prompt or use a larger context`);
  }
  const sampler = createSampler(model.config.vocabSize, opts, { tokens: model.tokenizer, endTokens: opts.stopTokens ?? [] });
  const stopTokens = new Set(opts.stopTokens ?? []);
  const stopText = createStopMatcher(opts.stop ?? []);
  const tokens: number[] = [];
  const timings: GenerationTimings = { prefillTokens: 0, prefillMs: 0, decodeTokens: 0, decodeMs: 0 };
  let finishReason: FinishReason | undefined;

  async function* run(): AsyncGenerator<GeneratedToken> {
    const decoder = model.tokenizer.createDecodeStream();
    const checkAbort = () => {
      if (opts.signal?.aborted) { finishReason = "aborted"; throw new PeelError("ABORTED", "generation aborted by the caller's AbortSignal"); }
    };
    checkAbort();
    // prefill chunk by chunk, letting the event loop run in between so an abort lands during a long prompt
    let logits: Float32Array = new Float32Array(0);
    for (let start = 0; start < promptTokens.length; start += session.batchSize) {
      if (start > 0) { await yieldToEventLoop(); checkAbort(); }
      const t0 = now();
      // the llama.cpp micro-batch this slice belongs to (the prompt in pieces of LLAMA_UBATCH) picks its flash kernel
      const microBatch = Math.min(LLAMA_UBATCH, promptTokens.length - start + (start % LLAMA_UBATCH));
      logits = session.evaluate(promptTokens.slice(start, start + session.batchSize), { microBatch });
      timings.prefillMs += now() - t0;
    }
    timings.prefillTokens = promptTokens.length;
    for (const id of session.tokens) sampler.accept(id, true); // the penalties look back over the whole context, prompt included; a grammar starts after it
    let t0 = now();
    let pending: number | undefined; // the last sampled token while it is not yet in the session
    let stoppedByText = false;
    while (tokens.length < maxTokens) {
      const id = sampler.sample(logits);
      if (((opts.stopAtEog ?? true) && model.tokenizer.isEndOfGeneration(id)) || stopTokens.has(id)) { finishReason = "stop"; break; }
      tokens.push(id);
      sampler.accept(id);
      pending = id;
      const shown = stopText.push(decoder.push(id));
      yield { id, text: shown.text };
      if (shown.stopped) { finishReason = "stop"; stoppedByText = true; break; }
      // a grammar that can take nothing more has its answer: stop now instead of spending a step on end-of-generation
      if (sampler.grammar?.matcher.isFinished() === true) { finishReason = "stop"; break; }
      await yieldToEventLoop();
      checkAbort();
      if (tokens.length >= maxTokens) break;
      if (session.tokens.length >= session.contextLength) { finishReason = "context"; break; }
      t0 = now();
      logits = session.evaluate([id]);
      pending = undefined;
      timings.decodeMs += now() - t0;
      timings.decodeTokens++;
    }
    finishReason ??= "length";
    // A caller's session must hold the whole reply so that a later generate() continues after it: the last
    // sampled token was never fed back, so feed it now (its logits are not needed).
    if (opts.session !== undefined && finishReason === "length" && pending !== undefined && session.tokens.length < session.contextLength) {
      t0 = now();
      session.evaluate([pending]);
      timings.decodeMs += now() - t0;
      timings.decodeTokens++;
    }
    if (!stoppedByText) {
      // the decoder's incomplete tail and the text held back for a stop string that never came
      const tail = stopText.push(decoder.flush());
      const rest = tail.stopped ? tail.text : tail.text + stopText.flush();
      if (rest !== "") yield { id: -1, text: rest };
    }
  }

  let started = false;
  return {
    promptTokens,
    get tokens() { return tokens; },
    get finishReason() { return finishReason; },
    timings,
    [Symbol.asyncIterator]: () => {
      // a second pass would evaluate the prompt into the same session again
      if (started) throw new PeelError("INVALID_ARGUMENT", "a Generation can be iterated only once; call generate() again");
      started = true;
      return run();
    },
  };
}
