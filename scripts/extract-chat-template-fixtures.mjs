#!/usr/bin/env node
// Writes test/fixtures/chat-templates.json from llama.cpp's source, so the chat-template tests need no
// llama.cpp clone at run time. Usage:
//   node scripts/extract-chat-template-fixtures.mjs [LLAMA_CPP_DIR]
// Without a directory it clones node-llama-cpp's bundled source (llama/gitRelease.bundle) into a temp dir.
//
// What it extracts:
//  1. `cases`: every test case of tests/test-chat-template.cpp that llama.cpp also runs through its Jinja
//     path (supported_with_jinja): the template text, bos/eos, extra messages, and the string llama.cpp
//     expects from Jinja (expected_output_jinja, or expected_output when that is empty), on the file's
//     six-message test conversation.
//  2. `modelTemplates`: real model templates from models/templates/*.jinja (Llama 3.x, Qwen 2.5/3, Gemma 2,
//     Phi-3.5, Mistral Nemo, DeepSeek-R1 distills). This llama.cpp version has no expected strings for these
//     files, so each gets the expected string of the test case of test-chat-template.cpp with the same
//     format, edited in code below where the real template is known to differ; `expectedFrom` says which.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OUT = "test/fixtures/chat-templates.json";
const BUNDLE = "node_modules/node-llama-cpp/llama/gitRelease.bundle";

let dir = process.argv[2];
let cleanup = false;
if (dir === undefined) {
  dir = mkdtempSync(join(tmpdir(), "peel-llama-cpp-"));
  cleanup = true;
  execFileSync("git", ["clone", "-q", BUNDLE, dir], { stdio: "inherit" });
}
const commit = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
const src = readFileSync(join(dir, "tests/test-chat-template.cpp"), "utf8");

/** C++ tokens of the test-case table: string literals (escapes decoded), words, braces and commas. */
function lex(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (text.startsWith("//", i)) { i = text.indexOf("\n", i); if (i < 0) break; continue; }
    if (text.startsWith("/*", i)) { i = text.indexOf("*/", i) + 2; continue; }
    if (c === '"') {
      let s = "";
      i++;
      while (text[i] !== '"') {
        if (text[i] === "\\") {
          const e = text[i + 1];
          const map = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", 0: "\0" };
          if (!(e in map)) throw new Error(`unknown escape \\${e} at ${i}`);
          s += map[e];
          i += 2;
        } else s += text[i++];
      }
      i++;
      // adjacent literals concatenate, as in C++
      const last = tokens[tokens.length - 1];
      if (last?.kind === "string" && last.adjacent) last.value += s;
      else tokens.push({ kind: "string", value: s, adjacent: true });
      continue;
    }
    if ("{},()".includes(c)) { tokens.push({ kind: c }); i++; continue; }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (m === null) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 20))}`);
    tokens.push({ kind: "word", value: m[0] });
    i += m[0].length;
  }
  for (const t of tokens) delete t.adjacent;
  return tokens;
}

/** Values of one brace group: strings (U8C("...") unwrapped), booleans, nested groups. */
function parseGroup(tokens, pos) {
  if (tokens[pos].kind !== "{") throw new Error(`expected {, got ${tokens[pos].kind}`);
  pos++;
  const values = [];
  while (tokens[pos].kind !== "}") {
    const t = tokens[pos];
    if (t.kind === ",") { pos++; continue; }
    if (t.kind === "{") { const [v, p] = parseGroup(tokens, pos); values.push(v); pos = p; continue; }
    if (t.kind === "string") { values.push(t.value); pos++; continue; }
    if (t.kind === "word" && t.value === "U8C") { values.push(tokens[pos + 2].value); pos += 4; continue; }
    if (t.kind === "word" && (t.value === "true" || t.value === "false")) { values.push(t.value === "true"); pos++; continue; }
    throw new Error(`unexpected token ${JSON.stringify(t)}`);
  }
  return [values, pos + 1];
}

const start = src.indexOf("std::vector<TestCase> test_cases {");
const end = src.indexOf("};", src.indexOf("\n    };", start));
const tokens = lex(src.slice(src.indexOf("{", start), end + 1));
const [groups] = parseGroup(tokens, 0);

const convMatch = /std::vector<llama_chat_message> conversation \{([\s\S]*?)\n    \};/.exec(src);
const [conversationPairs] = parseGroup(lex(`{${convMatch[1]}}`), 0);
const conversation = conversationPairs.map(([role, content]) => ({ role, content }));

const cases = [];
for (const g of groups) {
  const [name, template, expected, expectedJinja, bos = "", eos = "", supported = true, extra = []] = g;
  if (!supported) continue;
  cases.push({
    name, template, bosToken: bos, eosToken: eos,
    extraMessages: extra.map(([role, content]) => ({ role, content })),
    expected: expectedJinja !== "" ? expectedJinja : expected,
  });
}

// Real templates, each with the expected string of the inline case of the same format, edited where the
// real template is known to differ (the edit is code here, and its description travels in the fixture).
const LLAMA31_HEADER = "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
const EDITS = {
  none: { how: "as the inline case", apply: (s) => s },
  "llama31-system-header": {
    how: "the inline Llama-3 case with the system header Llama 3.1+ templates add (knowledge cut-off, today's date pinned to 26 Jul 2024)",
    apply: (s) => s.replace("<|start_header_id|>system<|end_header_id|>\n\n", `<|start_header_id|>system<|end_header_id|>\n\n${LLAMA31_HEADER}`),
  },
};
// The R1 distills have no inline case: their expected string is llama.cpp's built-in "deepseek3" format
// (src/llama-chat.cpp: <｜User｜>text, <｜Assistant｜>text<｜end▁of▁sentence｜>, <｜Assistant｜> to open a reply)
// with the system prompt written bare (the Jinja templates add no "\n\n" after it, unlike the built-in) and
// the "<think>\n" the R1 templates open a reply with.
function deepseek3(messages) {
  let s = "";
  for (const m of messages) {
    if (m.role === "system") s += m.content;
    else if (m.role === "user") s += `<｜User｜>${m.content}`;
    else if (m.role === "assistant") s += `<｜Assistant｜>${m.content}<｜end▁of▁sentence｜>`;
  }
  return `${s}<｜Assistant｜><think>\n`;
}
const MODEL_TEMPLATES = [
  { file: "meta-llama-Llama-3.1-8B-Instruct.jinja", expectedFrom: "Llama-3", edit: "llama31-system-header" },
  { file: "meta-llama-Llama-3.2-3B-Instruct.jinja", expectedFrom: "Llama-3", edit: "llama31-system-header" },
  { file: "meta-llama-Llama-3.3-70B-Instruct.jinja", expectedFrom: "Llama-3", edit: "llama31-system-header" },
  { file: "Qwen-Qwen2.5-7B-Instruct.jinja", expectedFrom: "teknium/OpenHermes-2.5-Mistral-7B", edit: "none" },
  { file: "Qwen-Qwen3-0.6B.jinja", expectedFrom: "teknium/OpenHermes-2.5-Mistral-7B", edit: "none" },
  { file: "google-gemma-2-2b-it.jinja", expectedFrom: "google/gemma-7b-it", edit: "none" },
  { file: "microsoft-Phi-3.5-mini-instruct.jinja", expectedFrom: "Phi-3-small", edit: "none" },
  { file: "mistralai-Mistral-Nemo-Instruct-2407.jinja", expectedFrom: "Mistral-Nemo-Instruct-2407 (mistralai 'v3-tekken' template; modified to have system prompt at start)", edit: "none" },
  { file: "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", expectedFrom: "deepseek3", edit: "none" },
  { file: "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", expectedFrom: "deepseek3", edit: "none" },
];
const modelTemplates = MODEL_TEMPLATES.map((m) => {
  const base = m.expectedFrom === "deepseek3" ? deepseek3(conversation) : cases.find((c) => c.name === m.expectedFrom)?.expected;
  if (base === undefined) throw new Error(`no inline case named ${m.expectedFrom}`);
  return {
    file: m.file,
    expectedFrom: m.expectedFrom === "deepseek3" ? "llama.cpp's built-in deepseek3 format (src/llama-chat.cpp), system prompt bare, reply opened with <think>\\n" : `test case "${m.expectedFrom}", ${EDITS[m.edit].how}`,
    bosToken: "", eosToken: "</s>",
    template: readFileSync(join(dir, "models/templates", m.file), "utf8"),
    expected: EDITS[m.edit].apply(base),
  };
});

const fixture = {
  howMade: `node scripts/extract-chat-template-fixtures.mjs, from llama.cpp ${commit} (node-llama-cpp's ${BUNDLE}): ` +
    "tests/test-chat-template.cpp's test cases and conversation, and models/templates/*.jinja",
  llamaCppCommit: commit,
  conversation,
  cases,
  modelTemplates,
};
writeFileSync(OUT, `${JSON.stringify(fixture, null, 1)}\n`);
console.log(`${OUT}: ${cases.length} cases, ${modelTemplates.length} model templates, conversation of ${conversation.length} messages (llama.cpp ${commit.slice(0, 10)})`);
if (cleanup) rmSync(dir, { recursive: true, force: true });
