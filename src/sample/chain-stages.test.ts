// min-p, penalties and logit bias on distributions small enough to check by hand, and their place in the chain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCandidates, fillCandidates } from "./candidates.js";
import { minP } from "./min-p.js";
import { penalties } from "./penalties.js";
import { logitBias } from "./logit-bias.js";
import { typicalP } from "./typical-p.js";
import { createSampler } from "./sampler.js";
import { PeelError } from "../util/errors.js";

function cands(logits: number[]) {
  const c = createCandidates(logits.length);
  fillCandidates(c, Float32Array.from(logits));
  return c;
}
const kept = (c: ReturnType<typeof cands>) => [...c.ids.subarray(0, c.size)].sort((a, b) => a - b);

test("min-p keeps tokens with p ≥ minP · p(top): logits ≥ max + ln(minP)", () => {
  // p ∝ e^logit: token 0 is the top; ln(0.5) ≈ −0.693, so logit 2.4 stays (≥ 2.307) and 2.2 goes
  const c = cands([3, 2.4, 2.2, -1]);
  minP(0.5).apply(c);
  assert.deepEqual(kept(c), [0, 1]);
  const all = cands([3, 2.4, 2.2, -1]);
  minP(0).apply(all);
  assert.equal(all.size, 4, "0 is off");
});

test("penalties: repeat divides positive and multiplies negative logits; frequency per occurrence; presence once; a window", () => {
  const p = penalties({ repeat: 2, frequency: 0.5, presence: 0.25, lastN: 3 });
  for (const id of [1, 1, 2]) p.accept!(id);
  const c = cands([1, 4, -2, 3]);
  p.apply(c);
  // token 1 (twice): 4/2 − 2·0.5 − 0.25 = 0.75; token 2 (once): −2·2 − 0.5 − 0.25 = −4.75; others unchanged
  assert.deepEqual([...c.logits], [1, 0.75, -4.75, 3]);
  p.accept!(3); // the window of 3 drops the first 1: now [1, 2, 3]
  const d = cands([1, 4, -2, 3]);
  p.apply(d);
  assert.deepEqual([...d.logits], [1, 4 / 2 - 0.5 - 0.25, -4.75, 3 / 2 - 0.5 - 0.25]);
  p.reset!();
  const e = cands([1, 4, -2, 3]);
  p.apply(e);
  assert.deepEqual([...e.logits], [1, 4, -2, 3], "reset forgets");
});

test("logit bias adds to chosen logits; -Infinity bans; the greedy chain sees it; bad ids are refused", () => {
  const c = cands([1, 2, 3]);
  logitBias(new Map([[2, -Infinity], [0, 5]])).apply(c);
  assert.deepEqual([...c.logits], [6, 2, -Infinity]);
  const s = createSampler(3, { logitBias: { 2: -Infinity } });
  assert.equal(s.sample(Float32Array.from([1, 2, 3])), 1);
  const r = createSampler(3, { repeatPenalty: 10 });
  r.accept(2);
  assert.equal(r.sample(Float32Array.from([1, 2, 3])), 1, "3/10 < 2: the repeated token loses");
  assert.throws(() => createSampler(3, { logitBias: { 7: 1 } }), (e: unknown) => e instanceof PeelError && /outside the vocabulary/.test(e.message));
  assert.throws(() => createSampler(3, { minP: 2 }), (e: unknown) => e instanceof PeelError && /minP/.test(e.message));
  assert.deepEqual(createSampler(3, { temperature: 1, minP: 0.1, presencePenalty: 1, logitBias: { 0: 1 } }).stages.map((st) => st.name.split("(")[0]),
    ["logit-bias", "penalties", "top-k", "top-p", "min-p", "temperature", "draw"]);
  assert.deepEqual(createSampler(3, { temperature: 1, typicalP: 0.5 }).stages.map((st) => st.name.split("(")[0]), ["top-k", "typical-p", "top-p", "temperature", "draw"]);
});

test("typical-p keeps the tokens whose surprise is nearest the entropy, in that order, until their mass exceeds p", () => {
  // p = [0.5, 0.25, 0.125, 0.125] (logits ln p): entropy = 1.75 ln 2; surprises ln2·[1, 2, 3, 3]: distances [0.75, 0.25, 1.25, 1.25]·ln 2
  const c = cands([Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)]);
  typicalP(0.6).apply(c);
  assert.deepEqual([...c.ids.subarray(0, c.size)], [1, 0], "token 1 (most typical) first, then token 0: mass 0.75 > 0.6");
  const one = cands([Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)]);
  typicalP(0.2).apply(one);
  assert.deepEqual([...one.ids.subarray(0, one.size)], [1], "0.25 > 0.2 after one token");
});
