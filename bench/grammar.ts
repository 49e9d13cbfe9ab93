/**
 * `npx tsx bench/grammar.ts [MODEL.gguf ...]`: what grammar-constrained sampling costs per token. For the
 * shipped model's vocabulary, each given model's, and llama.cpp's vocab-only files in ../shared (llama-spm
 * 32k, gpt-2 50k, deepseek-llm 100k) it builds the token table once, then walks a schema-valid JSON document
 * token by token and times, per step: the check of one token (the sampler's fast path, when the chain's pick
 * is allowed), the whole-vocabulary mask (the slow path, when it is refused), and the accept. Not a test.
 */

import { fileURLToPath } from "node:url";
import { jsonSchemaToGrammar, loadModel, tokenizerFromGguf, type Tokenizer } from "../src/index.node.js";
import { grammarStage } from "../src/sample/grammar/grammar-stage.js";
import { buildTokenTable, TokenClass, type TokenTable } from "../src/sample/grammar/token-table.js";
import { llamaCppVocab } from "../test/fixtures/llama-cpp-vocab.js";
import { SCHEMA } from "../test/fixtures/json-schema-person.js";

const DOC = JSON.stringify({
  name: "Lily Brown", age: 7, mood: "happy", score: -12.5e3,
  pet: { kind: "dog", legs: 4, toys: ["ball", "stick", "rope"] },
  friends: [{ name: "Tom", best: true }, { name: "Ann Zoë" }], nickname: "Lil 😀",
}, null, 0).replaceAll(",", ", ").replaceAll(":", ": ");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The document as tokens, longest piece first by bytes (not the tokenizer's own split, which may add a space prefix). */
function spell(doc: string, tokenizer: Tokenizer, table: TokenTable): number[] {
  const bytes = new TextEncoder().encode(doc);
  const pieces = Array.from({ length: table.size }, (_, id) => (table.cls[id] === TokenClass.never ? new Uint8Array(0) : tokenizer.tokenBytes(id)));
  const ids: number[] = [];
  for (let at = 0; at < bytes.length;) {
    let best = -1, bestLen = 0;
    pieces.forEach((p, id) => {
      if (p.length <= bestLen || at + p.length > bytes.length) return;
      for (let k = 0; k < p.length; k++) if (p[k] !== bytes[at + k]) return;
      best = id; bestLen = p.length;
    });
    if (best < 0) throw new Error(`no token spells the bytes at ${at}`);
    ids.push(best);
    at += bestLen;
  }
  return ids;
}

function run(label: string, tokenizer: Tokenizer): void {
  let t0 = performance.now();
  const table = buildTokenTable(tokenizer);
  const buildMs = performance.now() - t0;
  const grammar = jsonSchemaToGrammar(SCHEMA);
  const ids = spell(DOC, tokenizer, table);
  const mask = new Uint8Array(table.size);
  const check: number[] = [], full: number[] = [], accept: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const stage = grammarStage(grammar, table);
    for (const id of ids) {
      t0 = performance.now();
      const ok = stage.allows(id);
      check.push(performance.now() - t0);
      if (!ok) throw new Error(`${label}: the document's token ${id} ${JSON.stringify(tokenizer.piece(id))} is refused`);
      t0 = performance.now();
      stage.computeMask(mask);
      full.push(performance.now() - t0);
      t0 = performance.now();
      stage.accept(id);
      accept.push(performance.now() - t0);
    }
  }
  const us = (x: number) => `${(x * 1000).toFixed(1)} µs`;
  console.log(`${label}: vocab ${table.size}, trie ${table.trie.nodes} nodes, table built in ${buildMs.toFixed(0)} ms; ${ids.length} tokens × 3`);
  console.log(`  check one token  median ${us(median(check))}  mean ${us(mean(check))}`);
  console.log(`  full mask        median ${(median(full)).toFixed(2)} ms  mean ${mean(full).toFixed(2)} ms  max ${Math.max(...full).toFixed(2)} ms`);
  console.log(`  accept           median ${us(median(accept))}  mean ${us(mean(accept))}`);
}

const shipped = fileURLToPath(new URL("../models/peel-tinystories-1m.gguf", import.meta.url));
for (const path of [shipped, ...process.argv.slice(2)]) run(path.split("/").pop() ?? path, (await loadModel(path)).tokenizer);
for (const name of ["llama-spm", "gpt-2", "deepseek-llm"]) {
  const vocab = await llamaCppVocab(name);
  if (vocab === undefined) { console.log(`${name}: ../shared absent, skipped`); continue; }
  run(`ggml-vocab-${name}`, tokenizerFromGguf(new Map(vocab.metadata)));
}
