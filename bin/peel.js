#!/usr/bin/env node
// The `peel` command: a thin launcher for the compiled CLI in dist/ (built by `npm run build`, which
// `npm ci` runs through the `prepare` script). All behaviour lives in src/cli/main.ts.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("peel: error: the CLI is not built (dist/cli/main.js is missing): run npm run build\n");
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv.slice(2));
