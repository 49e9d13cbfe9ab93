// Structured output end to end: the shipped model (models/peel-tinystories-1m.gguf, a 1024-token byte-level
// BPE vocabulary; its text is random-ish) generates under a JSON Schema of nested objects, arrays, enums and
// numbers at temperature 1 with several seeds, and every result must JSON.parse and validate with ajv (an
// outside validator). Strings and arrays carry maxLength / maxItems so the tiny model cannot ramble past the
// token budget; numbers are bounded by the grammar itself (16 digits). Then, on real llama.cpp vocabularies
// (../shared: llama-spm 32k with byte tokens, gpt-2 50k byte-level), the trie mask must equal checking each
// token alone along random walks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { compileGbnf, generate, grammarForResponseFormat, jsonSchemaToGrammar, loadModel, tokenizerFromGguf } from "../src/index.node.js";
import { grammarStage } from "../src/sample/grammar/grammar-stage.js";
import { tokenTableFor } from "../src/sample/grammar/token-table.js";
import { createRng } from "../src/sample/rng.js";
import { llamaCppVocab } from "./fixtures/llama-cpp-vocab.js";
import { SCHEMA } from "./fixtures/json-schema-person.js";
import { peelArgv } from "./fixtures/peel-cli.js";

const MODEL = fileURLToPath(new URL("../models/peel-tinystories-1m.gguf", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

function peel(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...peelArgv(), ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}


test("the shipped model under a JSON schema: every result parses and validates (8 seeds, temperature 1)", async (t) => {
  const model = await loadModel(MODEL);
  const validate = new Ajv({ strict: true }).compile(SCHEMA);
  const grammar = jsonSchemaToGrammar(SCHEMA);
  const t0 = performance.now();
  let tokens = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const g = generate(model, "Once upon a time", { grammar, temperature: 1, seed, maxTokens: 600 });
    let text = "";
    for await (const t of g) text += t.text;
    tokens += g.tokens.length;
    assert.equal(g.finishReason, "stop", `seed ${seed}: the grammar completed (${g.tokens.length} tokens)`);
    const value: unknown = JSON.parse(text);
    assert.ok(validate(value), `seed ${seed}: ${text}\n${JSON.stringify(validate.errors)}`);
  }
  const ms = performance.now() - t0;
  t.diagnostic(`8 structured generations, ${tokens} tokens in ${ms.toFixed(0)} ms (${(ms / tokens).toFixed(2)} ms/token, model included)`);
});

test("a grammar that can take nothing more ends generation at once, end-of-generation token or not", async () => {
  const model = await loadModel(MODEL);
  for (let seed = 1; seed <= 4; seed++) {
    const g = generate(model, "Once upon a time", { grammar: compileGbnf(`root ::= ("yes" | "no") "."`), temperature: 1, seed, maxTokens: 50, stopAtEog: false });
    let text = "";
    for await (const t of g) text += t.text;
    assert.match(text, /^(yes|no)\.$/);
    assert.equal(g.finishReason, "stop");
  }
});

test("json_object mode on the shipped model gives a JSON object", async () => {
  const model = await loadModel(MODEL);
  const grammar = grammarForResponseFormat({ type: "json_object" });
  for (let seed = 1; seed <= 3; seed++) {
    const g = generate(model, "Once upon a time", { ...(grammar ? { grammar } : {}), temperature: 0.8, seed, maxTokens: 300 });
    let text = "";
    for await (const t of g) text += t.text;
    // unbounded strings and objects may run out of tokens; only a finished result must parse
    if (g.finishReason === "stop") {
      const v: unknown = JSON.parse(text);
      assert.ok(v !== null && typeof v === "object" && !Array.isArray(v), text);
    } else assert.ok(text.startsWith("{"), text);
  }
});

for (const name of ["llama-spm", "gpt-2"]) {
  test(`trie mask equals one-by-one checks on a real vocabulary (${name})`, async (t) => {
    const vocab = await llamaCppVocab(name);
    if (vocab === undefined) { t.skip("../shared absent: no llama.cpp vocabulary"); return; }
    const tokenizer = tokenizerFromGguf(new Map(vocab.metadata));
    const table = tokenTableFor(tokenizer);
    const grammar = jsonSchemaToGrammar(SCHEMA);
    const rng = createRng(3);
    const mask = new Uint8Array(table.size);
    let splits = 0;
    for (let walk = 0; walk < 2; walk++) {
      const stage = grammarStage(grammar, table);
      for (let step = 0; step < 12; step++) {
        stage.computeMask(mask);
        const allowed: number[] = [];
        for (let id = 0; id < table.size; id++) {
          if ((mask[id] === 1) !== stage.allows(id)) assert.fail(`step ${step}: token ${id} ${JSON.stringify(tokenizer.piece(id))} mask ${mask[id]} vs one-by-one`);
          if (mask[id] === 1) allowed.push(id);
        }
        assert.ok(allowed.length > 0);
        // lean towards tokens that split a character (byte tokens, partial pieces), which a uniform pick rarely meets
        const split = allowed.filter((i) => table.tailRemain[i] !== 0 || table.cls[i] === 1);
        const from = split.length > 0 && rng.next() < 0.5 ? split : allowed;
        const id = from[Math.floor(rng.next() * from.length)] as number;
        splits += table.tailRemain[id] !== 0 || table.cls[id] === 1 ? 1 : 0;
        if (tokenizer.isEndOfGeneration(id)) break;
        stage.accept(id);
      }
    }
    assert.ok(splits > 0, "the walks took some tokens that split a character");
    t.diagnostic(`${splits} character-splitting tokens taken`);
  });
}

test("peel generate --json-schema FILE and --grammar FILE; a bad schema is a one-line error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-grammar-"));
  const schemaPath = join(dir, "schema.json"), gbnfPath = join(dir, "answer.gbnf");
  writeFileSync(schemaPath, JSON.stringify(SCHEMA));
  writeFileSync(gbnfPath, 'root ::= ("yes" | "no") ", because " [a-z ]{1,30} "."\n');
  const a = await peel(["generate", "--model", MODEL, "--prompt", "Once upon a time", "--json-schema", schemaPath, "-t", "1", "-s", "5", "-n", "600"]);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(new Ajv().compile(SCHEMA)(JSON.parse(a.stdout)), a.stdout);
  const b = await peel(["generate", "--model", MODEL, "--prompt", "Is it?", "--grammar", gbnfPath, "-t", "1", "-s", "5", "-n", "100"]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^(yes|no), because [a-z ]{1,30}\.\n?$/);
  const c = await peel(["generate", "--model", MODEL, "--prompt", "x", "--json-schema", '{"type":"object","properties":{"a":{"type":"strin"}}}']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /JSON schema at #\/properties\/a\/type: unknown type "strin"/);
  const d = await peel(["generate", "--model", MODEL, "--prompt", "x", "--grammar", gbnfPath, "--json-schema", schemaPath]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--grammar and --json-schema cannot be used together/);
});
