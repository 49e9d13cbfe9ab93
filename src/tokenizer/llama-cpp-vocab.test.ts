/**
 * llama.cpp's own tokenizer test vectors (../shared/testdata/llama-cpp-vocab: vocab-only GGUF files with
 * .inp/.out pairs from Hugging Face tokenizers): every case of every runnable pair must give the same ids,
 * encoded with addSpecial false and parseSpecial false, as llama.cpp's test-tokenizer-0 does.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { bytesSource } from "../formats/byte-source.js";
import { readGgufHeader } from "../formats/gguf/read.js";
import { tokenizerFromGguf } from "./load-gguf.js";

const DIR = new URL("../../../shared/testdata/llama-cpp-vocab/", import.meta.url);
const SEPARATOR = "\n__ggml_vocab_test__\n";

function readCases(name: string): { inputs: string[]; expected: number[][] } {
  const inputs = readFileSync(new URL(`${name}.inp`, DIR), "utf8").split(SEPARATOR);
  inputs.pop(); // the file ends with a separator
  const lines = readFileSync(new URL(`${name}.out`, DIR), "utf8").split("\n");
  const expected = inputs.map((_, i) => {
    const line = (lines[i] ?? "").trim();
    return line === "" ? [] : line.split(" ").map(Number);
  });
  return { inputs, expected };
}

const present = existsSync(DIR);
const runnable = present
  ? readdirSync(DIR).filter((f) => f.endsWith(".gguf") && existsSync(new URL(`${f}.inp`, DIR)) && existsSync(new URL(`${f}.out`, DIR))).sort()
  : [];

test("llama.cpp vocab vectors", async (t) => {
  if (!present) {
    t.skip("../shared absent: ../shared/testdata/llama-cpp-vocab not found");
    return;
  }
  assert.ok(runnable.length >= 10, `expected the 10 runnable pairs, found ${runnable.length}`);
  for (const name of runnable) {
    await t.test(name, async () => {
      // a plain Uint8Array copy: a Node Buffer's slice() is a view, which the GGUF cursor does not expect
      const header = await readGgufHeader(bytesSource(new Uint8Array(readFileSync(new URL(name, DIR))), name));
      const tok = tokenizerFromGguf(header.metadata);
      const { inputs, expected } = readCases(name);
      assert.equal(inputs.length, 46);
      inputs.forEach((text, i) => {
        assert.deepEqual(tok.encode(text, { addSpecial: false, parseSpecial: false }), expected[i], `case ${i}: ${JSON.stringify(text)}`);
      });
    });
  }
});
