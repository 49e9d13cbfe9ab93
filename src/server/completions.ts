/**
 * Runs one generation request on a slot: keeps the longest prefix the slot's cache shares with the prompt
 * (rewinding the session to it, or resetting when a sliding window has dropped those rows), evaluates the
 * rest, and streams each token to the caller with its log-probabilities in the wire's terms (token text and
 * bytes), then reports each completion's end and the usage. generate() yields to the event loop between
 * tokens, so requests on other slots advance in turn. It does not parse requests or write HTTP.
 */

import { commonPrefixLength, generate, type FinishReason, type Model, type SamplingOptions, type TokenLogprob } from "../index.js";
import type { FinishedChoice, TokenAlternative, TokenLogprobInfo, Usage } from "./openai/responses.js";
import type { Slot } from "./slots.js";

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

export interface RunEvents {
  /** A piece of completion `index`'s text (may be "" when only log-probabilities came with the token). */
  onToken?(index: number, text: string, logprob: TokenLogprobInfo | undefined): void;
  onChoiceEnd?(index: number, finishReason: FinishReason | undefined): void;
  /** Called once at the end, also when the request failed or was aborted: what was evaluated and generated. */
  onStats?(stats: RunStats): void;
}

export interface RunStats {
  readonly promptTokens: number;
  /** Prompt tokens found in the slot's cache (not evaluated again). */
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

export async function runOnSlot(model: Model, slot: Slot, spec: RunSpec, signal: AbortSignal, events: RunEvents = {}): Promise<RunResult> {
  const session = slot.session;
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
    signal,
  });
  const texts: string[] = Array.from({ length: spec.n }, () => "");
  const logprobs: TokenLogprobInfo[][] = Array.from({ length: spec.n }, () => []);
  const generated = () => generation.choices.reduce((sum, c) => sum + c.tokens.length, 0);
  try {
    let current = 0; // the completion being generated; the ones before it have ended
    for await (const t of generation) {
      for (; current < t.index; current++) events.onChoiceEnd?.(current, generation.choices[current]?.finishReason);
      let lp: TokenLogprobInfo | undefined;
      if (t.logprob !== undefined && t.id >= 0) {
        lp = { ...alternative(model, { id: t.id, logprob: t.logprob }), top: (t.topLogprobs ?? []).map((a) => alternative(model, a)) };
        logprobs[t.index]?.push(lp);
      }
      texts[t.index] += t.text;
      if (t.text !== "" || lp !== undefined) events.onToken?.(t.index, t.text, lp);
    }
    for (; current < spec.n; current++) events.onChoiceEnd?.(current, generation.choices[current]?.finishReason);
  } finally {
    // an aborted request still counts what it evaluated and generated
    const t = generation.timings;
    events.onStats?.({ promptTokens: spec.prompt.length, reusedTokens: keep, generatedTokens: generated(), decodeTokens: t.decodeTokens, decodeMs: t.decodeMs });
  }
  const choices = generation.choices.map((c, i): FinishedChoice => ({
    index: i, text: texts[i] ?? "", finishReason: c.finishReason, logprobs: spec.logprobs !== undefined ? logprobs[i] ?? [] : undefined,
  }));
  return { choices, usage: { promptTokens: spec.prompt.length, completionTokens: generated() } };
}
