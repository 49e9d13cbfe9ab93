/**
 * Runs one generation request in a session: keeps the longest prefix the session's cache shares with the
 * prompt (rewinding to it, or resetting when a sliding window has dropped those rows), evaluates the rest,
 * and yields each token with its log-probabilities in the wire's terms (token text and bytes) and each
 * completion's end; its return value is the finished choices and the usage. generate() yields to the
 * event loop between tokens, so requests in other sessions advance in turn. Browser-safe (no node:*): the
 * in-process API (completion-api.ts) and the server both run requests through it. It does not parse
 * requests, build wire objects or know about slots.
 */

import { commonPrefixLength } from "../chat/chat-session.js";
import { generate, type FinishReason } from "../generate/generate.js";
import type { TokenLogprob } from "../generate/logprobs.js";
import type { Session } from "../generate/session.js";
import type { Model } from "../model/model.js";
import type { SamplingOptions } from "../sample/sampler.js";
import type { FinishedChoice, TokenAlternative, TokenLogprobInfo, Usage } from "./openai/responses.js";

export interface RunSpec {
  readonly prompt: readonly number[];
  /** undefined: until the context is full. */
  readonly maxTokens: number | undefined;
  readonly n: number;
  readonly stop: readonly string[];
  readonly stopTokens: readonly number[];
  readonly seed: number;
  readonly logprobs: number | undefined;
  readonly logprobsFrom: "model" | "sampler";
  readonly sampling: Omit<SamplingOptions, "seed">;
}

/** What a run reports as it goes: a piece of completion `index` (text may be "" when only log-probabilities came), or its end. */
export type RunEvent =
  | { readonly kind: "token"; readonly index: number; readonly text: string; readonly logprob: TokenLogprobInfo | undefined }
  | { readonly kind: "end"; readonly index: number; readonly finishReason: FinishReason | undefined };

export interface RunStats {
  readonly promptTokens: number;
  /** Prompt tokens found in the session's cache (not evaluated again). */
  readonly reusedTokens: number;
  readonly generatedTokens: number;
  readonly decodeTokens: number;
  readonly decodeMs: number;
}

export interface RunResult {
  readonly choices: readonly FinishedChoice[];
  readonly usage: Usage;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function alternative(model: Model, t: TokenLogprob): TokenAlternative {
  const bytes = model.tokenizer.tokenBytes(t.id);
  return { token: utf8.decode(bytes), bytes: [...bytes], logprob: t.logprob };
}

/**
 * Yields the run's events and returns its result. `onStats` is called once at the end, also when the run
 * failed, was aborted or its consumer stopped pulling: what was evaluated and generated (the server's metrics).
 */
export async function* runCompletion(model: Model, session: Session, spec: RunSpec, signal: AbortSignal | undefined,
  onStats?: (s: RunStats) => void): AsyncGenerator<RunEvent, RunResult, undefined> {
  // keep what the cache shares with the prompt, but evaluate at least the prompt's last token (its logits start the reply)
  // (an encoder–decoder's cache holds the decoder's tokens, not the prompt's: its prompt is encoded whole)
  let keep = model.config.seq2seq !== undefined ? 0 : Math.min(commonPrefixLength(session.tokens, spec.prompt), spec.prompt.length - 1);
  if (session.canRewind(keep)) session.rewind(keep);
  else { session.reset(); keep = 0; }
  const generation = generate(model, spec.prompt.slice(keep), {
    ...spec.sampling,
    seed: spec.seed,
    maxTokens: spec.maxTokens ?? session.contextLength,
    n: spec.n,
    stop: spec.stop,
    stopTokens: spec.stopTokens,
    ...(spec.logprobs !== undefined ? { logprobs: spec.logprobs, logprobsFrom: spec.logprobsFrom } : {}),
    session,
    ...(signal !== undefined ? { signal } : {}),
  });
  const texts: string[] = Array.from({ length: spec.n }, () => "");
  const logprobs: TokenLogprobInfo[][] = Array.from({ length: spec.n }, () => []);
  const generated = () => generation.choices.reduce((sum, c) => sum + c.tokens.length, 0);
  try {
    let current = 0; // the completion being generated; the ones before it have ended
    for await (const t of generation) {
      for (; current < t.index; current++) yield { kind: "end", index: current, finishReason: generation.choices[current]?.finishReason };
      let lp: TokenLogprobInfo | undefined;
      if (t.logprob !== undefined && t.id >= 0) {
        lp = { ...alternative(model, { id: t.id, logprob: t.logprob }), top: (t.topLogprobs ?? []).map((a) => alternative(model, a)) };
        logprobs[t.index]?.push(lp);
      }
      texts[t.index] += t.text;
      if (t.text !== "" || lp !== undefined) yield { kind: "token", index: t.index, text: t.text, logprob: lp };
    }
    for (; current < spec.n; current++) yield { kind: "end", index: current, finishReason: generation.choices[current]?.finishReason };
  } finally {
    // an aborted request still counts what it evaluated and generated
    const t = generation.timings;
    onStats?.({ promptTokens: spec.prompt.length, reusedTokens: keep, generatedTokens: generated(), decodeTokens: t.decodeTokens, decodeMs: t.decodeMs });
  }
  const choices = generation.choices.map((c, i): FinishedChoice => ({
    index: i, text: texts[i] ?? "", finishReason: c.finishReason, logprobs: spec.logprobs !== undefined ? logprobs[i] ?? [] : undefined,
  }));
  return { choices, usage: { promptTokens: spec.prompt.length, completionTokens: generated() } };
}
