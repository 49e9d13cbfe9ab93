// generate() over a small random Llama model built in memory: determinism (greedy and seeded), the token
// budget, context overflow, aborts (mid-stream and before the first token), and continuing a session.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomLlamaGguf } from "../../test/fixtures/random-llama.js";
import { bytesSource } from "../formats/byte-source.js";
import { loadModelFromSource } from "../model/load.js";
import { PeelError } from "../util/errors.js";
import { generate, type GenerateOptions, type Generation } from "./generate.js";
import { createSession } from "./session.js";

const model = await loadModelFromSource(bytesSource(randomLlamaGguf({
  dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 11, contextLength: 48,
})));
const PROMPT = [1, 450, 4996, 17354, 1701, 432];

async function collect(g: Generation): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of g) if (t.id >= 0) ids.push(t.id);
  return ids;
}

const run = (opts: GenerateOptions, prompt: readonly number[] = PROMPT) => collect(generate(model, prompt, { stopAtEog: false, ...opts }));

test("greedy generation is deterministic and starts with the argmax of the prompt's logits", async () => {
  const a = await run({ maxTokens: 8 });
  assert.deepEqual(await run({ maxTokens: 8 }), a);
  const logits = createSession(model).evaluate(PROMPT);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  assert.equal(a[0], best);
});

test("seeded sampling: the same seed gives the same tokens, another seed others", async () => {
  const opts = { maxTokens: 12, temperature: 3, topK: 0, topP: 1 };
  const a = await run({ ...opts, seed: 5 });
  assert.deepEqual(await run({ ...opts, seed: 5 }), a);
  assert.notDeepEqual(await run({ ...opts, seed: 6 }), a);
});

test("maxTokens is respected and reported as finishReason length", async () => {
  for (const maxTokens of [0, 1, 5]) {
    const g = generate(model, PROMPT, { maxTokens, stopAtEog: false });
    const ids = await collect(g);
    assert.equal(ids.length, maxTokens);
    assert.deepEqual(g.tokens, ids);
    assert.equal(g.finishReason, "length");
  }
  const g = generate(model, PROMPT, { maxTokens: 3, stopAtEog: false });
  await collect(g);
  assert.equal(g.timings.prefillTokens, PROMPT.length);
  assert.equal(g.timings.decodeTokens, 2, "the last token is not evaluated");
});

test("generation stops at the context end with finishReason context", async () => {
  const g = generate(model, PROMPT, { maxTokens: 100, stopAtEog: false, contextLength: 10 });
  const ids = await collect(g);
  assert.equal(ids.length, 10 - PROMPT.length + 1, "the last sampled token needs no room");
  assert.equal(g.finishReason, "context");
});

test("a prompt longer than the context: generate() itself throws CONTEXT_OVERFLOW giving both numbers", () => {
  const long = Array.from({ length: 50 }, (_, i) => 100 + i);
  assert.throws(() => generate(model, long), (e: unknown) => e instanceof PeelError && e.code === "CONTEXT_OVERFLOW" && e.message.includes("50") && e.message.includes("48"));
  assert.throws(() => generate(model, PROMPT, { contextLength: 4 }), (e: unknown) => e instanceof PeelError && e.code === "CONTEXT_OVERFLOW" && e.message.includes("6") && e.message.includes("4"));
});

test("an AbortSignal fired after the 3rd token ends iteration with ABORTED", async () => {
  const ac = new AbortController();
  const g = generate(model, PROMPT, { maxTokens: 40, stopAtEog: false, signal: ac.signal });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const t of g) {
      seen.push(t.id);
      if (seen.length === 3) ac.abort();
    }
  }, (e: unknown) => e instanceof PeelError && e.code === "ABORTED");
  assert.equal(seen.length, 3);
  assert.equal(g.finishReason, "aborted");
});

test("an abort from a timer during generation stops it (the event loop runs between steps)", async () => {
  const ac = new AbortController();
  const g = generate(model, PROMPT, { maxTokens: 40, stopAtEog: false, signal: ac.signal });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const t of g) {
      seen.push(t.id);
      if (seen.length === 2) setImmediate(() => ac.abort());
    }
  }, (e: unknown) => e instanceof PeelError && e.code === "ABORTED");
  assert.ok(seen.length >= 2 && seen.length < 40, `${seen.length} tokens`);
});

test("an already-aborted signal throws ABORTED before any token and leaves the session empty", async () => {
  const session = createSession(model);
  const g = generate(model, PROMPT, { signal: AbortSignal.abort(), session });
  const seen: number[] = [];
  await assert.rejects(async () => { for await (const t of g) seen.push(t.id); },
    (e: unknown) => e instanceof PeelError && e.code === "ABORTED");
  assert.equal(seen.length, 0);
  assert.equal(session.tokens.length, 0);
});

test("a session continues across two generate calls, with the second prompt after the first reply", async () => {
  const session = createSession(model, { kvType: "F32" });
  const p2 = [920, 338, 445];
  const g1 = generate(model, PROMPT, { session, maxTokens: 4, stopAtEog: false });
  const r1 = await collect(g1);
  const g2 = generate(model, p2, { session, maxTokens: 4, stopAtEog: false });
  const r2 = await collect(g2);
  // every reply token, the last included, is in the session (a repeated id as well: the reply may repeat)
  assert.deepEqual(session.tokens, [...PROMPT, ...r1, ...p2, ...r2]);
  // the continuation equals a fresh generation from the whole history
  const fresh = await run({ maxTokens: 4, kvType: "F32" }, [...PROMPT, ...r1, ...p2]);
  assert.deepEqual(r2, fresh);
});

test("bad options are INVALID_ARGUMENT from generate() itself", () => {
  const isInvalid = (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => generate(model, PROMPT, { maxTokens: -1 }), isInvalid);
  assert.throws(() => generate(model, PROMPT, { temperature: -1 }), isInvalid);
  assert.throws(() => generate(model, []), isInvalid);
});

test("a text prompt is tokenized with BOS and streams text pieces", async () => {
  const g = generate(model, "Hello world", { maxTokens: 3, stopAtEog: false });
  assert.equal(g.promptTokens[0], 1);
  let text = "";
  for await (const t of g) text += t.text;
  assert.equal(text, model.detokenize(g.tokens));
});

test("sampler stages in generate: a banned token never appears, and a repeat penalty stops a repeat", async () => {
  const greedy = await run({ maxTokens: 12 });
  const banned = greedy[0] as number;
  const without = await run({ maxTokens: 12, logitBias: { [banned]: -Infinity } });
  assert.ok(!without.includes(banned), "a -Infinity bias bans the token");
  const long = await run({ maxTokens: 40 });
  assert.ok(new Set(long).size < long.length, "fixture: 40 greedy tokens repeat one");
  const penalised = await run({ maxTokens: 40, repeatPenalty: 1.5 });
  assert.equal(new Set(penalised).size, penalised.length, `no token repeated under the penalty: ${penalised}`);
});

test("logprobs: each token's log-probability under the raw logits, with the top alternatives in order", async () => {
  const g = generate(model, PROMPT, { maxTokens: 4, stopAtEog: false, logprobs: 3, kvType: "F32" });
  const got = [];
  for await (const t of g) got.push(t);
  assert.equal(got.length, 4);
  // the first step's numbers, by hand from the prompt's logits
  const logits = createSession(model, { kvType: "F32" }).evaluate(PROMPT);
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  const first = got[0];
  assert.ok(first !== undefined && first.logprob !== undefined && first.topLogprobs !== undefined);
  assert.ok(Math.abs(first.logprob - ((logits[first.id] as number) - max - Math.log(sum))) < 1e-9);
  for (const t of got) {
    assert.equal(t.topLogprobs?.length, 3);
    const lps = (t.topLogprobs ?? []).map((x) => x.logprob);
    assert.deepEqual(lps, [...lps].sort((a, b) => b - a));
    // greedy: the chosen token is the most likely one
    assert.equal(t.topLogprobs?.[0]?.id, t.id);
    assert.equal(t.topLogprobs?.[0]?.logprob, t.logprob);
    assert.ok((t.logprob ?? 1) <= 0);
  }
  const none = generate(model, PROMPT, { maxTokens: 1, stopAtEog: false });
  for await (const t of none) assert.equal(t.logprob, undefined);
});

test("n completions: one prefill, completion i samples with seed + i, completion 0 equals n = 1", async () => {
  const opts = { maxTokens: 6, temperature: 3, topK: 0, topP: 1, stopAtEog: false } as const;
  const g = generate(model, PROMPT, { ...opts, seed: 9, n: 3 });
  const byChoice: number[][] = [[], [], []];
  for await (const t of g) if (t.id >= 0) byChoice[t.index]?.push(t.id);
  assert.equal(g.timings.prefillTokens, PROMPT.length);
  assert.deepEqual(byChoice[0], await run({ ...opts, seed: 9 }));
  assert.deepEqual(byChoice[1], await run({ ...opts, seed: 10 }));
  assert.deepEqual(byChoice[2], await run({ ...opts, seed: 11 }));
  assert.deepEqual(g.choices.map((c) => c.tokens), byChoice);
  assert.deepEqual(g.choices.map((c) => c.finishReason), ["length", "length", "length"]);
  assert.throws(() => generate(model, PROMPT, { n: 0 }), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
});

test("logprobsFrom sampler: the distribution the draw used, over the candidates top-k kept, after temperature", async () => {
  const g = generate(model, PROMPT, { maxTokens: 5, stopAtEog: false, temperature: 0.5, topK: 3, topP: 1, seed: 4, logprobs: 5, logprobsFrom: "sampler" });
  for await (const t of g) {
    const top = t.topLogprobs ?? [];
    assert.equal(top.length, 3, "only the 3 candidates top-k kept");
    const mass = top.reduce((s, a) => s + Math.exp(a.logprob), 0);
    assert.ok(Math.abs(mass - 1) < 1e-9, `they carry all the mass (${mass})`);
    assert.ok(top.some((a) => a.id === t.id && a.logprob === t.logprob));
  }
  // the model's reading over the same tokens: more alternatives, less mass on them
  const m = generate(model, PROMPT, { maxTokens: 1, stopAtEog: false, temperature: 0.5, topK: 3, topP: 1, seed: 4, logprobs: 5 });
  for await (const t of m) assert.equal(t.topLogprobs?.length, 5);
});
