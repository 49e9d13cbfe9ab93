/**
 * Text generation: tokenize the prompt, prefill it in batches, then decode one token per step with the
 * KV cache, sampling each next token, until end-of-generation, the token budget, the context end or an
 * abort. Returned as an async iterable of tokens (with the newly completed text of each), so callers can
 * stream; the event loop runs between steps, so an AbortSignal stops generation promptly. Options ask for
 * each token's log-probability with the most likely alternatives (logprobs.ts), and for n completions of
 * one prompt, run one after another in the same session from the prompt evaluated once. An encoder–decoder
 * (T5) encodes the prompt instead of prefilling it and decodes from its decoder start token.
 */

import type { Model } from "../model/model.js";
import { createSampler, validateSampling, type Sampler, type SamplingOptions } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import { yieldToEventLoop } from "../util/yield.js";
import { candidateLogprobs, MAX_TOP_LOGPROBS, snapshotCandidates, stepLogprobs, type CandidateSnapshot, type StepLogprobs, type TokenLogprob } from "./logprobs.js";
import { createStopMatcher } from "./stop-strings.js";
import { checkTokenIds, createSession, decoderStartId, LLAMA_UBATCH, type Session, type SessionOptions } from "./session.js";

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
  /**
   * Report each token's log-probability and this many most likely alternatives (0..100; 0: the chosen
   * token's only). Of the model's distribution: softmax of the raw logits, before bias, penalties, top-k/p
   * and temperature (llama-server's default and OpenAI's meaning; see logprobs.ts). Off when undefined.
   */
  readonly logprobs?: number;
  /**
   * Which distribution logprobs report: "model" (default, above) or "sampler", the one the final pick drew
   * from, over the candidates still in play after bias, penalties, truncation and temperature (llama-server's
   * `post_sampling_probs`; at temperature 0 the chosen token's probability is then that of the biased,
   * penalised softmax).
   */
  readonly logprobsFrom?: "model" | "sampler";
  /**
   * Completions of the prompt (default 1): the prompt is evaluated once, then each completion runs from it
   * in turn, completion i sampling with seed + i (so completion 0 equals the n = 1 result, and a fixed seed
   * still gives n different completions). Tokens carry their completion's `index`. A caller's session ends
   * holding the last completion.
   */
  readonly n?: number;
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
  /** Which completion the token belongs to (0..n-1). */
  readonly index: number;
  /** With the logprobs option: the token's log-probability (absent on the text-only item). */
  readonly logprob?: number;
  /** With the logprobs option: the most likely tokens at this step, most likely first. */
  readonly topLogprobs?: readonly TokenLogprob[];
}

export type FinishReason = "stop" | "length" | "context" | "aborted";

export interface GenerationTimings {
  prefillTokens: number;
  prefillMs: number;
  decodeTokens: number;
  decodeMs: number;
}

export interface GeneratedChoice {
  readonly index: number;
  /** Ids generated so far (end-of-generation token excluded). */
  readonly tokens: readonly number[];
  readonly finishReason: FinishReason | undefined;
}

export interface Generation extends AsyncIterable<GeneratedToken> {
  readonly promptTokens: readonly number[];
  /** Ids generated so far by the first completion (end-of-generation token excluded). */
  readonly tokens: readonly number[];
  /** Why the first completion ended, or "aborted" when an abort ended any. */
  readonly finishReason: FinishReason | undefined;
  /** Every completion, by index (one unless the n option asked for more). */
  readonly choices: readonly GeneratedChoice[];
  readonly timings: Readonly<GenerationTimings>;
}

interface ChoiceState { readonly index: number; readonly tokens: number[]; finishReason: FinishReason | undefined }

const now = () => performance.now();

export function generate(model: Model, prompt: string | readonly number[], opts: GenerateOptions = {}): Generation {
  const maxTokens = opts.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new PeelError("INVALID_ARGUMENT", `generate: maxTokens must be an integer ≥ 0, got ${maxTokens}`);
  const n = opts.n ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 128) throw new PeelError("INVALID_ARGUMENT", `generate: n must be an integer in 1..128, got ${n}`);
  const nTop = opts.logprobs;
  if (nTop !== undefined && !(Number.isInteger(nTop) && nTop >= 0 && nTop <= MAX_TOP_LOGPROBS)) {
    throw new PeelError("INVALID_ARGUMENT", `generate: logprobs must be an integer in 0..${MAX_TOP_LOGPROBS}, got ${nTop}`);
  }
  if (opts.logprobsFrom !== undefined && opts.logprobsFrom !== "model" && opts.logprobsFrom !== "sampler") {
    throw new PeelError("INVALID_ARGUMENT", `generate: logprobsFrom must be "model" or "sampler", got ${JSON.stringify(opts.logprobsFrom)}`);
  }
  const fromSampler = nTop !== undefined && opts.logprobsFrom === "sampler";
  validateSampling(opts);
  const promptTokens = typeof prompt === "string" ? model.tokenize(prompt, { addSpecial: opts.addSpecial ?? true }) : [...prompt];
  if (promptTokens.length === 0) throw new PeelError("INVALID_ARGUMENT", "generate: the prompt is empty (no tokens); give some text or set addSpecial to add BOS");
  checkTokenIds(promptTokens, model.config.vocabSize);
  const session = opts.session ?? createSession(model, opts);
  // an encoder–decoder reads the prompt with its encoder (the whole context) and decodes from its start token
  const seq2seq = model.config.seq2seq !== undefined;
  const room = seq2seq ? session.contextLength : session.contextLength - session.tokens.length;
  if (promptTokens.length > room) {
    throw new PeelError("CONTEXT_OVERFLOW", `the prompt has ${promptTokens.length} tokens but the context has room for ${room} (context length ${session.contextLength}); shorten the prompt or use a larger context`);
  }
  const samplerContext = { tokens: model.tokenizer, endTokens: opts.stopTokens ?? [] };
  const samplers = Array.from({ length: n }, (_, i) => createSampler(model.config.vocabSize, { ...opts, seed: ((opts.seed ?? 0) + i) >>> 0 }, samplerContext));
  const stopTokens = new Set(opts.stopTokens ?? []);
  createStopMatcher(opts.stop ?? []); // checks the stop strings now, not at the first step
  const choices: ChoiceState[] = Array.from({ length: n }, (_, index) => ({ index, tokens: [], finishReason: undefined }));
  const timings: GenerationTimings = { prefillTokens: 0, prefillMs: 0, decodeTokens: 0, decodeMs: 0 };
  let aborted = false;

  const checkAbort = (choice: ChoiceState) => {
    if (opts.signal?.aborted) { choice.finishReason = "aborted"; aborted = true; throw new PeelError("ABORTED", "generation aborted by the caller's AbortSignal"); }
  };

  async function prefill(): Promise<Float32Array> {
    const first = choices[0] as ChoiceState;
    checkAbort(first);
    // chunk by chunk, letting the event loop run in between so an abort lands during a long prompt
    let logits: Float32Array = new Float32Array(0);
    if (seq2seq) {
      const t0 = now();
      session.encode(promptTokens);
      logits = await session.evaluateAsync([decoderStartId(model)]);
      timings.prefillMs += now() - t0;
      timings.prefillTokens = promptTokens.length;
      return logits;
    }
    for (let start = 0; start < promptTokens.length; start += session.batchSize) {
      if (start > 0) { await yieldToEventLoop(); checkAbort(first); }
      const t0 = now();
      // the llama.cpp micro-batch this slice belongs to (the prompt in pieces of LLAMA_UBATCH) picks its flash kernel
      const microBatch = Math.min(LLAMA_UBATCH, promptTokens.length - start + (start % LLAMA_UBATCH));
      logits = await session.evaluateAsync(promptTokens.slice(start, start + session.batchSize), { microBatch });
      timings.prefillMs += now() - t0;
    }
    timings.prefillTokens = promptTokens.length;
    return logits;
  }

  /** One completion from the prompt's logits; leaves its tokens in the session. */
  async function* decode(choice: ChoiceState, promptLogits: Float32Array): AsyncGenerator<GeneratedToken> {
    const sampler = samplers[choice.index] as Sampler;
    const { tokens, index } = choice;
    const decoder = model.tokenizer.createDecodeStream();
    const stopText = createStopMatcher(opts.stop ?? []);
    for (const id of session.tokens) sampler.accept(id, true); // the penalties look back over the whole context, prompt included; a grammar starts after it
    let logits = promptLogits;
    let t0 = now();
    let pending: number | undefined; // the last sampled token while it is not yet in the session
    let stoppedByText = false;
    while (tokens.length < maxTokens) {
      let drawnFrom: CandidateSnapshot | undefined;
      const id = fromSampler ? sampler.sample(logits, (c) => { drawnFrom = snapshotCandidates(c); }) : sampler.sample(logits);
      if (((opts.stopAtEog ?? true) && model.tokenizer.isEndOfGeneration(id)) || stopTokens.has(id)) { choice.finishReason = "stop"; break; }
      let lp: StepLogprobs | undefined;
      if (nTop !== undefined) lp = drawnFrom !== undefined ? candidateLogprobs(drawnFrom, id, nTop) : stepLogprobs(logits, id, nTop);
      tokens.push(id);
      sampler.accept(id);
      pending = id;
      const shown = stopText.push(decoder.push(id));
      yield lp === undefined ? { id, text: shown.text, index } : { id, text: shown.text, index, logprob: lp.logprob, topLogprobs: lp.top };
      if (shown.stopped) { choice.finishReason = "stop"; stoppedByText = true; break; }
      // a grammar that can take nothing more has its answer: stop now instead of spending a step on end-of-generation
      if (sampler.grammar?.matcher.isFinished() === true) { choice.finishReason = "stop"; break; }
      await yieldToEventLoop();
      checkAbort(choice);
      if (tokens.length >= maxTokens) break;
      if (session.tokens.length >= session.contextLength) { choice.finishReason = "context"; break; }
      t0 = now();
      logits = await session.evaluateAsync([id]);
      pending = undefined;
      timings.decodeMs += now() - t0;
      timings.decodeTokens++;
    }
    choice.finishReason ??= "length";
    // A caller's session must hold the whole reply so that a later generate() continues after it: the last
    // sampled token was never fed back, so feed it now (its logits are not needed).
    if (opts.session !== undefined && choice.finishReason === "length" && pending !== undefined && session.tokens.length < session.contextLength) {
      t0 = now();
      await session.evaluateAsync([pending]);
      timings.decodeMs += now() - t0;
      timings.decodeTokens++;
    }
    if (!stoppedByText) {
      // the decoder's incomplete tail and the text held back for a stop string that never came
      const tail = stopText.push(decoder.flush());
      const rest = tail.stopped ? tail.text : tail.text + stopText.flush();
      if (rest !== "") yield { id: -1, text: rest, index };
    }
  }

  async function* run(): AsyncGenerator<GeneratedToken> {
    const logits = await prefill();
    if (n === 1) { yield* decode(choices[0] as ChoiceState, logits); return; }
    // later completions start again from the end of the prompt: the logits are kept, the cache rewound
    const promptLogits = Float32Array.from(logits);
    const context = [...session.tokens];
    for (const choice of choices) {
      if (choice.index > 0) {
        checkAbort(choice);
        if (session.canRewind(context.length)) session.rewind(context.length);
        else { session.reset(); await session.evaluateAsync(context); } // a sliding window dropped the rows: evaluate again
      }
      yield* decode(choice, promptLogits);
    }
  }

  let started = false;
  const first = choices[0] as ChoiceState;
  return {
    promptTokens,
    get tokens() { return first.tokens; },
    get finishReason() { return aborted ? "aborted" : first.finishReason; },
    choices,
    timings,
    [Symbol.asyncIterator]: () => {
      // a second pass would evaluate the prompt into the same session again
      if (started) throw new PeelError("INVALID_ARGUMENT", "a Generation can be iterated only once; call generate() again");
      started = true;
      return run();
    },
  };
}
