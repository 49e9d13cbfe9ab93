/**
 * `peel embed` spawned as a user runs it, on a random BERT model (bert-bge vocabulary from ../shared): vectors
 * per text equal the library's embed(), --similarity prints a symmetric matrix with ones on the diagonal,
 * `peel rerank` ranks documents most relevant first with scores in 0..1 and needs --query,
 * lines on stdin are texts, `peel info` calls the model an encoder, and a decoder model is refused with a
 * message naming what is needed (exit 69).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { llamaCppVocab } from "./fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "./fixtures/random-bert.js";
import { loadModel } from "../src/model/load.node.js";
import { embed } from "../src/embed/embed.js";
import { peelArgv } from "./fixtures/peel-cli.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "peel-cli-embed-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function peel(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [...peelArgv(), ...args], { encoding: "utf8", input: input ?? "", cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("peel embed: vectors, --similarity, stdin lines, info, and a decoder refused", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  const path = join(dir, "bert.gguf");
  writeRandomBertGguf(path, { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, contextLength: 128, weightType: "F32", seed: 5, pooling: 1, vocab });
  const texts = ["A dog runs in the park.", "A cat sleeps."];
  const json = peel(["embed", "--model", path, "--json", "--backend", "ts", ...texts]);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { dim: number; embeddings: Array<{ text: string; embedding: number[] }> };
  const model = await loadModel(path, { backend: "ts" });
  const want = embed(model, texts);
  await model.dispose();
  assert.equal(out.dim, 64);
  out.embeddings.forEach((e, i) => assert.deepEqual(e.embedding, [...want[i]!], `text ${i}`));
  const sim = peel(["embed", "--model", path, "--similarity", "--json", "--backend", "ts"], "one line\nanother line\n\nthird\n");
  assert.equal(sim.code, 0, sim.stderr);
  const m = (JSON.parse(sim.stdout) as { texts: string[]; similarity: number[][] });
  assert.deepEqual(m.texts, ["one line", "another line", "third"]);
  m.similarity.forEach((row, i) => row.forEach((v, j) => {
    assert.ok(Math.abs(v - (m.similarity[j]![i] as number)) < 1e-12, "symmetric");
    if (i === j) assert.ok(Math.abs(v - 1) < 1e-6, "unit diagonal");
  }));
  const info = peel(["info", "--model", path]);
  assert.match(info.stdout, /kind\s+encoder \(bidirectional attention; mean pooling/);
  const reranker = join(dir, "reranker.gguf");
  writeRandomBertGguf(reranker, { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4, contextLength: 128, weightType: "F32", seed: 6, pooling: undefined, vocab, reranker: true });
  const ranked = peel(["rerank", "--model", reranker, "--query", "capital of France", "--json", "--backend", "ts", "Paris is in France", "Bananas", "Berlin"]);
  assert.equal(ranked.code, 0, ranked.stderr);
  const results = (JSON.parse(ranked.stdout) as { results: Array<{ index: number; score: number }> }).results;
  assert.deepEqual(results.map((r) => r.index).sort(), [0, 1, 2]);
  results.forEach((r, i) => { assert.ok(r.score > 0 && r.score < 1); if (i > 0) assert.ok(r.score <= results[i - 1]!.score, "most relevant first"); });
  const noQuery = peel(["rerank", "--model", reranker, "doc"]);
  assert.equal(noQuery.code, 2);
  assert.match(noQuery.stderr, /--query is required/);
  const decoder = peel(["embed", "--model", join(ROOT, "models/peel-tinystories-1m.gguf"), "hello"]);
  assert.equal(decoder.code, 69);
  assert.match(decoder.stderr, /is a decoder; embeddings need an encoder model/);
});
