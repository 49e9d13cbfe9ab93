/**
 * `peel tokenizer train` in process (main() with captured streams): a small training run writes a
 * tokenizer.json that HF tokenizers loads; the usage and data errors each give one line and the right
 * exit status; an existing output is kept unless --force; a terminal stderr shows the merge bar.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Tokenizer as RustTokenizer } from "@anush008/tokenizers";
import type { CliIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { corpusLines } from "./fixtures/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "peel-cli-train-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, "data.txt");
writeFileSync(data, corpusLines(60_000).join("\n"));
const data2 = join(dir, "data2.txt");
writeFileSync(data2, "hello world, hello again\n".repeat(50));

async function run(argv: string[], tty = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => { stdout += s; } },
    stderr: { write: (s: string) => { stderr += s; }, isTTY: tty, columns: 80 },
    env: {}, cwd: dir,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

test("trains, saves a tokenizer.json HF loads, and reports on stdout; a TTY gets the merge bar", async () => {
  for (const kind of ["byte-level", "sentencepiece"]) {
    const out = `${kind}.json`;
    const r = await run(["tokenizer", "train", "--data", "data.txt", "data2.txt", "--vocab-size", "400", "--kind", kind, "--out", out], true);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^trained a ${kind} BPE: 400 tokens, \\d+ merges, from [\\d.]+ kB in [\\d.]+ s; saved ${out}\\n$`));
    assert.match(r.stderr, /training \[#*-*\] \d+\/\d+ merges/);
    assert.ok(r.stderr.endsWith("\r\x1b[K"), "the bar is erased");
    const hf = RustTokenizer.fromFile(join(dir, out));
    assert.equal(hf.getVocabSize(true), 400);
    const ids = (await hf.encode("hello world", null, { addSpecialTokens: false })).getIds();
    assert.equal(await hf.decode(ids, false), "hello world");
  }
});

test("an existing --out is kept without --force and replaced with it", async () => {
  const out = join(dir, "keep.json");
  writeFileSync(out, "precious");
  const r = await run(["tokenizer", "train", "--data", "data2.txt", "--vocab-size", "300", "--out", "keep.json"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /keep\.json already exists; pass --force to overwrite it/);
  assert.equal(readFileSync(out, "utf8"), "precious");
  const f = await run(["tokenizer", "train", "--data", "data2.txt", "--vocab-size", "300", "--out", "keep.json", "--force"]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /pairs seen 2\+ times ran out before 300/);
  assert.ok(readFileSync(out, "utf8").startsWith("{"));
});

test("bad invocations and bad data: one line each, the right exit status", async () => {
  writeFileSync(join(dir, "empty.txt"), "");
  writeFileSync(join(dir, "blank.txt"), " \n\n\t\n");
  writeFileSync(join(dir, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  const cases: Array<[string[], number, RegExp]> = [
    [["tokenizer"], 2, /missing subcommand/],
    [["tokenizer", "fit"], 2, /unknown subcommand "fit"; subcommands: train/],
    [["tokenizer", "train", "--vocab-size", "500", "--out", "o.json"], 2, /--data FILE is required/],
    [["tokenizer", "train", "--data", "data.txt", "--out", "o.json"], 2, /--vocab-size N is required \(258 to 1000000 for byte-level\)/],
    [["tokenizer", "train", "--data", "data.txt", "--vocab-size", "100", "--out", "o.json"], 2, /--vocab-size must be between 258 and 1000000, got 100/],
    [["tokenizer", "train", "--data", "data.txt", "--vocab-size", "259", "--kind", "sentencepiece", "--out", "o.json"], 2, /--vocab-size must be between 260 and 1000000, got 259/],
    [["tokenizer", "train", "--data", "data.txt", "--vocab-size", "2000000", "--out", "o.json"], 2, /between 258 and 1000000, got 2000000/],
    [["tokenizer", "train", "--data", "data.txt", "--vocab-size", "500", "--kind", "wordpiece", "--out", "o.json"], 2, /--kind must be one of byte-level, sentencepiece, got "wordpiece"/],
    [["tokenizer", "train", "--data", "data.txt", "--vocab-size", "500"], 2, /--out FILE is required/],
    [["tokenizer", "train", "--data", "nope.txt", "--vocab-size", "500", "--out", "o.json"], 66, /nope\.txt: cannot read the data file \(no such file\)/],
    [["tokenizer", "train", "--data", "empty.txt", "--vocab-size", "500", "--out", "o.json"], 65, /empty\.txt: the data file is empty/],
    [["tokenizer", "train", "--data", "blank.txt", "--vocab-size", "500", "--out", "o.json"], 65, /blank\.txt: the data file holds only whitespace/],
    [["tokenizer", "train", "--data", "latin1.txt", "--vocab-size", "500", "--out", "o.json"], 65, /latin1\.txt: not UTF-8 text \(invalid byte 0xe9 at offset 3\)/],
    [["tokenizer", "train", "--data", ".", "--vocab-size", "500", "--out", "o.json"], 66, /is a directory/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await run(argv);
    assert.equal(r.code, code, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, argv.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("help lists the command and its options", async () => {
  const r = await run(["tokenizer", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: peel tokenizer train --data FILE/);
  for (const opt of ["--data FILE", "--vocab-size N", "--kind KIND", "--out FILE", "--force", "--min-frequency N"]) assert.ok(r.stdout.includes(opt), opt);
  assert.match((await run(["--help"])).stdout, /tokenizer\s+Train a BPE tokenizer/);
});
