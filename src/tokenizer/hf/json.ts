/**
 * Small readers for the untyped JSON of Hugging Face tokenizer files: each takes `unknown` and a path
 * ("model.merges[3]") and returns the typed value or throws a TOKENIZER PeelError naming the path, what
 * was expected and what was found. No tokenizer logic here.
 */

import { PeelError } from "../../util/errors.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

export function fail(path: string, expected: string, found: unknown): PeelError {
  return new PeelError("TOKENIZER", `tokenizer.json: ${path} should be ${expected}, found ${describe(found)}`);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw fail(path, "an object", v);
  return v;
}

export function arr(v: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(v)) throw fail(path, "an array", v);
  return v;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw fail(path, "a string", v);
  return v;
}

export function num(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw fail(path, "a number", v);
  return v;
}

export function int(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw fail(path, "a non-negative integer", v);
  return v;
}

export function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw fail(path, "true or false", v);
  return v;
}

/** `v` when present and not null, else `dflt`, read with `read`. */
export function opt<T>(v: unknown, dflt: T, read: (v: unknown, path: string) => T, path: string): T {
  return v === undefined || v === null ? dflt : read(v, path);
}

/** The `type` field of a component, checked against the supported set. */
export function typeOf<T extends string>(o: JsonObject, path: string, what: string, supported: readonly T[]): T {
  const t = str(o["type"], `${path}.type`);
  const found = supported.find((s) => s === t);
  if (found === undefined) {
    throw new PeelError("UNSUPPORTED", `tokenizer.json: ${what} type ${JSON.stringify(t)} at ${path} is not supported; supported: ${supported.join(", ")}`);
  }
  return found;
}

/** A `{ "String": s }` or `{ "Regex": r }` pattern. */
export type JsonPattern = { readonly kind: "string"; readonly value: string } | { readonly kind: "regex"; readonly value: string };

export function pattern(v: unknown, path: string): JsonPattern {
  const o = obj(v, path);
  if (typeof o["String"] === "string") return { kind: "string", value: o["String"] };
  if (typeof o["Regex"] === "string") return { kind: "regex", value: o["Regex"] };
  throw fail(path, `{"String": ...} or {"Regex": ...}`, v);
}
