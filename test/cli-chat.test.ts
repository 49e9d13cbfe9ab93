// `peel chat` spawned as a user would run it, on the shipped model (models/peel-tinystories-1m.gguf, which
// has no chat template): --prompt with --chat-template chatml prints a reply and exits 0, the same seed gives
// the same reply; without --chat-template the error names the model and suggests the flag; piped input
// runs two turns and /save refuses to overwrite an existing file.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { peelArgv } from "./fixtures/peel-cli.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODEL = join(ROOT, "models", "peel-tinystories-1m.gguf");

function peel(args: readonly string[], input?: string) {
  const r = spawnSync(process.execPath, [...peelArgv(), ...args],
    { cwd: ROOT, encoding: "utf8", input: input ?? "", env: { ...process.env, PEEL_DEBUG: "" }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("peel chat --prompt answers once with --chat-template chatml; same seed, same reply", () => {
  const args = ["chat", "--model", MODEL, "--chat-template", "chatml", "--prompt", "Tell me a story", "--max-tokens", "16", "--temperature", "0.8", "--seed", "5"];
  const a = peel(args);
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.stdout.trim().length > 0, "a reply was printed");
  assert.equal(peel(args).stdout, a.stdout);
});

test("peel chat on a model without a chat template: error names the model and suggests --chat-template", () => {
  const r = peel(["chat", "--model", MODEL, "--prompt", "hi"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /peel-tinystories-1m/);
  assert.match(r.stderr, /--chat-template/);
  assert.equal(r.stderr.trim().split("\n").length, 1, "one line, no stack");
});

test("interactive chat over piped input: two turns, /save writes JSON and will not overwrite", () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-chat-"));
  try {
    const file = join(dir, "chat.json");
    const taken = join(dir, "taken.json");
    writeFileSync(taken, "keep me");
    const r = peel(["chat", "--model", MODEL, "--chat-template", "chatml", "--max-tokens", "8"],
      `Hello\nWhat next?\n/save ${file}\n/save ${taken}\n/exit\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(file));
    const saved = JSON.parse(readFileSync(file, "utf8")) as { messages: Array<{ role: string; content: string }> };
    assert.deepEqual(saved.messages.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
    assert.equal(saved.messages[2]?.content, "What next?");
    assert.equal(readFileSync(taken, "utf8"), "keep me");
    assert.match(r.stderr, /not overwritten/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
