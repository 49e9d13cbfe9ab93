/**
 * Typed accessors over GGUF metadata: each returns the value in a plain JS type or throws PeelError CONFIG
 * when the key holds the wrong type. They know no key names; model/ and tokenizer/ say which keys they need.
 */

import { PeelError } from "../../util/errors.js";
import type { GgufArray, GgufKv, GgufMetadata } from "./types.js";

function wrongType(key: string, expected: string, kv: GgufKv): PeelError {
  const found = kv.type === "ARRAY" ? `ARRAY of ${kv.value.elementType}` : kv.type;
  return new PeelError("CONFIG", `metadata "${key}": expected ${expected}, found ${found}`);
}

function missing(key: string, expected: string): PeelError {
  return new PeelError("CONFIG", `metadata "${key}" is required (${expected}) but absent`);
}

function bigToNumber(v: bigint, key: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new PeelError("CONFIG", `metadata "${key}": value ${v} does not fit a JS number exactly`);
  }
  return Number(v);
}

/** Any integer or float scalar as a number (64-bit ints checked to be exact). */
export function getNumber(meta: GgufMetadata, key: string): number | undefined {
  const kv = meta.get(key);
  if (kv === undefined) return undefined;
  if (kv.type === "UINT64" || kv.type === "INT64") return bigToNumber(kv.value, key);
  if (typeof kv.value === "number") return kv.value;
  throw wrongType(key, "a number", kv);
}

export function requireNumber(meta: GgufMetadata, key: string): number {
  const v = getNumber(meta, key);
  if (v === undefined) throw missing(key, "a number");
  return v;
}

/** Like getNumber, but the value must be an integer (a float that is a whole number is accepted). */
export function getInteger(meta: GgufMetadata, key: string): number | undefined {
  const v = getNumber(meta, key);
  if (v !== undefined && !Number.isInteger(v)) throw new PeelError("CONFIG", `metadata "${key}": expected an integer, found ${v}`);
  return v;
}

export function requireInteger(meta: GgufMetadata, key: string): number {
  const v = getInteger(meta, key);
  if (v === undefined) throw missing(key, "an integer");
  return v;
}

export function getString(meta: GgufMetadata, key: string): string | undefined {
  const kv = meta.get(key);
  if (kv === undefined) return undefined;
  if (kv.type !== "STRING") throw wrongType(key, "a string", kv);
  return kv.value;
}

export function requireString(meta: GgufMetadata, key: string): string {
  const v = getString(meta, key);
  if (v === undefined) throw missing(key, "a string");
  return v;
}

export function getBool(meta: GgufMetadata, key: string): boolean | undefined {
  const kv = meta.get(key);
  if (kv === undefined) return undefined;
  if (kv.type !== "BOOL") throw wrongType(key, "a bool", kv);
  return kv.value;
}

export function getArray(meta: GgufMetadata, key: string): GgufArray | undefined {
  const kv = meta.get(key);
  if (kv === undefined) return undefined;
  if (kv.type !== "ARRAY") throw wrongType(key, "an array", kv);
  return kv.value;
}

export function getStringArray(meta: GgufMetadata, key: string): readonly string[] | undefined {
  const arr = getArray(meta, key);
  if (arr === undefined) return undefined;
  if (arr.elementType !== "STRING") throw wrongType(key, "an array of strings", { type: "ARRAY", value: arr });
  return arr.values;
}

/**
 * A numeric array as numbers: typed arrays are returned as they are (no copy); 64-bit integer arrays are
 * converted (checked) into a Float64Array.
 */
export function getNumberArray(meta: GgufMetadata, key: string): ArrayLike<number> | undefined {
  const arr = getArray(meta, key);
  if (arr === undefined) return undefined;
  switch (arr.elementType) {
    case "UINT8": case "INT8": case "UINT16": case "INT16": case "UINT32": case "INT32": case "FLOAT32": case "FLOAT64":
      return arr.values;
    case "UINT64": case "INT64": {
      const out = new Float64Array(arr.values.length);
      for (let i = 0; i < out.length; i++) out[i] = bigToNumber(arr.values[i] as bigint, key);
      return out;
    }
    case "BOOL": case "STRING": case "ARRAY":
      throw wrongType(key, "an array of numbers", { type: "ARRAY", value: arr });
  }
}

/** A short human-readable rendering of a value (for `peel inspect` style listings); long arrays are elided. */
export function formatKv(kv: GgufKv, maxItems = 8): string {
  if (kv.type !== "ARRAY") return kv.type === "STRING" ? JSON.stringify(kv.value) : String(kv.value);
  const arr = kv.value;
  const items = Array.from(arr.values as ArrayLike<unknown>).slice(0, maxItems)
    .map((v) => (typeof v === "string" ? JSON.stringify(v) : typeof v === "object" ? "[…]" : String(v)));
  const more = arr.values.length > maxItems ? `, … (${arr.values.length} items)` : "";
  return `[${items.join(", ")}${more}] (${arr.elementType})`;
}
