/**
 * Parity with tiktoken (the npm package `tiktoken`, OpenAI's Rust core built to WASM) for cl100k_base and
 * o200k_base: on every line of test/fixtures/corpus.ts (about 1.1 MB: prose, code, emoji, CJK, RTL,
 * combining marks, whitespace and digit runs) Peel's ids equal tiktoken's, both with special tokens parsed
 * (tiktoken `encode(text, "all")`) and with their text taken as ordinary text (`encode_ordinary`), and
 * decode(encode(x)) == x. The rank files are made from the package's own data (fixtures/tiktoken-ranks.ts)
 * and loaded through Peel's `.tiktoken` loader, with Peel's built-in patterns and, separately, with the
 * package's pattern text translated by `patternFromTiktoken`.
 *
 * Lone surrogates: tiktoken receives JS strings through wasm-bindgen's UTF-8 encoding, which turns each
 * unpaired surrogate into U+FFFD; Peel does the same, and the edge cases below check it against tiktoken.
 * Linear time: a 50 MB input must cost at most twice per MB what a 1 MB input costs, and one 1 MB word
 * (merged through the heap path) at most twice per MB what a 200 KB word costs.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { get_encoding, type Tiktoken } from "tiktoken";
import { loadTiktokenFile } from "../src/tokenizer/tiktoken/load.node.js";
import type { TiktokenTokenizer } from "../src/tokenizer/tiktoken/tokenizer.js";
import { corpusLines } from "./fixtures/corpus.js";
import { tiktokenFile, tiktokenPackageSpec } from "./fixtures/tiktoken-ranks.js";

const lines = corpusLines();
const NAMES = ["cl100k_base", "o200k_base"] as const;

const EDGES = [
  "", " ", "  ", "\n", "\r\n", "a\r\n\r\nb", "   x", "x   ", "\t\t\ty", "\u00a0\u00a0a", "\u0085a", "\ufeffa", "\u3000\u3000b",
  "I'm you're we'VE he'LL it'S 'ſ 'ſt 'K", "don't DON'T Don'T", "'s's's", "12345678901", "１２３４", "٣٤٥٦", "x²³ ½",
  "HelloWorld HELLOworld helloWORLD ǅemal ǅEMAL", "e\u0301\u0301 \u0301a", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "👩‍👩‍👧‍👦👍🏽", "中文字符串和标点。！", "עברית ومرحبا",
  "a/b//c\n//\n", "path/to/file.ts\n", "...!!!???   \n\n\n", "<|endoftext|>", "a<|endoftext|>b<|endoftext|>", "<|endoftext|", "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>",
  "<|endofprompt|> <|endoftext|><|endoftext|>", "\uD800", "a\uDC00b", "\uD83D", "x\uDE00\uD83D", "😀\uD83D😀",
];

function same(a: readonly number[], b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Mismatch { count: number; first: string[] }

function compare(peel: (s: string) => number[], ref: (s: string) => Uint32Array, inputs: readonly string[]): Mismatch {
  const m: Mismatch = { count: 0, first: [] };
  for (const s of inputs) {
    const a = peel(s);
    const b = ref(s);
    if (same(a, b)) continue;
    m.count++;
    if (m.first.length < 5) m.first.push(`${JSON.stringify(s).slice(0, 120)}: peel ${JSON.stringify(a.slice(0, 16))} tiktoken ${JSON.stringify(Array.from(b.slice(0, 16)))}`);
  }
  return m;
}

const toWellFormed = (s: string): string => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

for (const name of NAMES) {
  test(`tiktoken parity: ${name} on the corpus and edge cases`, async (t) => {
    const peel = await loadTiktokenFile(tiktokenFile(name), { encodingName: name });
    const ref: Tiktoken = get_encoding(name);
    try {
      const inputs = [...lines, ...EDGES];
      const ordinary = compare((s) => peel.encode(s), (s) => ref.encode_ordinary(s), inputs);
      const special = compare((s) => peel.encode(s, { parseSpecial: true }), (s) => ref.encode(s, "all"), inputs);
      t.diagnostic(`${name}: ${inputs.length - ordinary.count}/${inputs.length} lines equal as ordinary text, ${inputs.length - special.count}/${inputs.length} with special tokens`);
      assert.equal(ordinary.count, 0, ordinary.first.join("\n"));
      assert.equal(special.count, 0, special.first.join("\n"));
      // tiktoken refuses special-token text unless allowed; Peel's default treats it as text (encode_ordinary).
      assert.throws(() => ref.encode("<|endoftext|>"));
      assert.deepEqual(peel.encode("<|endoftext|>", { parseSpecial: true }), [peel.specialTokens.get("<|endoftext|>")]);
      let roundTrips = 0;
      for (const s of inputs) {
        if (peel.decode(peel.encode(s, { parseSpecial: true }), { skipSpecial: false }) === toWellFormed(s) && peel.decode(peel.encode(s)) === toWellFormed(s)) roundTrips++;
      }
      assert.equal(roundTrips, inputs.length, "decode(encode(x)) == x");
      let offsetsOk = 0;
      for (const s of lines) {
        const { ids, offsets } = peel.encodeWithOffsets(s, { parseSpecial: true });
        const whole = ids.every((id, i) => {
          const [a, b] = offsets[i] as [number, number];
          const text = peel.decode([id], { skipSpecial: false });
          return text.includes("\uFFFD") ? b > a : s.slice(a, b) === text;
        });
        if (whole && same(ids, Uint32Array.from(peel.encode(s, { parseSpecial: true })))) offsetsOk++;
      }
      assert.equal(offsetsOk, lines.length, "offsets cover each token's text");
      // Lone surrogates reach tiktoken as U+FFFD.
      for (const s of ["\uD800", "a\uDC00b", "x\uDE00\uD83D"]) assert.deepEqual(Array.from(ref.encode_ordinary(s)), peel.encode(toWellFormed(s)));
    } finally {
      ref.free();
    }
  });

  test(`tiktoken parity: ${name} with the package's own pattern text`, async () => {
    const spec = tiktokenPackageSpec(name);
    const peel = await loadTiktokenFile(tiktokenFile(name), { pattern: spec.patStr, specialTokens: spec.specialTokens });
    const ref = get_encoding(name);
    try {
      const m = compare((s) => peel.encode(s, { parseSpecial: true }), (s) => ref.encode(s, "all"), [...lines.slice(0, 4000), ...EDGES]);
      assert.equal(m.count, 0, m.first.join("\n"));
    } finally {
      ref.free();
    }
  });
}

test("tiktoken parity: r50k_base and p50k_base on part of the corpus", async () => {
  for (const name of ["r50k_base", "p50k_base"] as const) {
    const peel = await loadTiktokenFile(tiktokenFile(name), { encodingName: name });
    const ref = get_encoding(name);
    try {
      const m = compare((s) => peel.encode(s, { parseSpecial: true }), (s) => ref.encode(s, "all"), [...lines.slice(0, 3000), ...EDGES]);
      assert.equal(m.count, 0, `${name}\n${m.first.join("\n")}`);
    } finally {
      ref.free();
    }
  }
});

/** Milliseconds per MB of UTF-8, best of `runs`. */
function msPerMb(tok: TiktokenTokenizer, text: string, runs: number): number {
  const mb = Buffer.byteLength(text, "utf8") / 1e6;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    tok.encode(text);
    best = Math.min(best, performance.now() - t0);
  }
  return best / mb;
}

test("tiktoken: encoding time is linear in the input (50 MB vs 1 MB; one long word)", async (t) => {
  const tok = await loadTiktokenFile(tiktokenFile("cl100k_base"), { encodingName: "cl100k_base" });
  const one = lines.join("\n");
  const small = msPerMb(tok, one, 3);
  const big = msPerMb(tok, Array.from({ length: 46 }, () => one).join("\n"), 1);
  t.diagnostic(`cl100k_base: ${small.toFixed(1)} ms/MB at 1.1 MB, ${big.toFixed(1)} ms/MB at 50 MB`);
  // quadratic cost would make the 50 MB run ~45× dearer per MB; 3× leaves room for a busy 2-core CI machine
  assert.ok(big <= 3 * small, `50 MB costs ${big.toFixed(1)} ms/MB, 1 MB ${small.toFixed(1)} ms/MB`);
  const word = (n: number): string => "ab".repeat(n / 2); // one \p{L}+ piece, merged on the heap path
  const shortWord = msPerMb(tok, word(200_000), 3);
  const longWord = msPerMb(tok, word(1_000_000), 3);
  t.diagnostic(`one word: ${shortWord.toFixed(1)} ms/MB at 200 KB, ${longWord.toFixed(1)} ms/MB at 1 MB`);
  // quadratic would be 5× per MB here
  assert.ok(longWord <= 2.5 * shortWord, `a 1 MB word costs ${longWord.toFixed(1)} ms/MB, a 200 KB word ${shortWord.toFixed(1)} ms/MB`);
});
