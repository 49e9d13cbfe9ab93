// The grammar stage over a small hand-made vocabulary: the trie mask equals checking every token one by one,
// through random walks that include byte tokens splitting a character; end-of-generation only when complete;
// special tokens never; and the sampler's "check the chain's pick first" path gives grammar-valid text.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { createSampler } from "../sampler.js";
import { createRng } from "../rng.js";
import { compileGbnf } from "./gbnf.js";
import { createGrammarMatcher } from "./matcher.js";
import { grammarStage } from "./grammar-stage.js";
import { buildTokenTable, type TokenSource } from "./token-table.js";
import { createCandidates, fillCandidates } from "../candidates.js";

const enc = new TextEncoder();
// id 0 ends generation, id 1 is a control token, the rest are text; 0xC3 / 0xA9 are é split in two
const PIECES: Array<string | Uint8Array> = [
  "<eos>", "<ctl>", "{", "}", "\"", "a", "ab", "abc", "b", " ", ",", ":", "1", "12", "\"a\"", "\":", "é", "x\"", "[", "]",
  Uint8Array.of(0xc3), Uint8Array.of(0xa9), Uint8Array.of(0xc3, 0xa9, 0x22), "{\"", "\"}", "true", "t", "rue", "null",
];

function stubTokens(pieces = PIECES): TokenSource {
  const bytes = pieces.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  return {
    vocabSize: pieces.length,
    tokenBytes: (id) => bytes[id] as Uint8Array,
    decode: (ids, opts) => {
      const id = ids[0] as number;
      if (id <= 1 && (opts?.skipSpecial ?? true)) return "";
      return new TextDecoder().decode(bytes[id]);
    },
    isEndOfGeneration: (id) => id === 0,
  };
}

const GRAMMAR = compileGbnf(String.raw`
root ::= "{" ( pair ( "," " "? pair )* )? "}"
pair ::= "\"" [a-zé]{1,4} "\"" ":" " "? ( [0-9]+ | "true" | "null" | "[" "]" )
`);

test("the trie mask equals checking each token, on random walks through the grammar", () => {
  const table = buildTokenTable(stubTokens());
  assert.equal(table.cls[1], 2, "a control token is never grammar text");
  assert.equal(table.cls[21], 1, "a lone continuation byte finishes a pending character only");
  const rng = createRng(7);
  for (let walk = 0; walk < 200; walk++) {
    const stage = grammarStage(GRAMMAR, table);
    const mask = new Uint8Array(table.size);
    for (let step = 0; step < 40; step++) {
      const n = stage.computeMask(mask);
      const allowed: number[] = [];
      for (let id = 0; id < table.size; id++) {
        assert.equal(mask[id] === 1, stage.allows(id), `walk ${walk} step ${step}: token ${id} mask vs one-by-one`);
        if (mask[id] === 1) allowed.push(id);
      }
      assert.equal(n, allowed.length);
      assert.ok(allowed.length > 0, "this grammar never dead-ends over this vocabulary");
      const id = allowed[Math.floor(rng.next() * allowed.length)] as number;
      if (id === 0) { assert.ok(stage.matcher.isComplete()); break; }
      stage.accept(id);
    }
  }
});

test("end-of-generation only when complete; a refused token throws on accept", () => {
  const stage = grammarStage(compileGbnf(`root ::= "{" "}"`), buildTokenTable(stubTokens()));
  assert.equal(stage.allows(0), false);
  stage.accept(2);
  assert.equal(stage.allows(0), false);
  assert.equal(stage.allows(3), true);
  stage.accept(3);
  assert.equal(stage.allows(0), true, "complete: <eos> allowed");
  assert.equal(stage.allows(3), false);
  assert.throws(() => stage.accept(2), (e: unknown) => e instanceof PeelError && /token 2 does not continue/.test(e.message));
  stage.accept(5, true); // a prompt token: ignored
  stage.reset();
  assert.equal(stage.allows(2), true);
});

test("extra end tokens (a chat template's end of turn) count as end-of-generation", () => {
  const stage = grammarStage(compileGbnf(`root ::= "a"`), buildTokenTable(stubTokens()), [1]);
  assert.equal(stage.allows(1), false);
  stage.accept(5);
  assert.equal(stage.allows(1), true);
});

test("apply masks the candidates, and says so when nothing can continue", () => {
  const table = buildTokenTable(stubTokens());
  const stage = grammarStage(compileGbnf(`root ::= "q"`), table);
  const c = createCandidates(table.size);
  fillCandidates(c, new Float32Array(table.size));
  assert.throws(() => stage.apply(c), (e: unknown) => e instanceof PeelError && /no token of the vocabulary can continue/.test(e.message));
  const ok = grammarStage(compileGbnf(`root ::= "ab" | "a" "b"`), table);
  fillCandidates(c, new Float32Array(table.size));
  ok.apply(c);
  assert.deepEqual([...c.ids.subarray(0, c.size)], [5, 6], "a and ab are left, in order");
});

test("the sampler with a grammar: every draw is grammar text, whatever the logits prefer", () => {
  const tokens = stubTokens();
  const logits = new Float32Array(PIECES.length);
  for (let seed = 0; seed < 30; seed++) {
    const rng = createRng(1000 + seed);
    const s = createSampler(PIECES.length, { grammar: GRAMMAR, temperature: 1, seed }, { tokens });
    const check = createGrammarMatcher(GRAMMAR);
    const out: Uint8Array[] = [];
    for (let step = 0; step < 60; step++) {
      for (let i = 0; i < logits.length; i++) logits[i] = rng.next() * 4;
      logits[0] = -2; // make the end rarely the first pick
      const id = s.sample(logits);
      if (id === 0) break;
      s.accept(id);
      out.push(tokens.tokenBytes(id));
      assert.ok(check.acceptToken(tokens.tokenBytes(id)), `seed ${seed}: token ${id} accepted by an independent matcher`);
    }
    assert.ok(s.grammar !== undefined);
  }
  assert.throws(() => createSampler(4, { grammar: GRAMMAR }), /needs the tokenizer's token texts/);
});
