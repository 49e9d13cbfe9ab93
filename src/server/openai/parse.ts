/**
 * Small checked readers for JSON request bodies: each takes the parsed body as `unknown` and a field
 * name, and returns the typed value or throws a 400 that names the field (`messages[2].content: expected a
 * string or an array of parts, got number`). They know no endpoint; requests.ts composes them.
 */

import { badField } from "../api-error.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

export function asObject(v: unknown, param: string): JsonObject {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badField(param, `expected an object, got ${describe(v)}`);
  return v as JsonObject;
}

export function optBool(o: JsonObject, key: string, prefix = ""): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badField(prefix + key, `expected a boolean, got ${describe(v)}`);
  return v;
}

export function optString(o: JsonObject, key: string, prefix = ""): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badField(prefix + key, `expected a string, got ${describe(v)}`);
  return v;
}

/** A number in [min, max] (integer when asked); undefined when absent or null. */
export function optNumber(o: JsonObject, key: string, min: number, max: number, opts: { integer?: boolean; prefix?: string } = {}): number | undefined {
  const v = o[key];
  const name = (opts.prefix ?? "") + key;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw badField(name, `expected a number, got ${describe(v)}`);
  if (opts.integer === true && !Number.isInteger(v)) throw badField(name, `expected an integer, got ${v}`);
  if (v < min || v > max) throw badField(name, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** A string or an array of at most `max` non-empty strings (OpenAI's `stop`). */
export function optStringList(o: JsonObject, key: string, max: number): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list)) throw badField(key, `expected a string or an array of strings, got ${describe(v)}`);
  if (list.length > max) throw badField(key, `at most ${max} entries, got ${list.length}`);
  return list.map((s: unknown, i) => {
    if (typeof s !== "string" || s === "") throw badField(`${key}[${i}]`, `expected a non-empty string, got ${typeof s === "string" ? "\"\"" : describe(s)}`);
    return s;
  });
}

/** An array of integer token ids in [0, limit). */
export function tokenIdList(v: unknown, param: string, limit: number): number[] {
  if (!Array.isArray(v)) throw badField(param, `expected an array of token ids, got ${describe(v)}`);
  return v.map((id: unknown, i) => {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= limit) {
      throw badField(`${param}[${i}]`, `expected a token id in 0..${limit - 1}, got ${JSON.stringify(id) ?? describe(id)}`);
    }
    return id;
  });
}
