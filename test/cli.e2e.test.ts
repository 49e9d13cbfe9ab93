/**
 * End-to-end tests of the `peel` command, spawned as a user would run it (`node --import tsx
 * src/cli/main.ts ...`): help pages, usage errors (exit 2, one line naming the flag, no stack), file errors,
 * and the generate / info / tokenize success paths on a tiny random Llama model written for the test
 * with Peel's own GGUF writer (test/fixtures/random-llama.ts; the LLaMA vocabulary from llama-tokenizer-js).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeLlama2cCheckpoint } from "../src/formats/llama2c/checkpoint.js";
import { writeLlama2cTokenizer } from "../src/formats/llama2c/tokenizer-bin.js";
import { llamaSpmVocab } from "./fixtures/llama-vocab.js";
import { randomLlamaMetadata, randomLlamaTensors, writeRandomLlamaGguf, type RandomLlamaSpec } from "./fixtures/random-llama.js";
import { writeGguf } from "../src/formats/gguf/write.js";
import { peelArgv } from "./fixtures/peel-cli.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "src", "cli", "main.ts");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly env?: Record<string, string>;
  /** Called with the child once its first stdout bytes arrive (to interrupt it, or close its stdout). */
  readonly onFirstOutput?: (child: ReturnType<typeof spawn>) => void;
  readonly script?: string;
  /** Called with the child whenever stderr grows, with all of stderr so far. */
  readonly onStderr?: (child: ReturnType<typeof spawn>, stderr: string) => void;
}

function peel(args: readonly string[], opts: RunOptions = {}): Promise<Result> {
  const argv = opts.script !== undefined ? [opts.script, ...args] : [...peelArgv(), ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, PEEL_DEBUG: "", ...opts.env } });
  let stdout = "";
  let stderr = "";
  let first = true;
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    if (first) { first = false; opts.onFirstOutput?.(child); }
  });
  child.stdout.on("error", () => {});
  child.stderr.setEncoding("utf8").on("data", (s: string) => { stderr += s; opts.onStderr?.(child, stderr); });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function assertCleanError(r: Result, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit status; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "", "nothing on stdout");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(r.stderr, /^peel: error: /);
  assert.match(r.stderr, pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
}

function hasDefaultModel(): boolean {
  const models = join(ROOT, "models");
  return existsSync(models) && readdirSync(models).some((f) => f.endsWith(".gguf"));
}

let dir = "";
let model = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "peel-cli-"));
  model = join(dir, "tiny.gguf");
  // 2 layers, dim 32, GQA 4:2, Q8_0 weights, F16 tied embeddings, the 32000-piece LLaMA vocabulary.
  writeRandomLlamaGguf(model, {
    dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "Q8_0", embdType: "F16",
    tied: true, seed: 1, contextLength: 2048,
  });
});

after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("help and version", () => {
  test("peel --help, peel help", async () => {
    const runs = await Promise.all([peel(["--help"]), peel(["help"])]);
    for (const r of runs) {
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, /Usage: peel <command>/);
      for (const c of ["generate", "info", "tokenize"]) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
    }
  });

  for (const cmd of ["generate", "info", "tokenize"]) {
    test(`help for ${cmd}: peel help ${cmd}, peel ${cmd} ... --help`, async () => {
      const runs = await Promise.all([peel(["help", cmd]), peel([cmd, "--model", "x.gguf", "--help"])]);
      for (const r of runs) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.match(r.stdout, new RegExp(`^Usage: peel ${cmd} `));
        assert.match(r.stdout, /--model FILE/);
      }
    });
  }

  test("peel --version", async () => {
    const r = await peel(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `peel ${VERSION}\n`);
  });

  test("peel with no arguments (npm start) tells a story with the model in models/, or prints the usage without one", async () => {
    const start = performance.now();
    const r = await peel([]);
    assert.equal(r.code, 0, r.stderr);
    if (!hasDefaultModel()) {
      assert.match(r.stdout, /Usage: peel <command>/);
      return;
    }
    assert.match(r.stderr, /no command given; running: peel generate --prompt "Once upon a time"/);
    assert.match(r.stderr, /using models\/[\w.-]+\.gguf/);
    assert.match(r.stdout, /^Once upon a time[ ,]/);
    assert.ok(r.stdout.split(/\s+/).length > 40, `a story of some length, got: ${r.stdout}`);
    assert.ok(performance.now() - start < 30_000, "in seconds");
  });
});

describe("usage errors: exit 2, one line naming the flag, no stack", () => {
  // A sample spawned for real; src/cli/main.test.ts runs the full table in-process.
  const cases: Array<[string[], RegExp]> = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["generate", "--bogus"], /unknown option --bogus for 'peel generate'/],
    [["generate", "--model"], /--model needs a value/],
    [["generate", "--max-tokens", "ten"], /--max-tokens expects an integer, got "ten"/],
    [["generate", "--top-p", "0"], /--top-p must be greater than 0 and at most 1/],
    [["generate", "--threads", "0"], /--threads must be between 1 and 256/],
    [["tokenize", "--model", "x.gguf"], /missing TEXT/],
  ];
  test("a sample of mistakes", async () => {
    const results = await Promise.all(cases.map(([args]) => peel(args)));
    cases.forEach(([, pattern], i) => assertCleanError(results[i] ?? assert.fail(), 2, pattern));
  });

  test("--model omitted: the model in models/ is used, or --model is required without one", async () => {
    if (!hasDefaultModel()) {
      for (const cmd of ["generate", "info"]) assertCleanError(await peel([cmd]), 2, /--model FILE is required/);
      return;
    }
    const info = await peel(["info"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /architecture\s+llama/);
    const gen = await peel(["generate", "--prompt", "The dog", "--max-tokens", "8"]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.ok(gen.stdout.length > 0);
  });

  test("a token id outside the vocabulary is a usage error naming --prompt-ids", async () => {
    assertCleanError(await peel(["generate", "--model", model, "--prompt-ids", "1,32000"]), 2, /--prompt-ids: token id 32000 is outside the vocabulary \(0\.\.31999\)/);
  });
});

describe("file errors", () => {
  test("a missing model file: the message names the path", async () => {
    const missing = join(dir, "no-such-model.gguf");
    for (const cmd of ["generate", "info"]) {
      assertCleanError(await peel([cmd, "--model", missing]), 66, new RegExp(`cannot open ${missing.replace(/[.\\]/g, "\\$&")}: no such file`));
    }
    assertCleanError(await peel(["tokenize", "--model", missing, "hi"]), 66, /no such file/);
  });

  test("a directory that is not a checkpoint folder", async () => {
    assertCleanError(await peel(["info", "--model", dir]), 66, /a directory without config\.json; a model is a GGUF file, a llama2\.c checkpoint, or a Hugging Face checkpoint folder/);
  });

  test("non-GGUF files are FORMAT errors (exit 65) with a hint", async () => {
    const zip = join(dir, "model.zip");
    writeFileSync(zip, Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...new Array<number>(60).fill(0)]));
    const noise = join(dir, "noise.bin");
    writeFileSync(noise, Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
    const json = join(dir, "config.json");
    writeFileSync(json, '{"model_type": "llama"}');
    const empty = join(dir, "empty.gguf");
    writeFileSync(empty, new Uint8Array(0));
    const [a, b, c, d] = await Promise.all([
      peel(["info", "--model", zip]), peel(["generate", "--model", noise]), peel(["info", "--model", json]), peel(["info", "--model", empty]),
    ]);
    assertCleanError(a ?? assert.fail(), 65, /not a GGUF file \(expected magic "GGUF", got "PK\\x03\\x04"\); is this a zip file/);
    assertCleanError(b ?? assert.fail(), 65, /noise\.bin: not a GGUF file/);
    assertCleanError(c ?? assert.fail(), 65, /JSON/);
    assertCleanError(d ?? assert.fail(), 65, /the file is empty/);
  });

  test("a truncated GGUF file is a FORMAT error", async () => {
    const cut = join(dir, "truncated.gguf");
    writeFileSync(cut, readFileSync(model).subarray(0, 5000));
    const r = await peel(["info", "--model", cut]);
    assertCleanError(r, 65, /truncated|ended|expected/);
  });

  test("each kind of bad model file: its own message, non-zero exit, no stack", async () => {
    const spec: RandomLlamaSpec = { dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: true, seed: 2, contextLength: 64 };
    const meta = randomLlamaMetadata(spec);
    const tensors = randomLlamaTensors(spec);
    const good = writeGguf({ metadata: meta, tensors });
    const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
    // the tensor-info record of output_norm.weight: name, u32 n_dims (1), u64 ne[0], u32 type, u64 offset
    const nameAt = Buffer.from(good).indexOf(Buffer.from("output_norm.weight")) + "output_norm.weight".length;
    const unknownVersion = good.slice(); unknownVersion[4] = 9;
    const unknownType = good.slice(); new DataView(unknownType.buffer).setUint32(nameAt + 4 + 8, 16, true); // IQ2_XXS
    const pastEnd = good.slice(); new DataView(pastEnd.buffer).setBigUint64(nameAt + 4 + 8 + 4, 1n << 30n, true);
    const cases: Array<[string, Uint8Array, number, RegExp]> = [
      ["version.gguf", unknownVersion, 69, /version 9/],
      ["type.gguf", unknownType, 69, /output_norm\.weight.*IQ2_XXS|IQ2_XXS.*output_norm\.weight/],
      ["past-end.gguf", pastEnd, 65, /output_norm\.weight/],
      ["cut-data.gguf", good.subarray(0, good.length - 64), 65, /past the end|truncated|beyond/],
      ["no-blocks.gguf", writeGguf({ metadata: meta.filter(([k]) => k !== "llama.block_count"), tensors }), 65, /missing required metadata key "llama\.block_count"/],
      ["shape.gguf", writeGguf({ metadata: meta, tensors: tensors.map((t) => (t.name === "blk.0.attn_k.weight" ? { ...t, shape: [32, 32], data: new Uint8Array(32 * 32 * 4) } : t)) }),
        65, /"blk\.0\.attn_k\.weight" has shape \[32, 32\], expected \[16, 32\]/],
    ];
    const results = await Promise.all(cases.map(([name, bytes]) => peel(["info", "--model", file(name, bytes)])));
    cases.forEach(([name, , code, pattern], i) => assertCleanError(results[i] ?? assert.fail(name), code, pattern));
  });

  test("PEEL_DEBUG=1 adds the stack trace", async () => {
    const r = await peel(["info", "--model", join(dir, "absent.gguf")], { env: { PEEL_DEBUG: "1" } });
    assert.equal(r.code, 66);
    assert.match(r.stderr, /^peel: error: cannot open/);
    assert.match(r.stderr, /\n\s+at /);
  });
});

describe("generate", () => {
  test("streams text; --json has the same text, ids and timings; greedy is deterministic", async () => {
    const base = ["generate", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "12"];
    const [text, json1, json2] = await Promise.all([peel(base), peel([...base, "--json"]), peel([...base, "--json", "--threads", "4"])]);
    for (const r of [text, json1, json2]) assert.equal(r.code, 0, r.stderr);
    assert.equal(text.stderr, "", "no progress output when stderr is not a terminal");
    const lines = json1.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1, "exactly one JSON object");
    const out = JSON.parse(json1.stdout) as {
      prompt_tokens: number[]; tokens: number[]; text: string; finish_reason: string;
      timings: { prefill_tok_s: number | null; decode_tok_s: number | null };
    };
    assert.equal(out.prompt_tokens[0], 1, "BOS first");
    assert.equal(out.tokens.length, 12);
    assert.equal(out.finish_reason, "length");
    assert.equal(typeof out.timings.prefill_tok_s, "number");
    assert.equal(typeof out.timings.decode_tok_s, "number");
    assert.equal(text.stdout, `${out.text}\n`, "streamed text equals the JSON text");
    const again = JSON.parse(json2.stdout) as { tokens: number[]; text: string };
    assert.deepEqual([again.tokens, again.text], [out.tokens, out.text], "greedy decoding is deterministic (and --threads changes nothing)");
  });

  test("a fixed seed gives byte-identical sampled output", async () => {
    const args = ["generate", "--model", model, "--prompt", "Hello", "--max-tokens", "16", "--temperature", "1.5", "--top-k", "0", "--top-p", "1", "--seed", "42", "--json"];
    const [a, b] = await Promise.all([peel(args), peel(args)]);
    assert.equal(a.code, 0, a.stderr);
    const ta = (JSON.parse(a.stdout) as { tokens: number[] }).tokens;
    const tb = (JSON.parse(b.stdout) as { tokens: number[] }).tokens;
    assert.deepEqual(ta, tb);
  });

  test("--prompt-ids, empty prompt (BOS only) and --max-tokens 0", async () => {
    const [ids, empty, zero] = await Promise.all([
      peel(["generate", "--model", model, "--prompt-ids", "1,15043,3186", "--max-tokens", "3", "--json"]),
      peel(["generate", "--model", model, "--max-tokens", "2", "--json"]),
      peel(["generate", "--model", model, "--prompt", "Hi", "--max-tokens", "0", "--json"]),
    ]);
    assert.deepEqual((JSON.parse(ids.stdout) as { prompt_tokens: number[] }).prompt_tokens, [1, 15043, 3186]);
    assert.deepEqual((JSON.parse(empty.stdout) as { prompt_tokens: number[] }).prompt_tokens, [1]);
    const z = JSON.parse(zero.stdout) as { tokens: number[]; text: string };
    assert.deepEqual(z.tokens, []);
    assert.equal(z.text, "");
  });

  test("a prompt longer than the context is a CONTEXT_OVERFLOW error (exit 65)", async () => {
    const r = await peel(["generate", "--model", model, "--prompt", "word ".repeat(2100)]);
    assertCleanError(r, 65, /context/);
  });

  test("Ctrl-C stops generation: exit 130, 'peel: interrupted'", async () => {
    const r = await peel(["generate", "--model", model, "--prompt", "Hi", "--max-tokens", "2000"], {
      onFirstOutput: (child) => child.kill("SIGINT"),
    });
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, "peel: interrupted\n");
  });

  test("a reader that closes stdout early (| head) ends peel quietly with status 0", async () => {
    const r = await peel(["generate", "--model", model, "--prompt", "Hi", "--max-tokens", "2000"], {
      onFirstOutput: (child) => child.stdout?.destroy(),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });
});

describe("train", () => {
  test("Ctrl-C (SIGINT) during training saves a checkpoint at the step reached and exits 130", async () => {
    const data = join(dir, "train.txt");
    writeFileSync(data, "The cat sat on the mat. The dog ran to the park and back again.\n".repeat(300));
    const out = join(dir, "train-run");
    let sent = false;
    const r = await peel(["train", "--data", data, "--out", out, "--vocab-size", "300", "--dim", "16", "--layers", "1",
      "--heads", "2", "--context", "16", "--batch", "2", "--steps", "1000000", "--eval-every", "1", "--threads", "1"], {
      onStderr: (child, err) => { if (!sent && /^step 3\/1000000 /m.test(err)) { sent = true; child.kill("SIGINT"); } },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /^interrupted at step (\d+); checkpoint saved, continue with: peel train --resume --out /);
    const step = Number(/interrupted at step (\d+)/.exec(r.stdout)?.[1]);
    const state = JSON.parse(readFileSync(join(out, "checkpoint", "state.json"), "utf8")) as { step: number };
    assert.equal(state.step, step);
    assert.ok(step >= 3);
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  });
});

describe("info", () => {
  test("text: architecture, every config field, tokenizer, tensor table and totals", async () => {
    const r = await peel(["info", "--model", model]);
    assert.equal(r.code, 0, r.stderr);
    for (const field of ["architecture  llama", "dim ", "hiddenDim", "nLayers", "nHeads", "nKvHeads", "headDim", "kvDim",
      "vocabSize", "contextLength", "normEps", "rope.theta", "tiedOutput", "kind", "ggufVersion", "token_embd.weight", "[32000, 32]", "Q8_0", "F16"]) {
      assert.ok(r.stdout.includes(field), `info mentions ${field}`);
    }
    assert.match(r.stdout, /total: [\d,]+ parameters \([\d.]+[kMB]?\), [\d,]+ bytes/);
  });

  test("--json: config, tokenizer, tensors and totals that add up", async () => {
    const r = await peel(["info", "--model", model, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      format: string; architecture: string; config: Record<string, unknown>;
      tokenizer: { kind: string; vocab_size: number; bos_id: number };
      tensors: Array<{ name: string; shape: number[]; type: string; bytes: number }>;
      totals: { tensors: number; params: number; bytes: number };
    };
    assert.equal(info.format, "gguf");
    assert.equal(info.architecture, "llama");
    assert.equal(info.config["dim"], 32);
    assert.equal(info.config["nKvHeads"], 2);
    assert.deepEqual(info.tokenizer, { kind: "llama", vocab_size: 32000, bos_id: 1, eos_id: 2 });
    assert.equal(info.tensors.length, 1 + 2 * 9 + 1);
    assert.equal(info.totals.tensors, info.tensors.length);
    assert.equal(info.totals.params, info.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0));
    assert.equal(info.totals.bytes, info.tensors.reduce((s, t) => s + t.bytes, 0));
    const embd = info.tensors.find((t) => t.name === "token_embd.weight");
    assert.deepEqual(embd, { name: "token_embd.weight", shape: [32000, 32], type: "F16", bytes: 32000 * 32 * 2 });
  });
});

describe("tokenize", () => {
  test("--json ids and pieces; --no-bos drops BOS", async () => {
    const [withBos, noBos] = await Promise.all([
      peel(["tokenize", "--model", model, "--json", "Hello world"]),
      peel(["tokenize", "--model", model, "--json", "--no-bos", "Hello world"]),
    ]);
    assert.equal(withBos.code, 0, withBos.stderr);
    assert.deepEqual(JSON.parse(withBos.stdout), { ids: [1, 15043, 3186], pieces: ["<s>", "▁Hello", "▁world"] });
    assert.deepEqual(JSON.parse(noBos.stdout), { ids: [15043, 3186], pieces: ["▁Hello", "▁world"] });
  });

  test("text: one id<TAB>piece line per token; a text starting with -- after the terminator", async () => {
    const [plain, dashed] = await Promise.all([
      peel(["tokenize", "--model", model, "Hello\nworld"]),
      peel(["tokenize", "--model", model, "--no-bos", "--", "--help"]),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "1\t<s>\n15043\t▁Hello\n13\t<0x0A>\n11526\tworld\n");
    assert.equal(dashed.code, 0, dashed.stderr);
    assert.match(dashed.stdout, /^\d+\t▁--\n/);
  });
});

describe("llama2.c checkpoint with --tokenizer", () => {
  let ckpt = "";
  let tokBin = "";
  before(() => {
    // The same kind of random model as F32 llama2.c version 1, and LLaMA's vocabulary as llama2.c's
    // tokenizer.bin stores it (its export writes "▁" as a plain space).
    const shape = { dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2 };
    const tensors = randomLlamaTensors({ ...shape, weightType: "F32", tied: true, seed: 2 });
    ckpt = join(dir, "stories.bin");
    writeFileSync(ckpt, writeLlama2cCheckpoint({ ...shape, vocabSize: 32000, seqLen: 128, sharedClassifier: true, version: 1 },
      new Map(tensors.map((t) => [t.name, t]))));
    const v = llamaSpmVocab();
    tokBin = join(dir, "tokenizer.bin");
    writeFileSync(tokBin, writeLlama2cTokenizer({ pieces: v.tokens.map((p) => p.replaceAll("▁", " ")), scores: v.scores }));
  });

  test("info, tokenize and generate read it", async () => {
    const [info, tok, gen] = await Promise.all([
      peel(["info", "--model", ckpt, "--tokenizer", tokBin, "--json"]),
      peel(["tokenize", "--model", ckpt, "--tokenizer", tokBin, "--json", "Hello world"]),
      peel(["generate", "--model", ckpt, "--tokenizer", tokBin, "--prompt", "Hello", "--max-tokens", "4", "--json"]),
    ]);
    for (const r of [info, tok, gen]) assert.equal(r.code, 0, r.stderr);
    const i = JSON.parse(info.stdout) as { format: string; tokenizer: { kind: string }; config: { dim: number; contextLength: number } };
    assert.equal(i.format, "llama2c");
    assert.equal(i.tokenizer.kind, "llama2c");
    assert.deepEqual([i.config.dim, i.config.contextLength], [32, 128]);
    assert.deepEqual((JSON.parse(tok.stdout) as { ids: number[] }).ids, [1, 15043, 3186]);
    assert.equal((JSON.parse(gen.stdout) as { tokens: number[] }).tokens.length, 4);
  });

  test("without --tokenizer: a FORMAT error that asks for it", async () => {
    assertCleanError(await peel(["info", "--model", ckpt]), 65, /not a GGUF file.*llama2\.c.*--tokenizer FILE/);
  });

  test("--tokenizer with a GGUF model is a usage error", async () => {
    assertCleanError(await peel(["tokenize", "--model", model, "--tokenizer", tokBin, "hi"]), 2, /--tokenizer is only for llama2\.c checkpoints/);
  });

  test("a missing tokenizer file names its path", async () => {
    assertCleanError(await peel(["info", "--model", ckpt, "--tokenizer", join(dir, "nope.bin")]), 66, /nope\.bin: no such file/);
  });
});

describe("bin/peel.js", () => {
  test("without a build it says to run npm run build", async () => {
    const fake = join(dir, "pkg");
    mkdirSync(join(fake, "bin"), { recursive: true });
    copyFileSync(join(ROOT, "bin", "peel.js"), join(fake, "bin", "peel.js"));
    const r = await peel(["--help"], { script: join(fake, "bin", "peel.js") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /run npm run build/);
  });

  test("with a build (npm ci runs it) it runs the CLI", async (t) => {
    if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) return t.skip("dist/ absent: run npm run build");
    const r = await peel(["--version"], { script: join(ROOT, "bin", "peel.js") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `peel ${VERSION}\n`);
  });
});
