// Grammar parity with llama.cpp: the same GBNF text runs in llama.cpp's grammar engine (node-llama-cpp's
// prebuilt binary, the model loaded vocabulary-only) and in Peel's; along random walks over the vocabulary the
// set of tokens each allows next must be the same, token for token. Vocabularies: the shipped model's (1024,
// byte-level BPE) and llama.cpp's llama-spm (32000, SentencePiece with byte tokens) from ../shared. Walks lean
// towards tokens that split a UTF-8 character, so the partial-character paths meet too. Deliberate
// differences: control tokens (<s>, <|endoftext|>) are left out — llama.cpp's grammar sees their text, Peel
// never allows them as grammar text because decoding renders them as nothing; and where llama.cpp allows a
// token that Peel refuses, the token's bytes (after any pending partial character) must not be well-formed
// UTF-8 — llama.cpp lets lead bytes F5–FF and overlong three- and four-byte forms through, Peel does not.
// Every such excused token is counted and reported; Peel allowing a token llama.cpp refuses always fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LlamaGrammarEvaluationState, type LlamaModel } from "node-llama-cpp";
import { jsonObjectGbnf, jsonSchemaToGbnf, loadModel, tokenizerFromGguf, compileGbnf, type Tokenizer } from "../../src/index.node.js";
import { grammarStage } from "../../src/sample/grammar/grammar-stage.js";
import { TokenClass, tokenTableFor } from "../../src/sample/grammar/token-table.js";
import { createRng } from "../../src/sample/rng.js";
import { LLAMA_CPP_VOCAB_DIR, llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { SCHEMA } from "../fixtures/json-schema-person.js";
import { referenceLlama } from "./llama-cpp.js";

const SHIPPED = fileURLToPath(new URL("../../models/peel-tinystories-1m.gguf", import.meta.url));

const GRAMMARS: Record<string, string> = {
  "JSON schema (Peel's GBNF for the test schema)": jsonSchemaToGbnf(SCHEMA),
  "json_object": jsonObjectGbnf(),
  "non-ASCII classes": String.raw`root ::= ( [à-ÿ]+ | [^a-zA-Z\x00-\x7f]{1,3} | "€" | "😀"+ ) ( " " root )? "."`,
  "words and digits": String.raw`root ::= ( [a-z]{2,6} | [0-9]+ ("," [0-9]{3})* ) ( " " ( [a-z]{2,6} | [0-9]+ ) ){0,8} "!"`,
};

/** The native calls node-llama-cpp makes for its own grammar sampling (not part of its typed API). */
interface GrammarBindings {
  AddonSampler: {
    canBeNextTokenForGrammarEvaluationState(state: unknown, token: number): boolean;
    acceptGrammarEvaluationStateToken(state: unknown, token: number): void;
  };
}

/** True when the bytes are well-formed UTF-8, allowing an unfinished last character (RFC 3629's table). */
function wellFormedPrefix(bytes: readonly number[]): boolean {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number;
    if (b < 0x80) { i++; continue; }
    const [n, lo, hi] = b >= 0xc2 && b <= 0xdf ? [1, 0x80, 0xbf] : b === 0xe0 ? [2, 0xa0, 0xbf] : b === 0xed ? [2, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef ? [2, 0x80, 0xbf] : b === 0xf0 ? [3, 0x90, 0xbf] : b >= 0xf1 && b <= 0xf3 ? [3, 0x80, 0xbf]
        : b === 0xf4 ? [3, 0x80, 0x8f] : [0, 0, 0];
    if (n === 0) return false;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined) return true; // unfinished last character
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return false;
    }
    i += n + 1;
  }
  return true;
}

/** Walks every grammar; returns how many llama.cpp-only tokens were excused as ill-formed UTF-8. */
async function compare(label: string, ref: LlamaModel, tokenizer: Tokenizer, steps: number, walks: number): Promise<number> {
  const llama = await referenceLlama();
  const bindings = (llama as unknown as { _bindings: GrammarBindings })._bindings;
  const table = tokenTableFor(tokenizer);
  const compared: number[] = [];
  for (let id = 0; id < table.size; id++) if (table.cls[id] !== TokenClass.never) compared.push(id);
  const mask = new Uint8Array(table.size);
  const rng = createRng(11);
  let excused = 0;
  for (const [name, gbnf] of Object.entries(GRAMMARS)) {
    const refGrammar = await llama.createGrammar({ grammar: gbnf });
    for (let walk = 0; walk < walks; walk++) {
      const state = (new LlamaGrammarEvaluationState({ model: ref, grammar: refGrammar }) as unknown as { _state: unknown })._state;
      const stage = grammarStage(compileGbnf(gbnf), table);
      let pending: number[] = []; // bytes of an unfinished character so far
      for (let step = 0; step < steps; step++) {
        stage.computeMask(mask);
        const allowed: number[] = [];
        for (const id of compared) {
          const theirs = bindings.AddonSampler.canBeNextTokenForGrammarEvaluationState(state, id), ours = mask[id] === 1;
          if (theirs && !ours && !wellFormedPrefix([...pending, ...tokenizer.tokenBytes(id)])) { excused++; continue; }
          if (theirs !== ours) {
            assert.fail(`${label}, ${name}, walk ${walk} step ${step}: token ${id} ${JSON.stringify(tokenizer.piece(id))}: llama.cpp ${theirs}, Peel ${ours}`);
          }
          if (ours) allowed.push(id);
        }
        if (allowed.length === 0) { assert.ok(stage.matcher.isComplete(), `${name}: nothing allowed, so the grammar is complete`); break; }
        const split = allowed.filter((i) => table.tailRemain[i] !== 0 || table.cls[i] === TokenClass.continuation);
        const from = split.length > 0 && rng.next() < 0.3 ? split : allowed;
        const id = from[Math.floor(rng.next() * from.length)] as number;
        bindings.AddonSampler.acceptGrammarEvaluationStateToken(state, id);
        stage.accept(id);
        pending = stage.matcher.partial.remain > 0 ? [...pending, ...tokenizer.tokenBytes(id)] : [];
        if (stage.matcher.partial.remain > 0 && table.tailRemain[id] !== 0) pending = tailBytes(tokenizer.tokenBytes(id), pending);
      }
    }
  }
  return excused;
}

/** The bytes of the unfinished character at the end of `bytes` (a token that ends mid-character). */
function tailBytes(bytes: Uint8Array, fallback: number[]): number[] {
  for (let i = bytes.length - 1; i >= 0; i--) if (((bytes[i] as number) & 0xc0) !== 0x80) return [...bytes.subarray(i)];
  return fallback;
}

test("the same tokens allowed as llama.cpp's grammar engine: shipped model's vocabulary", async (t) => {
  const llama = await referenceLlama();
  const ref = await llama.loadModel({ modelPath: SHIPPED, vocabOnly: true });
  const peel = await loadModel(SHIPPED);
  t.diagnostic(`${await compare("shipped", ref, peel.tokenizer, 40, 6)} ill-formed UTF-8 tokens only llama.cpp allowed (excused)`);
});

test("the same tokens allowed as llama.cpp's grammar engine: llama-spm vocabulary (32000, byte tokens)", async (t) => {
  const vocab = await llamaCppVocab("llama-spm");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-llama-spm.gguf"); return; }
  const llama = await referenceLlama();
  const ref = await llama.loadModel({ modelPath: `${LLAMA_CPP_VOCAB_DIR}ggml-vocab-llama-spm.gguf`, vocabOnly: true });
  t.diagnostic(`${await compare("llama-spm", ref, tokenizerFromGguf(new Map(vocab.metadata)), 16, 2)} ill-formed UTF-8 tokens only llama.cpp allowed (excused)`);
});
