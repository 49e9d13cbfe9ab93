/**
 * JSON Schema → GBNF text → Grammar, in the manner of llama.cpp's json_schema_to_grammar: each subschema
 * becomes a rule, and shared primitives (string, number, any value, …) are added as used. The rule a schema
 * gets matches only JSON that validates against it, and may match less than the schema allows — that keeps
 * every result valid and the grammar small: at most one space between tokens, numbers of at most 16 digits,
 * properties in the schema's order, declared properties only unless `additionalProperties` says otherwise,
 * tuple items all present. Keywords that would need a check the grammar cannot make (pattern, minimum,
 * uniqueItems, …) are refused with an error naming where they are; annotations (title, description, …) are
 * ignored, and so are string formats other than date, time, date-time and uuid, which are spelled out.
 */

import { PeelError } from "../../util/errors.js";
import { compileGbnf } from "./gbnf.js";
import type { Grammar } from "./grammar.js";
import { buildObjectRule } from "./json-schema-object.js";
import { integerBounds, integerRangeGbnf } from "./json-schema-integer.js";
import { gbnfLiteral, JSON_PRIMITIVES, schemaError, type Converter } from "./json-primitives.js";

const ANNOTATIONS = new Set([
  "title", "description", "$schema", "$id", "$comment", "$anchor", "default", "examples", "format", "deprecated", "readOnly",
  "writeOnly", "contentMediaType", "contentEncoding", "$defs", "definitions", "strict", "name",
]);
const SUPPORTED = [
  "type", "enum", "const", "anyOf", "oneOf", "allOf (one schema)", "$ref (#/$defs/…, #/definitions/…)", "properties", "required",
  "additionalProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength",
  "minimum / maximum / exclusiveMinimum / exclusiveMaximum (integers only)",
];
const ASSERTIONS = new Set([
  "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required", "additionalProperties", "items",
  "prefixItems", "additionalItems", "minItems", "maxItems", "minLength", "maxLength",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
]);
/** Longest string or list the grammar spells out; a larger maximum is clamped (shorter results still validate). */
const MAX_BOUND = 1000;

type Schema = boolean | Record<string, unknown>;

/** Converts a JSON Schema (parsed JSON) to GBNF text whose `root` matches exactly the JSON it generates. */
export function jsonSchemaToGbnf(schema: unknown): string {
  const c = createConverter(schema);
  c.define("root", c.visit(schema, "#", "root"));
  return c.text();
}

export function jsonSchemaToGrammar(schema: unknown): Grammar {
  return compileGbnf(jsonSchemaToGbnf(schema));
}

/** GBNF for any JSON object (OpenAI's json_object mode). */
export function jsonObjectGbnf(): string {
  const c = createConverter({});
  c.define("root", c.use("object"));
  return c.text();
}

function createConverter(root: unknown): Converter {
  const rules = new Map<string, string>();
  const used = new Set<string>();
  const refs = new Map<string, string>();
  const reserve = (hint: string): string => {
    const base = hint.replace(/[^A-Za-z0-9-]+/g, "-").replace(/-+$/, "") || "rule";
    let name = base;
    for (let k = 1; rules.has(name) || name in JSON_PRIMITIVES; k++) name = `${base}-${k}`;
    rules.set(name, "");
    return name;
  };
  const c: Converter = {
    define(name, body) {
      const n = reserve(name);
      rules.set(n, body);
      return n;
    },
    use(primitive) {
      if (!used.has(primitive)) {
        used.add(primitive);
        for (const dep of (JSON_PRIMITIVES[primitive] as readonly [string, readonly string[]])[1]) c.use(dep);
      }
      return primitive;
    },
    visit(schema, path, name) {
      return visit(c, schema, path, name, (ref) => {
        let n = refs.get(ref);
        if (n === undefined) {
          n = reserve(`ref-${ref.split("/").pop() ?? "root"}`);
          refs.set(ref, n);
          rules.set(n, c.visit(resolveRef(root, ref, path), ref, n));
        }
        return n;
      });
    },
    text() {
      const lines = [...rules].map(([n, body]) => `${n} ::= ${body}`);
      for (const p of Object.keys(JSON_PRIMITIVES)) if (used.has(p)) lines.push(`${p} ::= ${(JSON_PRIMITIVES[p] as readonly [string, readonly string[]])[0]}`);
      return lines.join("\n") + "\n";
    },
  };
  return c;
}

function resolveRef(root: unknown, ref: string, path: string): unknown {
  if (!ref.startsWith("#")) throw schemaError(path, `$ref "${ref}" points outside this schema; only local references (#/$defs/Name) are supported`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) throw schemaError(path, `$ref "${ref}" does not resolve (no "${key}")`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A schema's rule body (or the name of a rule that holds it). */
function visit(c: Converter, schema: unknown, path: string, name: string, ref: (r: string) => string): string {
  if (schema === true) return c.use("value");
  if (schema === false) throw schemaError(path, "the schema `false` matches no value, so nothing could be generated");
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) throw schemaError(path, `expected a schema (an object or a boolean), got ${JSON.stringify(schema)}`);
  const s = schema as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!ASSERTIONS.has(key) && !ANNOTATIONS.has(key)) {
      throw new PeelError("UNSUPPORTED", `JSON schema at ${path}: keyword "${key}" is not supported by grammar-constrained sampling (supported: ${SUPPORTED.join(", ")}; annotations such as title, description and format are ignored)`);
    }
  }
  const sub = (v: unknown, p: string, n: string) => visit(c, v, p, n, ref);
  const only = (kw: string) => {
    const others = Object.keys(s).filter((k) => k !== kw && ASSERTIONS.has(k));
    if (others.length > 0) throw new PeelError("UNSUPPORTED", `JSON schema at ${path}: "${kw}" together with ${others.map((k) => `"${k}"`).join(", ")} is not supported; move them inside each branch`);
  };
  if (typeof s.$ref === "string") { only("$ref"); return ref(s.$ref); }
  if (s.$ref !== undefined) throw schemaError(`${path}/$ref`, "expected a string");
  if ("const" in s) return `${gbnfLiteral(JSON.stringify(s.const))} ${c.use("space")}`;
  if (s.enum !== undefined) {
    if (!Array.isArray(s.enum) || s.enum.length === 0) throw schemaError(`${path}/enum`, "expected a non-empty array of values");
    return `( ${s.enum.map((v) => gbnfLiteral(JSON.stringify(v))).join(" | ")} ) ${c.use("space")}`;
  }
  for (const kw of ["anyOf", "oneOf", "allOf"] as const) {
    const list = s[kw];
    if (list === undefined) continue;
    only(kw);
    if (!Array.isArray(list) || list.length === 0) throw schemaError(`${path}/${kw}`, "expected a non-empty array of schemas");
    if (kw === "allOf" && list.length !== 1) throw new PeelError("UNSUPPORTED", `JSON schema at ${path}/allOf: only a single-schema allOf is supported (merging schemas is not); got ${list.length}`);
    // oneOf is generated like anyOf: the branches' rules rarely overlap, and llama.cpp does the same
    const alts = list.map((b, i) => c.define(`${name}-${i}`, sub(b, `${path}/${kw}/${i}`, `${name}-${i}`)));
    return alts.length === 1 ? (alts[0] as string) : `( ${alts.join(" | ")} )`;
  }
  const type = s.type ?? (s.properties !== undefined || s.additionalProperties !== undefined ? "object" : s.items !== undefined || s.prefixItems !== undefined ? "array" : undefined);
  if (type === undefined) return c.use("value");
  if (Array.isArray(type)) {
    if (type.length === 0) throw schemaError(`${path}/type`, "an empty list of types matches nothing");
    return `( ${type.map((t, i) => c.define(`${name}-${String(t)}`, sub({ ...s, type: t }, `${path}/type/${i}`, `${name}-${String(t)}`))).join(" | ")} )`;
  }
  switch (typeof type === "string" ? type : "") {
    case "object": return buildObjectRule(c, s, path, name, sub);
    case "array": return arrayRule(c, s, path, name, sub);
    case "string": return stringRule(c, s, path);
    case "integer": {
      const b = integerBounds(s, path);
      return b === undefined ? c.use("integer") : `${integerRangeGbnf(b[0], b[1])} ${c.use("space")}`;
    }
    case "number":
      for (const kw of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
        if (kw in s) throw new PeelError("UNSUPPORTED", `JSON schema at ${path}: "${kw}" on type "number" is not supported (it is on "integer")`);
      }
      return c.use("number");
    case "boolean": case "null": return c.use(type as string);
    default: throw schemaError(`${path}/type`, `unknown type ${JSON.stringify(type)} (known: object, array, string, number, integer, boolean, null)`);
  }
}

/** A non-negative integer keyword, or `dflt` when absent. */
export function count(s: Record<string, unknown>, kw: string, path: string, dflt: number): number {
  const v = s[kw];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw schemaError(`${path}/${kw}`, `expected an integer ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

function bounds(s: Record<string, unknown>, minKw: string, maxKw: string, path: string): [number, number] {
  const min = count(s, minKw, path, 0), max = count(s, maxKw, path, Infinity);
  if (min > max) throw schemaError(path, `${minKw} ${min} is above ${maxKw} ${max}, so no value fits`);
  if (min > MAX_BOUND) throw new PeelError("UNSUPPORTED", `JSON schema at ${path}/${minKw}: ${min} is above the ${MAX_BOUND} the grammar spells out`);
  return [min, max > MAX_BOUND && max !== Infinity ? MAX_BOUND : max];
}

const rep = (min: number, max: number) => (max === Infinity ? `{${min},}` : `{${min},${max}}`);

/**
 * String formats spelled out (others stay annotations). Days stop at 28, which every month has, so a date is
 * always a real one; times take an optional fraction and a Z or ±hh:mm offset, as RFC 3339 asks.
 */
const FORMATS: Readonly<Record<string, string>> = {
  date: `[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] )`,
  time: `( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,6} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )`,
  uuid: `[0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}`,
};

function stringRule(c: Converter, s: Record<string, unknown>, path: string): string {
  const format = typeof s.format === "string" && (s.format in FORMATS || s.format === "date-time") ? s.format : undefined;
  if (format !== undefined) {
    if (s.minLength !== undefined || s.maxLength !== undefined) throw new PeelError("UNSUPPORTED", `JSON schema at ${path}: minLength/maxLength together with format "${format}" is not supported`);
    const body = format === "date-time" ? `${FORMATS.date as string} "T" ${FORMATS.time as string}` : (FORMATS[format] as string);
    return `"\\"" ${body} "\\"" ${c.use("space")}`;
  }
  const [min, max] = bounds(s, "minLength", "maxLength", path);
  if (min === 0 && max === Infinity) return c.use("string");
  // length counts code points; a \\u escape pair for one astral character counts as two here, so a result
  // can only be shorter than the grammar thinks, never longer (the escapes allow no surrogates at all)
  return `"\\"" ${c.use("char")}${rep(min, max)} "\\"" ${c.use("space")}`;
}

function arrayRule(c: Converter, s: Record<string, unknown>, path: string, name: string, sub: (v: unknown, p: string, n: string) => string): string {
  const [min, max] = bounds(s, "minItems", "maxItems", path);
  const sp = c.use("space");
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
  const restSchema = Array.isArray(s.items) ? s.additionalItems : Array.isArray(s.prefixItems) ? s.items : s.items ?? true;
  if (prefix.length > max) throw schemaError(path, `${prefix.length} tuple items but maxItems is ${max}`);
  // tuple items are all generated (shorter tuples would validate too, but llama.cpp also writes them all)
  const parts = prefix.map((p, i) => c.define(`${name}-${i}`, sub(p, `${path}/${Array.isArray(s.prefixItems) ? "prefixItems" : "items"}/${i}`, `${name}-${i}`)));
  const restMin = Math.max(0, min - prefix.length), restMax = max - prefix.length;
  // with tuple items, more items only when the schema names their schema (absent means "anything", left out)
  const rest = restMax === 0 || (prefix.length > 0 && (restSchema === undefined || restSchema === false)) ? undefined
    : c.define(`${name}-item`, sub(restSchema ?? true, `${path}/items`, `${name}-item`));
  if (rest === undefined && restMin > 0) throw schemaError(path, `minItems ${min} needs items beyond the ${prefix.length} tuple items, and the schema allows none`);
  let body = parts.join(` "," ${sp} `);
  if (rest !== undefined) {
    if (parts.length > 0) body += restMin > 0 ? ` ( "," ${sp} ${rest} )${rep(restMin, restMax)}` : ` ( "," ${sp} ${rest} )${rep(0, restMax)}`;
    else if (restMin > 0) body = `${rest} ( "," ${sp} ${rest} )${rep(restMin - 1, restMax - 1)}`;
    else body = `( ${rest} ( "," ${sp} ${rest} )${rep(0, restMax - 1)} )?`;
  }
  return `"[" ${sp} ${body} "]" ${sp}`;
}
