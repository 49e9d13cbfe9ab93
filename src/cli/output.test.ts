/** Unit tests for what the CLI prints: error mapping, formatters, the progress bar and help pages. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { PeelError, type PeelErrorCode } from "../util/errors.js";
import { UsageError } from "./args.js";
import { EXIT, exitCodeFor, reportError } from "./exit-codes.js";
import { escapePiece, flatten, groupDigits, shortCount, table, tokensPerSecond } from "./format.js";
import { commandHelp, generalHelp } from "./help.js";
import { COMMANDS } from "./main.js";
import { createProgressBar, formatBytes, renderBar } from "./progress.js";

function sink(isTTY?: boolean) {
  const chunks: string[] = [];
  return { chunks, text: () => chunks.join(""), write: (s: string) => chunks.push(s), ...(isTTY !== undefined ? { isTTY, columns: 100 } : {}) };
}

test("every PeelError code has an exit status; usage errors 2; anything else 70", () => {
  const codes: PeelErrorCode[] = ["FORMAT", "UNSUPPORTED", "CONFIG", "TOKENIZER", "CONTEXT_OVERFLOW", "ABORTED", "INVALID_ARGUMENT", "IO"];
  for (const c of codes) assert.ok(exitCodeFor(new PeelError(c, "x")) > 0, c);
  assert.equal(exitCodeFor(new PeelError("FORMAT", "x")), EXIT.dataError);
  assert.equal(exitCodeFor(new PeelError("IO", "x")), EXIT.noInput);
  assert.equal(exitCodeFor(new PeelError("ABORTED", "x")), 130);
  assert.equal(exitCodeFor(new UsageError("x")), 2);
  assert.equal(exitCodeFor(new TypeError("boom")), 70);
  assert.equal(exitCodeFor("a string"), 70);
});

test("reportError prints one line, no stack unless PEEL_DEBUG is set", () => {
  const err = sink();
  assert.equal(reportError(new PeelError("FORMAT", "bad magic"), err, {}), 65);
  assert.equal(err.text(), "peel: error: bad magic\n");

  const usage = sink();
  reportError(new UsageError("--n must be between 0 and 9, got 10", "generate"), usage, {});
  assert.equal(usage.text(), "peel: error: --n must be between 0 and 9, got 10 (see 'peel generate --help')\n");

  const bug = sink();
  assert.equal(reportError(new TypeError("x is undefined"), bug, { PEEL_DEBUG: "0" }), 70);
  assert.match(bug.text(), /^peel: internal error: x is undefined \(this is a bug; run with PEEL_DEBUG=1/);
  assert.ok(!bug.text().includes("    at "), "no stack trace without PEEL_DEBUG");

  const debug = sink();
  reportError(new PeelError("CONFIG", "missing key", { cause: new Error("inner") }), debug, { PEEL_DEBUG: "1" });
  assert.match(debug.text(), /^peel: error: missing key\nPeelError: missing key\n\s+at /);
  assert.match(debug.text(), /caused by: Error: inner/);

  const interrupted = sink();
  assert.equal(reportError(new PeelError("ABORTED", "generation aborted"), interrupted, {}), 130);
  assert.equal(interrupted.text(), "peel: interrupted\n");
});

test("token pieces are shown on one line with escapes", () => {
  assert.equal(escapePiece("▁Hello"), "▁Hello");
  assert.equal(escapePiece("a\nb\tc\r"), "a\\nb\\tc\\r");
  assert.equal(escapePiece("\\"), "\\\\");
  assert.equal(escapePiece("\x00\x1b\x7f\u0085"), "\\x00\\x1b\\x7f\\x85");
  assert.equal(escapePiece("\u2028"), "\\u2028");
  assert.equal(escapePiece("日本"), "日本");
});

test("number and table formatting", () => {
  assert.equal(groupDigits(15191712), "15,191,712");
  assert.equal(groupDigits(999), "999");
  assert.equal(shortCount(15191712), "15.2M");
  assert.equal(shortCount(7_000_000_000), "7.00B");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(2_500_000), "2.5 MB");
  assert.equal(tokensPerSecond(10, 500), 20);
  assert.equal(tokensPerSecond(0, 0), null);
  assert.deepEqual(table([["a", "1"], ["bbb", "22"]], [1]), ["  a     1", "  bbb  22"]);
  assert.deepEqual(flatten({ dim: 8, rope: { theta: 10000, scaling: { type: "none" } }, eps: 9.999999747378752e-6 }),
    [["dim", "8"], ["rope.theta", "10000"], ["rope.scaling.type", "none"], ["eps", "0.00001"]]);
});

test("progress bar: fitted line on a terminal, throttled, erased; nothing when not a terminal", () => {
  const line = renderBar("loading m.gguf", 50e6, 100e6, 1000, 100);
  assert.match(line, /^loading m\.gguf \[#+-+\]  50% 50\.0 MB\/100\.0 MB 50\.0 MB\/s$/);
  assert.ok(renderBar("x".repeat(200), 1, 2, 1, 40).length < 40);

  const quiet = sink(false);
  const bar0 = createProgressBar(quiet, "loading");
  bar0.update(1, 2);
  bar0.done();
  assert.equal(quiet.chunks.length, 0);

  let now = 0;
  const tty = sink(true);
  const bar = createProgressBar(tty, "loading", () => now);
  bar.update(0, 100);
  now = 50;
  bar.update(10, 100); // within 100 ms: skipped
  now = 150;
  bar.update(20, 100);
  now = 160;
  bar.update(100, 100); // the final update is always drawn
  bar.done();
  assert.equal(tty.chunks.length, 4);
  assert.ok(tty.chunks.slice(0, 3).every((c) => c.startsWith("\r") && c.endsWith("\x1b[K")));
  assert.equal(tty.chunks[3], "\r\x1b[K");
});

test("help pages list every declared option and the exit statuses", () => {
  for (const cmd of COMMANDS) {
    const page = commandHelp(cmd);
    assert.match(page, new RegExp(`^Usage: peel ${cmd.name}`));
    for (const name of Object.keys(cmd.options)) assert.ok(page.includes(`--${name}`), `${cmd.name} help mentions --${name}`);
  }
  const general = generalHelp(COMMANDS, "1.2.3");
  assert.match(general, /^peel 1\.2\.3/);
  for (const cmd of COMMANDS) assert.ok(general.includes(`  ${cmd.name} `));
  assert.match(general, /Exit status:[\s\S]*130/);
  assert.match(commandHelp(COMMANDS.find((c) => c.name === "generate") ?? assert.fail()), /--threads N[^\n]*physical cores/);
});
