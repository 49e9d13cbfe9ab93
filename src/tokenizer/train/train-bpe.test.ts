import assert from "node:assert/strict";
import { test } from "node:test";
import { PeelError } from "../../util/errors.js";
import { hfTokenizerJson, writeHfTokenizerJson } from "./hf-json.js";
import { learnMerges } from "./merge.js";
import { createPairHeap } from "./pair-heap.js";
import { minVocabSize, trainBpe } from "./train-bpe.js";
import type { WordTable } from "./words.js";

test("the Wikipedia example: aaabdaaabac learns aa, ab, aaab (ties go to the smaller left id)", async () => {
  const t = await trainBpe({ texts: ["aaabdaaabac"], vocabSize: 300, specialTokens: [] });
  assert.deepEqual(t.merges, [["a", "a"], ["a", "b"], ["aa", "ab"]]);
  assert.deepEqual(t.vocab.slice(256), ["aa", "ab", "aaab"]);
  assert.equal(t.vocab[0x20], "Ġ", "bytes are written with GPT-2's printable map, in byte order");
});

test("the pair heap pops by count, then smaller left id, then smaller right id", () => {
  const h = createPairHeap(2);
  for (const [c, l, r] of [[3, 5, 1], [7, 9, 9], [7, 2, 8], [3, 5, 0], [7, 2, 3], [1, 0, 0]]) h.push(c ?? 0, l ?? 0, r ?? 0);
  const got: number[][] = [];
  const top: [number, number, number] = [0, 0, 0];
  while (h.pop(top)) got.push([...top]);
  assert.deepEqual(got, [[7, 2, 3], [7, 2, 8], [7, 9, 9], [3, 5, 0], [3, 5, 1], [1, 0, 0]]);
});

/** Textbook BPE: recount every pair before each merge. */
function naiveMerges(table: WordTable, target: number, minFrequency: number): { symbols: string[]; merges: string[] } {
  const words = table.words.map((w) => [...w]);
  const symbols = [...table.alphabet];
  const idOf = new Map(symbols.map((s, i) => [s, i]));
  const merges: string[] = [];
  while (symbols.length < target) {
    const counts = new Map<string, number>();
    words.forEach((w, wi) => {
      for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]},${w[i + 1]}`, (counts.get(`${w[i]},${w[i + 1]}`) ?? 0) + (table.counts[wi] ?? 0));
    });
    let best: [number, number, number] | undefined;
    for (const [k, c] of counts) {
      const [l, r] = k.split(",").map(Number) as [number, number];
      if (best === undefined || c > best[0] || (c === best[0] && (l < best[1] || (l === best[1] && r < best[2])))) best = [c, l, r];
    }
    if (best === undefined || best[0] < minFrequency) break;
    const [, l, r] = best;
    const text = (symbols[l] ?? "") + (symbols[r] ?? "");
    let made = idOf.get(text);
    if (made === undefined) { made = symbols.length; symbols.push(text); idOf.set(text, made); }
    if (!merges.includes(`${l},${r}`)) merges.push(`${l},${r}`);
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) if (w[i] === l && w[i + 1] === r) w.splice(i, 2, made);
    }
  }
  return { symbols, merges };
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 0x100000000; };
}

test("incremental pair counts learn exactly what recounting every merge learns (300 random tables)", async () => {
  const rand = rng(11);
  for (let trial = 0; trial < 300; trial++) {
    const alphabet = ["a", "b", "c", "ab", "d"].slice(0, 2 + Math.floor(rand() * 4));
    const words: Int32Array[] = [];
    const counts: number[] = [];
    for (let w = 0; w < 1 + Math.floor(rand() * 12); w++) {
      words.push(Int32Array.from({ length: 1 + Math.floor(rand() * 10) }, () => Math.floor(rand() * alphabet.length)));
      counts.push(1 + Math.floor(rand() * 5));
    }
    const table: WordTable = { alphabet, words, counts: Float64Array.from(counts) };
    const copy: WordTable = { alphabet, words: words.map((w) => w.slice()), counts: table.counts };
    const target = alphabet.length + Math.floor(rand() * 15);
    const minFrequency = 1 + Math.floor(rand() * 2);
    const want = naiveMerges(copy, target, minFrequency);
    const got = await learnMerges(table, { targetSymbols: target, minFrequency });
    assert.deepEqual(got.symbols, want.symbols, `trial ${trial}`);
    assert.deepEqual(got.merges.map(([l, r]) => `${l},${r}`), want.merges, `trial ${trial}`);
  }
});

test("special tokens are never re-made by merges and come first; sentencepiece layout", async () => {
  const text = "<|endoftext|> hello <|endoftext|> hello <|endoftext|>\n".repeat(20);
  const t = await trainBpe({ texts: [text], vocabSize: 330 });
  assert.equal(t.vocab[0], "<|endoftext|>");
  assert.equal(t.vocab.filter((v) => v === "<|endoftext|>").length, 1);
  const s = await trainBpe({ texts: ["héllo wörld\nhello world\n".repeat(30)], vocabSize: 300, kind: "sentencepiece" });
  assert.deepEqual(s.vocab.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
  assert.equal(s.vocab[3 + 255], "<0xFF>");
  assert.equal(s.vocab[259], "l", "the most frequent character leads the alphabet");
  assert.ok(s.vocab.includes("▁hello"));
  const json = hfTokenizerJson(s);
  assert.equal((json["model"] as { unk_token: string }).unk_token, "<unk>");
  assert.equal(JSON.parse(writeHfTokenizerJson(s)).model.vocab["▁hello"], s.vocab.indexOf("▁hello"));
});

test("texts that loaders promote to control tokens (<|end|>, <|im_end|>, <eos>) are never learned as pieces", async () => {
  const text = "hello<|end|>world<|im_end|>again<eos>\n".repeat(40);
  for (const kind of ["sentencepiece", "byte-level"] as const) {
    const t = await trainBpe({ texts: [text], vocabSize: 700, kind, minFrequency: 1 });
    for (const control of ["<|end|>", "<|im_end|>", "<eos>"]) assert.ok(!t.vocab.includes(control), `${kind}: ${control} was learned`);
    const learned = t.vocab.slice(t.specialTokens.length);
    assert.ok(learned.some((v) => v.includes(kind === "sentencepiece" ? "<|end" : "<|")), `${kind}: parts of it are still learned`);
  }
});

test("vocabulary size, kind and special-token mistakes are INVALID_ARGUMENT errors", async () => {
  assert.equal(minVocabSize("byte-level"), 258);
  assert.equal(minVocabSize("sentencepiece"), 260);
  const bad = async (p: Promise<unknown>, re: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && re.test(e.message));
  };
  await bad(trainBpe({ texts: ["x"], vocabSize: 257 }), /from 258 .* to 1000000, got 257/);
  await bad(trainBpe({ texts: ["x"], vocabSize: 300.5 }), /must be an integer/);
  await bad(trainBpe({ texts: ["x"], vocabSize: 300, kind: "wordpiece" as "byte-level" }), /unknown kind "wordpiece"/);
  await bad(trainBpe({ texts: ["x"], vocabSize: 300, specialTokens: ["a"] }), /special token "a" is also a base symbol/);
  await bad(trainBpe({ texts: ["x"], vocabSize: 300, specialTokens: [""] }), /cannot be empty/);
});

test("training stops early when pairs run out, and can be aborted", async () => {
  const t = await trainBpe({ texts: ["ab ab ab"], vocabSize: 1000 });
  assert.ok(t.vocab.length < 1000);
  assert.equal(t.requestedSize, 1000);
  const controller = new AbortController();
  controller.abort();
  const big = "the quick brown fox jumps over the lazy dog 0123456789\n".repeat(20000);
  await assert.rejects(trainBpe({ texts: [big], vocabSize: 5000, signal: controller.signal, minFrequency: 1 }),
    (e: unknown) => e instanceof PeelError && e.code === "ABORTED");
});
