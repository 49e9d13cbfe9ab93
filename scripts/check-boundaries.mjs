#!/usr/bin/env node
// Enforces the module boundaries of ../shared/docs/design.md §3 on src/ (library code, tests excluded):
//  - only *.node.ts files and cli/, server/ may import node:* modules (the rest must run in a browser);
//  - no upward imports: each folder lists the folders it must not import from;
//  - no import cycles between files;
//  - nothing src/index.ts (the browser-safe public API) reaches imports node:*, whatever folder it sits in
//    (server/'s in-process API and wire code are exported from there).
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
const nodeUse = new Map();
for (const file of files) {
  const rel = relative(SRC, file);
  const area = rel.includes("/") ? rel.split("/")[0] : "";
  const nodeOk = file.endsWith(".node.ts") || area === "cli" || area === "server";
  const text = readFileSync(file, "utf8");
  const deps = [];
  const nodeImports = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)) {
    const spec = m[1];
    if (spec.startsWith("node:")) {
      nodeImports.push(spec);
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
  nodeUse.set(file, nodeImports);
}

// the browser-safe API: every file index.ts reaches, through any folder, stays free of node:*
const INDEX = join(SRC, "index.ts");
const reached = new Map([[INDEX, [INDEX]]]); // file → the import path from index.ts
for (const [f, path] of reached) {
  const code = readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may name them
  for (const m of code.matchAll(/\b(Buffer|process|require)\s*[.(]/g)) problems.push(`${relative(SRC, f)}: uses Node's ${m[1]}, and index.ts (browser-safe) reaches it: ${path.map((x) => relative(SRC, x)).join(" → ")}`);
  for (const spec of nodeUse.get(f) ?? []) problems.push(`${relative(SRC, f)}: imports ${spec}, and index.ts (browser-safe) reaches it: ${path.map((x) => relative(SRC, x)).join(" → ")}`);
  for (const d of graph.get(f) ?? []) if (!reached.has(d)) reached.set(d, [...path, d]);
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
