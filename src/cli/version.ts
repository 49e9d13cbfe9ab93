/**
 * peel's version, read from the package.json two levels above this file (true both for src/cli/ under tsx
 * and for the compiled dist/cli/). It does not cache beyond one call per process.
 */

import { readFileSync } from "node:fs";

export function peelVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    if (typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string") return pkg.version;
  } catch {
    // fall through: a missing or unreadable package.json should not break --version
  }
  return "unknown";
}
