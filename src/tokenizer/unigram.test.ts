import assert from "node:assert/strict";
import { test } from "node:test";
import { PeelError } from "../util/errors.js";
import { createUnigramModel, UNK_PENALTY } from "./unigram.js";

const encode = (m: ReturnType<typeof createUnigramModel>, text: string): number[] => {
  const out: number[] = [];
  m.encodeWord(text, out);
  return out;
};

test("the hand example: highest total score wins, unknown characters fuse into one <unk>", () => {
  // The example from HF tokenizers' Unigram docs: "abcdacdxx" -> abcd | a | cd | xx (xx unknown).
  const pieces = ["<unk>", "a", "b", "c", "d", "cd", "ab", "abc", "abcd"];
  const scores = [0, 0, 0, 0, 0, 1, 2, 5, 10];
  const m = createUnigramModel({ pieces, scores, unkId: 0 });
  assert.deepEqual(encode(m, "abcdacdxx"), [8, 1, 5, 0]);
  assert.deepEqual(encode(m, ""), []);
});

test("ties keep the first candidate: the path whose last piece starts earliest", () => {
  const pieces = ["<unk>", "a", "b", "ab"];
  // "ab" alone scores -2, "a"+"b" scores -2 as well: the longer last piece (found first) wins.
  const m = createUnigramModel({ pieces, scores: [0, -1, -1, -2], unkId: 0 });
  assert.deepEqual(encode(m, "ab"), [3]);
});

test("byte fallback spells unknown characters as <0xXX> pieces, ends share the character's end", () => {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const pieces = ["<unk>", ...bytes, "▁", "h", "i", "hi"];
  const scores = [0, ...bytes.map(() => 0), -1, -2, -2, -1];
  const m = createUnigramModel({ pieces, scores, unkId: 0, byteFallback: true });
  const out: number[] = [];
  const ends: number[] = [];
  m.encodeWord("▁hié😀", out, ends);
  const byteId = (b: number): number => 1 + b;
  assert.deepEqual(out, [257, 260, byteId(0xc3), byteId(0xa9), byteId(0xf0), byteId(0x9f), byteId(0x98), byteId(0x80)]);
  assert.deepEqual(ends, [1, 3, 4, 4, 6, 6, 6, 6]);
  // Without byte pieces the run of unknowns is one <unk>.
  const plain = createUnigramModel({ pieces: ["<unk>", "▁", "h", "i", "hi"], scores: [0, -1, -2, -2, -1], unkId: 0, byteFallback: true });
  assert.deepEqual(encode(plain, "▁hié😀h"), [1, 4, 0, 2]);
});

test("unmatchable ids are never matched; the unknown penalty is 10 below the lowest score", () => {
  const pieces = ["<unk>", "<s>", "x", "y"];
  const m = createUnigramModel({ pieces, scores: [0, 0, -3, -4], unkId: 0, unmatchable: [0, 1] });
  assert.deepEqual(encode(m, "<s>x"), [0, 2]);
  assert.equal(UNK_PENALTY, 10);
  // "z" is unknown (score -4 - 10 = -14) and cannot beat any known piece.
  assert.deepEqual(encode(m, "zyz"), [0, 3, 0]);
});

test("bad specs and uncovered text without <unk> are typed errors", () => {
  assert.throws(() => createUnigramModel({ pieces: ["a"], scores: [0, 1], unkId: undefined }), PeelError);
  assert.throws(() => createUnigramModel({ pieces: ["a"], scores: [0], unkId: 3 }), PeelError);
  const m = createUnigramModel({ pieces: ["a"], scores: [0], unkId: undefined });
  assert.throws(() => encode(m, "ab"), (e: unknown) => e instanceof PeelError && e.code === "TOKENIZER");
});

/** Seeded xorshift. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

/** The best total score over all segmentations (exhaustive, exponential: short strings only). */
function bruteForceBest(text: string, idOf: Map<string, number>, scores: number[], unkScore: number): number {
  const chars = Array.from(text);
  let best = -Infinity;
  const walk = (i: number, total: number): void => {
    if (i === chars.length) { best = Math.max(best, total); return; }
    let s = "";
    let single = false;
    for (let j = i; j < chars.length; j++) {
      s += chars[j];
      const id = idOf.get(s);
      if (id === undefined) continue;
      if (j === i) single = true;
      walk(j + 1, total + (scores[id] ?? 0));
    }
    if (!single) walk(i + 1, total + unkScore);
  };
  walk(0, 0);
  return best;
}

test("Viterbi finds the brute-force optimum on 2000 random short strings and vocabularies", () => {
  const rand = rng(7);
  const alphabet = ["a", "b", "c", "▁", "é", "😀"];
  for (let trial = 0; trial < 2000; trial++) {
    const pieces = ["<unk>"];
    const seen = new Set(pieces);
    const nPieces = 3 + Math.floor(rand() * 12);
    while (pieces.length < nPieces) {
      let p = "";
      const len = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < len; k++) p += alphabet[Math.floor(rand() * alphabet.length)];
      if (!seen.has(p)) { seen.add(p); pieces.push(p); }
    }
    const scores = pieces.map((_, i) => (i === 0 ? 0 : -Math.round(rand() * 80) / 8));
    const m = createUnigramModel({ pieces, scores, unkId: 0, unmatchable: [0] });
    let text = "";
    const len = 1 + Math.floor(rand() * 9);
    for (let k = 0; k < len; k++) text += alphabet[Math.floor(rand() * alphabet.length)];
    const ids: number[] = [];
    const ends: number[] = [];
    m.encodeWord(text, ids, ends);
    // Re-score Peel's path (a fused unknown run counts one penalty per character).
    const minScore = Math.min(...scores);
    let total = 0;
    let at = 0;
    ids.forEach((id, k) => {
      const end = ends[k] ?? 0;
      total += id === 0 ? (minScore - UNK_PENALTY) * Array.from(text.slice(at, end)).length : (scores[id] ?? 0);
      at = end;
    });
    assert.equal(at, text.length, "the path covers the text");
    const idOf = new Map(pieces.slice(1).map((p, i) => [p, i + 1]));
    assert.equal(total, bruteForceBest(text, idOf, scores, minScore - UNK_PENALTY), `${JSON.stringify(text)} with ${JSON.stringify(pieces)}`);
  }
});

test("time is linear in the input: 10x the text takes well under 30x the time", () => {
  const rand = rng(3);
  const letters = "abcdefgh▁";
  const pieces = ["<unk>"];
  for (let i = 0; i < 3000; i++) {
    let p = "";
    for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) p += letters[Math.floor(rand() * letters.length)];
    if (!pieces.includes(p)) pieces.push(p);
  }
  const m = createUnigramModel({ pieces, scores: pieces.map(() => -rand() * 10), unkId: 0 });
  let small = "";
  for (let i = 0; i < 100_000; i++) small += letters[Math.floor(rand() * letters.length)] ?? "";
  const big = small.repeat(10);
  const time = (text: string): number => {
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      m.encodeWord(text, []);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  time(small);
  const ratio = time(big) / Math.max(time(small), 0.5);
  assert.ok(ratio < 30, `1 MB took ${ratio.toFixed(1)}x the time of 100 kB`);
});
