#!/usr/bin/env node
// Enforces the module boundaries of ../shared/docs/design.md §3 on src/ (library code, tests excluded):
//  - only *.node.ts files and cli/, server/ may import node:* modules (the rest must run in a browser);
//  - no upward imports: each folder lists the folders it must not import from;
//  - no import cycles between files.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve("src");
const FORBIDDEN = {
  util: ["tensor", "formats", "tokenizer", "kernels", "model", "sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  tensor: ["formats", "tokenizer", "kernels", "model", "sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  formats: ["tokenizer", "kernels", "model", "sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  tokenizer: ["kernels", "model", "sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  kernels: ["tokenizer", "model", "sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  sample: ["formats", "tokenizer", "kernels", "model", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  model: ["sample", "generate", "embed", "chat", "cli", "server", "train", "inspect"],
  generate: ["embed", "chat", "cli", "server", "inspect"],
  embed: ["chat", "cli", "server", "train", "inspect"],
  chat: ["cli", "server", "inspect", "train"],
  inspect: ["cli", "server", "train"],
  server: ["cli"],
};

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

const files = walk(SRC);
const problems = [];
const graph = new Map();
for (const file of files) {
  const rel = relative(SRC, file);
  const area = rel.includes("/") ? rel.split("/")[0] : "";
  const nodeOk = file.endsWith(".node.ts") || area === "cli" || area === "server";
  const text = readFileSync(file, "utf8");
  const deps = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)) {
    const spec = m[1];
    if (spec.startsWith("node:")) {
      if (!nodeOk) problems.push(`${rel}: imports ${spec}; only *.node.ts, cli/ and server/ may use Node built-ins`);
      continue;
    }
    if (!spec.startsWith(".")) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    const tRel = relative(SRC, target);
    const tArea = tRel.includes("/") ? tRel.split("/")[0] : "";
    if ((FORBIDDEN[area] ?? []).includes(tArea)) problems.push(`${rel}: imports ${tRel}; ${area}/ must not depend on ${tArea}/`);
    if (tRel.endsWith(".node.ts") && !nodeOk) problems.push(`${rel}: imports ${tRel}, a Node-only file`);
    deps.push(target);
  }
  graph.set(file, deps);
}

// cycle detection (depth-first, colouring)
const state = new Map();
function visit(f, stack) {
  state.set(f, 1);
  for (const d of graph.get(f) ?? []) {
    if (state.get(d) === 1) problems.push(`import cycle: ${[...stack, f, d].slice(stack.indexOf(d) >= 0 ? stack.indexOf(d) : 0).map((x) => relative(SRC, x)).join(" → ")}`);
    else if (!state.has(d)) visit(d, [...stack, f]);
  }
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f, []);

if (problems.length > 0) {
  console.error(`module boundary check failed (${problems.length}):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`module boundaries ok (${files.length} files)`);
