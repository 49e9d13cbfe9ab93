/** Unit tests for argv parsing: option kinds, the one-line UsageErrors, and the numeric getters. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { idListOpt, intOpt, numberOpt, parseCommandArgs, stringOpt, flagOpt, UsageError, type OptionSpecs } from "./args.js";
import { parseGenerateArgs } from "./commands/generate.js";
import { generateCommand } from "./commands/generate.js";

const OPTS: OptionSpecs = {
  model: { type: "string", short: "m", valueName: "FILE", help: "" },
  n: { type: "string", valueName: "N", help: "" },
  x: { type: "string", valueName: "X", help: "" },
  json: { type: "boolean", help: "" },
};

const parse = (argv: string[]) => parseCommandArgs("demo", argv, OPTS, { name: "TEXT", min: 0, max: 1 });

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "usage errors are one line");
    assert.equal(e.command, "demo");
    return true;
  });
}

test("values, switches, short options, inline values and positionals", () => {
  const a = parse(["--model", "m.gguf", "--json", "-m", "other.gguf", "--n=-3", "hello"]);
  assert.equal(stringOpt(a, "model"), "other.gguf"); // the last one wins
  assert.equal(flagOpt(a, "json"), true);
  assert.equal(stringOpt(a, "n"), "-3");
  assert.deepEqual(a.positionals, ["hello"]);
  assert.equal(flagOpt(parse([]), "json"), false);
  assert.deepEqual(parse(["--", "--json"]).positionals, ["--json"]);
  assert.equal(stringOpt(parse(["--n", "-3"]), "n"), "-3"); // a single dash is a value (negative numbers)
});

test("mistakes are UsageErrors naming the flag", () => {
  usageError(() => parse(["--nope"]), /unknown option --nope for 'peel demo'/);
  usageError(() => parse(["-q"]), /unknown option -q/);
  usageError(() => parse(["--model"]), /--model needs a value: --model FILE/);
  usageError(() => parse(["--model", "--json"]), /--model needs a value/);
  usageError(() => parse(["--json=yes"]), /--json is a switch and takes no value/);
  usageError(() => parse(["a", "b"]), /unexpected argument "b"/);
  usageError(() => parseCommandArgs("demo", ["a"], OPTS), /unexpected argument "a": 'peel demo' takes no arguments/);
  usageError(() => parseCommandArgs("demo", [], OPTS, { name: "TEXT", min: 1, max: 1 }), /missing TEXT/);
});

test("integer options: syntax and range", () => {
  assert.equal(intOpt(parse(["--n", "42"]), "n", 0, 100), 42);
  assert.equal(intOpt(parse([]), "n", 0, 100), undefined);
  usageError(() => intOpt(parse(["--n", "4.5"]), "n", 0, 100), /--n expects an integer, got "4.5"/);
  usageError(() => intOpt(parse(["--n", "abc"]), "n", 0, 100), /--n expects an integer/);
  usageError(() => intOpt(parse(["--n", ""]), "n", 0, 100), /--n expects an integer/);
  usageError(() => intOpt(parse(["--n", "101"]), "n", 0, 100), /--n must be between 0 and 100, got 101/);
  usageError(() => intOpt(parse(["--n=-1"]), "n", 0, 100), /--n must be between 0 and 100, got -1/);
});

test("decimal options: syntax and range, exclusive lower bound", () => {
  assert.equal(numberOpt(parse(["--x", "0.5"]), "x", 0, 1), 0.5);
  assert.equal(numberOpt(parse(["--x", ".5"]), "x", 0, 1), 0.5);
  assert.equal(numberOpt(parse(["--x", "1e-2"]), "x", 0, 1), 0.01);
  usageError(() => numberOpt(parse(["--x", "NaN"]), "x", 0, 1), /--x expects a number, got "NaN"/);
  usageError(() => numberOpt(parse(["--x", "Infinity"]), "x", 0, 1), /--x expects a number/);
  usageError(() => numberOpt(parse(["--x", "0x10"]), "x", 0, 100), /--x expects a number/);
  usageError(() => numberOpt(parse(["--x", "2"]), "x", 0, 1), /--x must be between 0 and 1, got 2/);
  usageError(() => numberOpt(parse(["--x", "0"]), "x", 0, 1, true), /--x must be greater than 0 and at most 1, got 0/);
});

test("token id lists", () => {
  assert.deepEqual(idListOpt(parse(["--x", "1,2, 3"]), "x"), [1, 2, 3]);
  usageError(() => idListOpt(parse(["--x", "1,,2"]), "x"), /--x expects comma-separated token ids/);
  usageError(() => idListOpt(parse(["--x", ""]), "x"), /--x expects comma-separated token ids/);
  usageError(() => idListOpt(parse(["--x=-1"]), "x"), /--x expects comma-separated token ids/);
  usageError(() => idListOpt(parse(["--x", "99999999999"]), "x"), /too large/);
});

test("generate: flags become GenerateOptions; conflicts and ranges are usage errors", () => {
  const g = (argv: string[]) => parseGenerateArgs(parseCommandArgs("generate", argv, generateCommand.options));
  assert.deepEqual(g([]), { prompt: "", options: {}, json: false });
  assert.deepEqual(g(["--prompt", "Hi", "--max-tokens", "5", "--temperature", "0.8", "--top-k", "10", "--top-p", "0.9", "--seed", "7", "--threads", "4", "--json"]),
    { prompt: "Hi", options: { maxTokens: 5, temperature: 0.8, topK: 10, topP: 0.9, seed: 7 }, json: true });
  assert.deepEqual(g(["--prompt-ids", "1,2"]).prompt, [1, 2]);
  assert.throws(() => g(["--prompt", "a", "--prompt-ids", "1"]), /cannot be used together/);
  assert.throws(() => g(["--threads", "257"]), /--threads must be between 1 and 256/);
  assert.throws(() => g(["--seed", "4294967296"]), /--seed must be between 0 and 4294967295/);
  assert.throws(() => g(["--temperature", "-0.1"]), /--temperature must be between 0 and 100/);
});
