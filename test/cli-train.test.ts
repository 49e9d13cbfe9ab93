/**
 * `peel train` in process (main() with captured streams), on tiny models so each run takes well under a second:
 * a run writes every file it promises and its GGUF runs in `peel generate`; a run interrupted at step 4 and
 * resumed with --resume logs exactly the losses of an uninterrupted run and exports the same bytes; bad data,
 * out-of-range flags, a taken --out and broken checkpoints each give one error line and the right exit status;
 * the GPT-2 preset trains and says why it is not exported.
 */

import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { CliIo } from "../src/cli/io.js";
import { EXIT } from "../src/cli/exit-codes.js";
import { main } from "../src/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "peel-cli-train-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** ~15 kB of seeded word salad: enough tokens for context 16 with a 5% validation split, trained in milliseconds. */
function wordSalad(lines: number, seed: number): string {
  const words = "the cat sat on a mat and the dog ran to the big red house with a small green tree under the blue sky".split(" ");
  let s = seed >>> 0;
  const next = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(Array.from({ length: 12 }, () => words[Math.floor(next() * words.length)]).join(" "));
  return out.join("\n") + "\n";
}
writeFileSync(join(dir, "data.txt"), wordSalad(300, 7));

/** The tiny model every run here trains (a ~20k-parameter Llama-style model). */
const TINY = ["--vocab-size", "300", "--dim", "32", "--layers", "1", "--heads", "2", "--context", "16", "--batch", "2", "--threads", "1"];

interface Result { readonly code: number; readonly stdout: string; readonly stderr: string }

async function peel(argv: readonly string[], opts: { signal?: AbortSignal; tty?: boolean; onStderr?: (text: string) => void } = {}): Promise<Result> {
  let stdout = "", stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => { stdout += s; } },
    stderr: { write: (s: string) => { stderr += s; opts.onStderr?.(s); }, isTTY: opts.tty ?? false, columns: 100 },
    env: {}, cwd: dir,
  };
  const code = await main(argv, io, opts.signal ?? new AbortController().signal);
  return { code, stdout, stderr };
}

function assertOneLineError(r: Result, code: number, message: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit status; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "", `${what}: nothing on stdout`);
  const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
  assert.match(last, /^peel: error: /, `${what}: ${r.stderr}`);
  assert.match(last, message, what);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, `${what}: no stack trace`);
}

interface LogRecord { readonly type: string; readonly step: number; readonly loss?: number; readonly valLoss?: number; readonly elapsedMs?: number }

function readLog(runDir: string): LogRecord[] {
  const text = readFileSync(join(runDir, "log.jsonl"), "utf8");
  assert.ok(text.endsWith("\n"), "log.jsonl ends with a newline");
  return text.trimEnd().split("\n").map((line) => JSON.parse(line) as LogRecord);
}

/** Log records without wall-clock times, which legitimately differ between runs. */
const withoutTimes = (records: readonly LogRecord[]): object[] => records.map(({ elapsedMs: _t, ...rest }) => rest);

test("a run writes the tokenizer, tokens, checkpoint, log, loss curve and a GGUF that peel generate runs", async () => {
  const r = await peel(["train", "--data", "data.txt", "--out", "happy", ...TINY, "--steps", "6", "--eval-every", "3"]);
  assert.equal(r.code, EXIT.ok, r.stderr);
  const out = join(dir, "happy");
  assert.match(r.stdout, /^trained 6 steps in \d+s: train loss \d+\.\d{4}, val loss \d+\.\d{4}, \d+ tokens\/s\n/);
  assert.ok(r.stdout.includes(`exported ${join(out, "model.gguf")} (run it: peel generate --model ${join(out, "model.gguf")})`), r.stdout);
  assert.match(r.stderr, /model: 0\.\d\dM parameters \(dim 32, 1 layers, 2 heads\/2 kv, hidden \d+, rms norm, rope positions, swiglu, vocab 300, context 16\)/);
  assert.match(r.stderr, /step 3\/6 loss \d+\.\d{4} val \d+\.\d{4}/);
  assert.doesNotMatch(r.stderr, /\r/, "no terminal redraws when stderr is not a TTY");

  assert.deepEqual(readdirSync(out).sort(), ["checkpoint", "log.jsonl", "loss.svg", "model.gguf", "tokenizer.json", "tokens.bin"]);
  assert.deepEqual(readdirSync(join(out, "checkpoint")).sort(), ["model.safetensors", "optimizer.safetensors", "state.json"]);
  const tokenizer = JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8")) as { model: { type: string; vocab: object } };
  assert.equal(tokenizer.model.type, "BPE");
  assert.equal(Object.keys(tokenizer.model.vocab).length, 300);
  const state = JSON.parse(readFileSync(join(out, "checkpoint", "state.json"), "utf8")) as { step: number; model: { dim: number } };
  assert.equal(state.step, 6);
  assert.equal(state.model.dim, 32);

  const log = readLog(out);
  assert.deepEqual(log.map((l) => `${l.type} ${l.step}`), ["step 1", "step 2", "step 3", "eval 3", "step 4", "step 5", "step 6", "eval 6"]);
  for (const l of log) assert.ok(Number.isFinite(l.type === "step" ? l.loss : l.valLoss), JSON.stringify(l));
  // a fresh model predicts ~uniformly: the first loss is near ln(300)
  assert.ok(Math.abs((log[0]?.loss ?? 0) - Math.log(300)) < 0.5, `first loss ${log[0]?.loss}`);
  assert.match(readFileSync(join(out, "loss.svg"), "utf8"), /^<svg[^>]*>[\s\S]*<\/svg>\s*$/);
  assert.equal(readFileSync(join(out, "model.gguf")).subarray(0, 4).toString("latin1"), "GGUF");

  const g = await peel(["generate", "--model", join(out, "model.gguf"), "--prompt", "the", "--max-tokens", "5", "--threads", "1", "--seed", "1"]);
  assert.equal(g.code, EXIT.ok, g.stderr);
  // the continuation alone is printed (not the prompt), then a newline
  assert.match(g.stdout, /^.+\n$/s, JSON.stringify(g.stdout));
});

test("interrupted at step 4 and resumed: the same losses and byte-identical GGUF as an uninterrupted run", async () => {
  const flags = [...TINY, "--steps", "8", "--eval-every", "2", "--warmup", "2", "--name", "tiny-run", "--export-dtype", "F16"];
  const whole = await peel(["train", "--data", "data.txt", "--out", "whole", ...flags]);
  assert.equal(whole.code, EXIT.ok, whole.stderr);

  // Ctrl-C as the CLI gets it: the signal fires while the progress line for step 4 (its validation) is written
  const ctrl = new AbortController();
  const cut = await peel(["train", "--data", "data.txt", "--out", "cut", ...flags], {
    signal: ctrl.signal,
    onStderr: (s) => { if (/^step 4\/8 /m.test(s)) ctrl.abort(); },
  });
  assert.equal(cut.code, EXIT.interrupted, cut.stderr);
  assert.match(cut.stdout, /^interrupted at step 4; checkpoint saved, continue with: peel train --resume --out cut in \d+s: /);
  assert.match(cut.stdout, /no GGUF export: the run was interrupted/);
  assert.ok(!existsSync(join(dir, "cut", "model.gguf")), "no GGUF from an interrupted run");
  assert.equal((JSON.parse(readFileSync(join(dir, "cut", "checkpoint", "state.json"), "utf8")) as { step: number }).step, 4);
  assert.deepEqual(readLog(join(dir, "cut")).map((l) => `${l.type} ${l.step}`), ["step 1", "step 2", "eval 2", "step 3", "step 4", "eval 4"]);
  // spare copies of the half-done run for the broken-checkpoint test below
  cpSync(join(dir, "cut"), join(dir, "cut-truncated"), { recursive: true });
  cpSync(join(dir, "cut"), join(dir, "cut-otherdim"), { recursive: true });

  // how often to evaluate, the model name and the export type are saved with the run: --resume keeps them
  const resumed = await peel(["train", "--resume", "--out", "cut", "--threads", "1"]);
  assert.equal(resumed.code, EXIT.ok, resumed.stderr);
  assert.match(resumed.stderr, /resuming at step 4/);
  assert.match(resumed.stdout, /^trained 8 steps/);

  const a = readLog(join(dir, "whole")), b = readLog(join(dir, "cut"));
  assert.deepEqual(b.filter((l) => l.type === "step").map((l) => l.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(withoutTimes(b), withoutTimes(a), "every loss, learning rate and gradient norm is the same");
  assert.ok(readFileSync(join(dir, "cut", "model.gguf")).equals(readFileSync(join(dir, "whole", "model.gguf"))), "model.gguf is byte-identical");
  for (const f of ["model.safetensors", "optimizer.safetensors"]) {
    assert.ok(readFileSync(join(dir, "cut", "checkpoint", f)).equals(readFileSync(join(dir, "whole", "checkpoint", f))), f);
  }

  const done = await peel(["train", "--resume", "--out", "whole"]);
  assertOneLineError(done, EXIT.usage, /whole: the saved run already finished its 8 steps; nothing to resume/, "resume a finished run");
});

test("resuming a missing or broken checkpoint, or with run-shaping flags, names the problem", async () => {
  mkdirSync(join(dir, "no-checkpoint"));
  writeFileSync(join(dir, "no-checkpoint", "notes.txt"), "not a run");
  assertOneLineError(await peel(["train", "--resume", "--out", "no-checkpoint"]), EXIT.noInput,
    /no-checkpoint\/checkpoint is not a Peel checkpoint: model\.safetensors is missing/, "no checkpoint");
  assertOneLineError(await peel(["train", "--resume", "--out", "never-made"]), EXIT.noInput, /never-made\/checkpoint is not a Peel checkpoint/, "no directory");

  // these copies were made by the interruption test; run alone, this test makes its own
  for (const copy of ["cut-truncated", "cut-otherdim"]) {
    if (existsSync(join(dir, copy))) continue;
    const ctrl = new AbortController();
    const r = await peel(["train", "--data", "data.txt", "--out", copy, ...TINY, "--steps", "8", "--eval-every", "2"], {
      signal: ctrl.signal, onStderr: (s) => { if (/^step 4\/8 /m.test(s)) ctrl.abort(); },
    });
    assert.equal(r.code, EXIT.interrupted, r.stderr);
  }
  const model = join(dir, "cut-truncated", "checkpoint", "model.safetensors");
  truncateSync(model, Math.floor(readFileSync(model).length / 2));
  const truncated = await peel(["train", "--resume", "--out", "cut-truncated"]);
  assertOneLineError(truncated, EXIT.dataError, /cut-truncated\/checkpoint\/model\.safetensors: .*the file is truncated or corrupt/, "truncated model.safetensors");

  const statePath = join(dir, "cut-otherdim", "checkpoint", "state.json");
  const state = JSON.parse(readFileSync(statePath, "utf8")) as { model: { dim: number } };
  state.model.dim = 16;
  writeFileSync(statePath, JSON.stringify(state));
  assertOneLineError(await peel(["train", "--resume", "--out", "cut-otherdim"]), EXIT.dataError,
    /cut-otherdim\/checkpoint\/model\.safetensors: tensor "[^"]+" is F32 \[[\d, ]+\], expected F32 \[[\d, ]*16[\d, ]*\]/, "state.json with another dim");
  // a failed resume leaves the run as it was
  assert.equal(readLog(join(dir, "cut-otherdim")).length, 6);

  assertOneLineError(await peel(["train", "--resume", "--out", "cut-otherdim", "--lr", "0.01"]), EXIT.usage,
    /--resume continues the saved run with its own data and settings; drop --lr \(see 'peel train --help'\)/, "--resume --lr");
  assertOneLineError(await peel(["train", "--resume", "--out", "cut-otherdim", "--steps", "20", "--seed", "3"]), EXIT.usage, /drop --steps, --seed/, "--resume --steps --seed");
  assertOneLineError(await peel(["train", "--resume", "--out", "cut-otherdim", "data.txt"]), EXIT.usage, /drop the data files/, "--resume FILE");
});

test("bad data: one line naming the file (or the token counts), the data-error or usage status", async () => {
  writeFileSync(join(dir, "empty.txt"), "");
  writeFileSync(join(dir, "latin1.txt"), Buffer.from("caf\xe9 au lait\n".repeat(50), "latin1"));
  writeFileSync(join(dir, "short.txt"), "hello world\n");
  writeFileSync(join(dir, "wordpiece.json"), JSON.stringify({ model: { type: "WordPiece", vocab: { "[UNK]": 0, a: 1 } } }));
  writeFileSync(join(dir, "broken.json"), "{ \"model\": ");
  const noVocab = TINY.filter((_, i) => TINY[i] !== "--vocab-size" && TINY[i - 1] !== "--vocab-size");
  const cases: Array<[string[], number, RegExp]> = [
    [["--data", "empty.txt"], EXIT.dataError, /empty\.txt: the data file is empty/],
    [["--data", "latin1.txt"], EXIT.dataError, /latin1\.txt: not UTF-8 text \(invalid byte 0xe9 at offset 3\)/],
    [["--data", "missing.txt"], EXIT.noInput, /missing\.txt: cannot read the data file \(no such file\)/],
    [["--data", "short.txt"], EXIT.dataError, /not enough data: the training split has 11 tokens \(12 in all, validation fraction 0\.05\) but a window of context 16 needs 17; use a smaller context length or more data/],
    [["--data", "data.txt", "--tokenizer", "wordpiece.json", ...noVocab], EXIT.dataError, /wordpiece\.json: the model type is "WordPiece", not "BPE"; peel train takes a BPE tokenizer\.json/],
    [["--data", "data.txt", "--tokenizer", "broken.json", ...noVocab], EXIT.dataError, /broken\.json: cannot read a tokenizer\.json/],
  ];
  for (const [argv, code, message] of cases) {
    rmSync(join(dir, "bad-data"), { recursive: true, force: true });
    const flags = argv.includes("--tokenizer") ? [] : [...TINY, "--steps", "2"];
    assertOneLineError(await peel(["train", ...argv, "--out", "bad-data", ...flags]), code, message, argv.join(" "));
  }
});

test("out-of-range and contradictory flags: a usage error naming the flag, before anything is written", async () => {
  const base = ["train", "--data", "data.txt", "--out", "never", ...TINY];
  const cases: Array<[string[], RegExp]> = [
    [["--lr", "0"], /--lr must be greater than 0 and at most 10, got 0/],
    [["--lr", "-1"], /--lr must be greater than 0 and at most 10, got -1/],
    [["--lr", "fast"], /--lr expects a number, got "fast"/],
    [["--steps", "0"], /--steps must be between 1 and 1000000000, got 0/],
    [["--batch", "0"], /--batch must be between 1 and 65536, got 0/],
    [["--context", "1"], /--context must be between 2 and 65536, got 1/],
    [["--dim", "30", "--heads", "4"], /--dim 30 must be a multiple of --heads 4/],
    [["--heads", "4", "--kv-heads", "3"], /--kv-heads 3 must divide --heads 4/],
    [["--val-fraction", "0.9"], /--val-fraction must be greater than 0 and at most 0\.5, got 0\.9/],
    [["--val-fraction", "0"], /--val-fraction must be greater than 0/],
    [["--steps", "5", "--warmup", "6"], /--warmup 6 is longer than --steps 5/],
    [["--lr", "0.001", "--min-lr", "0.01"], /--min-lr 0\.01 must not exceed --lr 0\.001/],
    [["--preset", "foo"], /--preset must be one of llama, gpt2, got "foo"/],
    [["--norm", "foo"], /--norm must be one of layer, rms, got "foo"/],
    [["--tied", "--untied"], /--tied and --untied cannot be used together/],
    [["--tokenizer", "t.json"], /--vocab-size trains a new tokenizer; it cannot be combined with --tokenizer/],
    [["--eval-every", "0"], /--eval-every must be between 1/],
  ];
  for (const [extra, message] of cases) {
    const r = await peel([...base, ...extra]);
    assertOneLineError(r, EXIT.usage, message, extra.join(" "));
    assert.match(r.stderr, /\(see 'peel train --help'\)\n$/, extra.join(" "));
  }
  // absurd sizes are refused from an estimate, before anything is allocated or written
  assertOneLineError(await peel([...base, "--dim", "16384", "--layers", "256", "--heads", "128"]), EXIT.usage,
    /would need about [\d.]+ GiB to train \([\d.]+M parameters, batch 2×16\), more than this machine's [\d.]+ GiB allows/, "absurd size");
  assertOneLineError(await peel(["train", "--out", "never", ...TINY]), EXIT.usage, /--data FILE is required/, "no --data");
  assertOneLineError(await peel(["train", "--data", "data.txt", ...TINY]), EXIT.usage, /--out DIR is required/, "no --out");
  assert.ok(!existsSync(join(dir, "never")), "a refused command creates no run directory");
});

test("a non-empty --out is refused untouched without --force; with --force the run replaces the old run's files", async () => {
  const out = join(dir, "taken");
  mkdirSync(out);
  writeFileSync(join(out, "marker.txt"), "precious");
  const refused = await peel(["train", "--data", "data.txt", "--out", "taken", ...TINY, "--steps", "2"]);
  assertOneLineError(refused, EXIT.usage, /taken already exists and is not empty; pass --force to train into it anyway .*or --resume to continue the run saved there/, "taken --out");
  assert.deepEqual(readdirSync(out), ["marker.txt"]);
  assert.equal(readFileSync(join(out, "marker.txt"), "utf8"), "precious");

  const llama = await peel(["train", "--data", "data.txt", "--out", "taken", ...TINY, "--steps", "2", "--force"]);
  assert.equal(llama.code, EXIT.ok, llama.stderr);
  assert.ok(existsSync(join(out, "model.gguf")));
  assert.equal(readFileSync(join(out, "marker.txt"), "utf8"), "precious", "files that are not the run's are left alone");

  // a run forced over the Llama run must not leave the old run's model.gguf beside its own checkpoint
  const mixed = await peel(["train", "--data", "data.txt", "--out", "taken", ...TINY, "--steps", "3", "--eval-every", "3", "--position", "sinusoidal", "--force"]);
  assert.equal(mixed.code, EXIT.ok, mixed.stderr);
  assert.ok(!existsSync(join(out, "model.gguf")), "the stale model.gguf of the replaced run is gone");
  assert.equal(readLog(out).filter((l) => l.type === "step").length, 3);
});

test("the GPT-2 preset trains and exports GGUF gpt2 that generate runs; a mix with no GGUF architecture says why; a terminal gets a redrawn bar", async () => {
  const r = await peel(["train", "--data", "data.txt", "--out", "gpt2", ...TINY, "--steps", "4", "--eval-every", "2", "--preset", "gpt2"], { tty: true });
  assert.equal(r.code, EXIT.ok, r.stderr);
  assert.match(r.stdout, /^trained 4 steps in \d+s: train loss \d+\.\d{4}, val loss \d+\.\d{4}, \d+ tokens\/s\nexported .*gpt2\/model\.gguf/);
  assert.match(r.stderr, /layer norm, learned positions, gelu/);
  assert.match(r.stderr, /\rstep 1\/4 (\[[#-]+\] )?loss \d+\.\d{4}/);
  assert.match(r.stderr, /\rstep 4\/4 (\[[#-]+\] )?loss \d+\.\d{4} val \d+\.\d{4}/);
  assert.ok(r.stderr.endsWith("\r\x1b[K"), "the bar is erased at the end");
  const out = join(dir, "gpt2");
  const gen = await peel(["generate", "--model", join(out, "model.gguf"), "--prompt", "the", "--max-tokens", "4"]);
  assert.equal(gen.code, EXIT.ok, gen.stderr);
  const mixed = await peel(["train", "--data", "data.txt", "--out", "mixed", ...TINY, "--steps", "2", "--preset", "gpt2", "--activation", "relu"]);
  assert.equal(mixed.code, EXIT.ok, mixed.stderr);
  assert.match(mixed.stdout, /no GGUF export: GGUF export: a model with layer norm, learned positions and relu has no GGUF architecture/);
  assert.ok(!existsSync(join(dir, "mixed", "model.gguf")));
  assert.deepEqual(readdirSync(join(out, "checkpoint")).sort(), ["model.safetensors", "optimizer.safetensors", "state.json"]);
  const state = JSON.parse(readFileSync(join(out, "checkpoint", "state.json"), "utf8")) as { step: number; model: { norm: string; position: string } };
  assert.deepEqual([state.step, state.model.norm, state.model.position], [4, "layer", "learned"]);
});
