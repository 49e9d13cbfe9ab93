// The embedding space on a small random model: rows and word means equal the file's F32 table, neighbours
// are the hand cosine ranking, analogies leave their inputs out, projections run; bad queries are
// PeelErrors. On the shipped TinyStories model it prints which familiar analogies hold (top-1 or within the
// top 5) and which do not, asserting only that the feature runs and leaves the inputs out.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { bytesSource } from "../formats/byte-source.js";
import { loadModelFromSource } from "../model/load.js";
import { PeelError } from "../util/errors.js";
import { f32Of, randomModel } from "../../test/fixtures/random-model.js";
import { createEmbeddingSpace } from "./embeddings.js";

const { model, tensors } = await randomModel();
const { dim, vocabSize } = model.config;
const table = f32Of(tensors, "token_embd.weight"); // (vocabSize, dim)
const row = (id: number) => table.subarray(id * dim, (id + 1) * dim);
const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < dim; i++) { ab += (a[i] as number) * (b[i] as number); aa += (a[i] as number) ** 2; bb += (b[i] as number) ** 2; }
  return ab / Math.sqrt(aa * bb);
};
/** Ids by descending cosine to v, excluding some. */
const handRanking = (v: ArrayLike<number>, exclude: readonly number[] = []) =>
  [...Array(vocabSize).keys()].filter((i) => !exclude.includes(i)).sort((a, b) => cos(v, row(b)) - cos(v, row(a)));

const space = createEmbeddingSpace(model);

test("vectors: a token's row, and a multi-token word's mean row", () => {
  assert.deepEqual([...space.vector(42)], [...row(42)]);
  const toks = space.tokensOf("hello");
  assert.ok(toks.length > 1, "several tokens");
  const mean = new Float32Array(dim);
  for (const t of toks) for (let i = 0; i < dim; i++) mean[i] = mean[i]! + row(t)[i]! / toks.length;
  const v = space.vector("hello");
  for (let i = 0; i < dim; i++) assert.ok(Math.abs(v[i]! - mean[i]!) < 1e-6);
});

test("neighbours are the hand cosine ranking (a token is its own nearest)", () => {
  const n = space.neighbours(42, { k: 5 });
  assert.deepEqual(n.map((x) => x.id), handRanking(row(42)).slice(0, 5));
  assert.equal(n[0]!.id, 42);
  assert.ok(Math.abs(n[0]!.similarity - 1) < 1e-6);
  for (const x of n) assert.ok(Math.abs(x.similarity - cos(row(42), row(x.id))) < 1e-5);
  const ex = space.neighbours(42, { k: 5, exclude: [42] });
  assert.deepEqual(ex.map((x) => x.id), handRanking(row(42), [42]).slice(0, 5));
});

test("analogy a − b + c: unit vectors combined, the inputs' tokens excluded", () => {
  const r = space.analogy(10, 20, 30, { k: 8 });
  assert.deepEqual(r.excluded, [10, 20, 30]);
  const unit = (v: Float32Array) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
  const [a, b, c] = [unit(row(10).slice()), unit(row(20).slice()), unit(row(30).slice())];
  const want = a.map((x, i) => x - b[i]! + c[i]!);
  assert.deepEqual(r.neighbours.map((x) => x.id), handRanking(want, [10, 20, 30]).slice(0, 8));
  const words = space.analogy("hello", "in", 42);
  for (const id of [...space.tokensOf("hello"), ...space.tokensOf("in"), 42]) {
    assert.ok(words.excluded.includes(id));
    assert.ok(!words.neighbours.some((x) => x.id === id), `input token ${id} returned`);
  }
});

test("project: a deterministic 2-D PCA of the queries", () => {
  const p = space.project([1, 2, 3, "hello"]);
  assert.equal(p.labels[3], "hello");
  assert.equal(p.pca.coords.length, 8);
  assert.deepEqual([...space.project([1, 2, 3, "hello"]).pca.coords], [...p.pca.coords]);
});

test("bad queries: unknown or empty word, id out of range, wrong vector size, k 0", () => {
  const is = (words: string) => (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(words);
  assert.throws(() => space.vector(""), is("empty"));
  assert.throws(() => space.vector("  "), is("empty"));
  assert.throws(() => space.neighbours(vocabSize), is(`token id ${vocabSize}`));
  assert.throws(() => space.neighbours(new Float32Array(3)), is("32 values"));
  assert.throws(() => space.neighbours(1, { k: 0 }), is("k must be"));
  assert.throws(() => space.project([1]), is("at least 2"));
});

test("TinyStories: which analogies the shipped model's embeddings know (printed; asserts only that it runs)", async () => {
  const ts = await loadModelFromSource(bytesSource(readFileSync(new URL("../../models/peel-tinystories-1m.gguf", import.meta.url))), { backend: "ts" });
  const s = createEmbeddingSpace(ts);
  // a − b + c should be d
  const cases: Array<[string, string, string, string]> = [
    [" king", " man", " woman", " queen"],
    [" boy", " girl", " she", " he"],
    [" he", " she", " girl", " boy"],
    [" dad", " mom", " girl", " boy"],
    [" mom", " dad", " boy", " girl"],
    [" boy", " girl", " mom", " dad"],
    [" he", " she", " her", " his"],
    [" cat", " dog", " dogs", " cats"],
    [" happy", " sad", " bad", " good"],
  ];
  const lines: string[] = [];
  for (const [a, b, c, d] of cases) {
    const r = s.analogy(a, b, c, { k: 10 });
    for (const id of r.excluded) assert.ok(!r.neighbours.some((x) => x.id === id), "inputs excluded");
    const dToks = s.tokensOf(d);
    const rank = dToks.length === 1 ? r.neighbours.findIndex((x) => x.id === dToks[0]) : -1;
    const verdict = dToks.length > 1 ? `not comparable (${d} is ${dToks.length} tokens)` : rank === 0 ? "holds (top 1)" : rank > 0 && rank < 5 ? `nearly (rank ${rank + 1})` : rank >= 5 ? `weak (rank ${rank + 1})` : "does not hold";
    const top = r.neighbours.slice(0, 5).map((x) => `${JSON.stringify(x.text)} ${x.similarity.toFixed(2)}`).join(", ");
    lines.push(`${a} − ${b} + ${c} → ${d}: ${verdict}; nearest: ${top}`);
  }
  for (const w of [" girl", " cat", " happy"]) {
    lines.push(`neighbours of ${JSON.stringify(w)}: ${s.neighbours(w, { k: 6, exclude: s.tokensOf(w) }).map((x) => JSON.stringify(x.text)).join(", ")}`);
  }
  console.log(lines.join("\n"));
  await ts.dispose();
});
