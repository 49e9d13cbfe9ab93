/**
 * In-process tests of `main()` dispatch: help routes, --version, and the full table of usage errors (exit 2,
 * one line naming the flag). Model-loading paths are covered by test/cli.e2e.test.ts, which spawns peel.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import type { CliIo } from "./io.js";
import { main } from "./main.js";
import { defaultModels } from "./model-file.js";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => { stdout += s; } },
    stderr: { write: (s: string) => { stderr += s; } },
    env: {},
    cwd: process.cwd(),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

test("help routes: --help, -h, help, help CMD, CMD --help, CMD -h; --version, -V", async () => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    const r = await run(argv);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^peel \S+: a TypeScript engine/);
  }
  for (const cmd of ["generate", "info", "tokenize"]) {
    for (const argv of [["help", cmd], [cmd, "--help"], [cmd, "-h"], [cmd, "--bogus", "--help"], [cmd, "--model", "m", "-h"]]) {
      const r = await run(argv);
      assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: peel ${cmd} `));
      assert.equal(r.stderr, "");
    }
  }
  assert.match((await run(["generate", "--help"])).stdout, /--threads N\s+[^\n]*physical cores/);
  assert.match((await run(["bench", "--help"])).stdout, /^Usage: peel bench /);
  for (const argv of [["--version"], ["-V"]]) assert.match((await run(argv)).stdout, /^peel \d+\.\d+\.\d+/);
});

test("no arguments: a story from the model in models/ (the usage while none ships), status 0", async () => {
  const r = await run([]);
  assert.equal(r.code, 0);
  if (defaultModels().length === 0) assert.match(r.stdout, /Usage: peel <command>/);
  else assert.match(r.stdout, /^Once upon a time\S* \S+ \S+/);
});

const USAGE_ERRORS: Array<[string[], RegExp]> = [
  [["frobnicate"], /unknown command "frobnicate"; commands: generate, chat, embed, rerank, serve, bench, info, inspect, tokenize, tokenizer, train, convert, help/],
  [["convert", "some-dir"], /--out FILE is required/],
  [["convert", "some-dir", "--out", "x.gguf", "--type", "q9"], /--type/],
  [["--frobnicate"], /unknown option --frobnicate/],
  [["help", "frobnicate"], /unknown command "frobnicate"/],
  [["help", "info", "generate"], /'peel help' takes one command name/],
  [["generate", "--bogus"], /unknown option --bogus for 'peel generate'/],
  [["info", "--prompt", "x"], /unknown option --prompt for 'peel info'/],
  [["tokenize", "--max-tokens", "3", "x"], /unknown option --max-tokens for 'peel tokenize'/],
  [["generate", "--model"], /--model needs a value/],
  [["generate", "--model="], /--model needs a file path/],
  [["generate", "--max-tokens", "--json"], /--max-tokens needs a value/],
  [["generate", "--json=1"], /--json is a switch/],
  [["generate", "--max-tokens", "ten"], /--max-tokens expects an integer, got "ten"/],
  [["generate", "--max-tokens", "-1"], /--max-tokens must be between 0 and/],
  [["generate", "--max-tokens", "1e3"], /--max-tokens expects an integer/],
  [["generate", "--temperature", "hot"], /--temperature expects a number, got "hot"/],
  [["generate", "--temperature", "101"], /--temperature must be between 0 and 100/],
  [["generate", "--top-k", "1.5"], /--top-k expects an integer/],
  [["generate", "--top-p", "0"], /--top-p must be greater than 0 and at most 1/],
  [["generate", "--top-p", "1.01"], /--top-p must be greater than 0 and at most 1/],
  [["generate", "--seed", "-1"], /--seed must be between 0 and 4294967295/],
  [["generate", "--threads", "0"], /--threads must be between 1 and 256/],
  [["generate", "--threads", "257"], /--threads must be between 1 and 256/],
  [["generate", "--threads", "many"], /--threads expects an integer/],
  [["generate", "--backend", "gpu"], /--backend must be wasm, ts or webgpu, got "gpu"/],
  [["generate", "--backend", "ts", "--threads", "2"], /--threads 2: threads are for the wasm backend, not ts/],
  [["generate", "--min-p", "1.5"], /--min-p must be between 0 and 1/],
  [["generate", "--logit-bias", "12=3"], /--logit-bias expects ID:BIAS pairs/],
  [["generate", "--logit-bias", "12:inf"], /--logit-bias: \+inf would force a token/],
  [["generate", "--stop", ""], /--stop needs a non-empty string/],
  [["generate", "--flash-attn", "auto"], /--flash-attn must be one of on, off, got "auto"/],
  [["bench", "--flash-attn", "yes"], /--flash-attn must be one of on, off, got "yes"/],
  [["bench", "--threads", "0"], /--threads must be between 1 and 256/],
  [["bench", "--prompt-tokens", "0"], /--prompt-tokens must be between 1 and 4096/],
  [["bench", "--runs", "x"], /--runs expects an integer/],
  [["generate", "--prompt", "a", "--prompt-ids", "1"], /--prompt and --prompt-ids cannot be used together/],
  [["generate", "--prompt-ids", "1,two"], /--prompt-ids expects comma-separated token ids/],
  [["generate", "stray"], /unexpected argument "stray"/],
  [["info", "--json", "stray"], /unexpected argument "stray"/],
  [["tokenize", "--model", "x.gguf"], /missing TEXT/],
  [["tokenize", "--model", "x.gguf", "a", "b"], /unexpected argument "b"/],
];

test("usage errors: status 2 and one line `peel: error: ...` naming the flag, before any file is read", async () => {
  for (const [argv, pattern] of USAGE_ERRORS) {
    const r = await run(argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^peel: error: [^\n]+\n$/, argv.join(" "));
    assert.match(r.stderr, pattern, argv.join(" "));
  }
});
