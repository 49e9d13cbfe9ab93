/**
 * The object part of JSON Schema → GBNF: declared properties in the schema's order (required ones always,
 * optional ones maybe), commas placed by a chain of small rules so any subset of the optional ones reads as
 * valid JSON, and, when `additionalProperties` allows them, further keys that cannot be a declared key (a key
 * trie spelled as rules, so a duplicate key can never override a declared property's value). Also the
 * character-class escaping it needs.
 */

import { gbnfLiteral, schemaError, type Converter } from "./json-primitives.js";

type Sub = (v: unknown, path: string, name: string) => string;

/** One code point as a character-class member. */
function classChar(cp: number): string {
  if (/[A-Za-z0-9]/.test(String.fromCodePoint(cp))) return String.fromCodePoint(cp);
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, "0")}` : `\\U${cp.toString(16).padStart(8, "0")}`;
}

export function buildObjectRule(c: Converter, s: Record<string, unknown>, path: string, name: string, sub: Sub): string {
  const props = s.properties ?? {};
  if (props === null || typeof props !== "object" || Array.isArray(props)) throw schemaError(`${path}/properties`, "expected an object of schemas");
  const required = s.required ?? [];
  if (!Array.isArray(required) || required.some((r) => typeof r !== "string")) throw schemaError(`${path}/required`, "expected an array of property names");
  const declared = props as Record<string, unknown>;
  const keys = Object.keys(declared);
  // a required name without a schema may hold any value
  for (const r of required as string[]) if (!keys.includes(r)) keys.push(r);
  const extra = s.additionalProperties;
  // absent additionalProperties with declared properties means none (llama.cpp's choice: a smaller grammar;
  // every result still validates); with no properties at all, any object
  const allowExtra = extra === undefined ? keys.length === 0 : extra !== false;
  if (keys.length === 0 && allowExtra && (extra === undefined || extra === true)) return c.use("object");
  const sp = c.use("space");
  const kvs = keys.map((k) => {
    const kname = `${name}-${k}`;
    const value = c.define(kname, sub(k in declared ? declared[k] : true, `${path}/properties/${k}`, kname));
    return c.define(`${kname}-kv`, `${gbnfLiteral(JSON.stringify(k))} ${sp} ":" ${sp} ${value}`);
  });
  let extraKv: string | undefined;
  if (allowExtra) {
    const value = extra === true || extra === undefined ? c.use("value") : c.define(`${name}-extra`, sub(extra, `${path}/additionalProperties`, `${name}-extra`));
    extraKv = c.define(`${name}-extra-kv`, `${otherKeyRule(c, keys, `${name}-other-key`)} ":" ${sp} ${value}`);
  }
  // after[i]: properties i.. when something came before (each needs a comma); first[i]: when nothing did yet
  let after = extraKv === undefined ? "" : `( "," ${sp} ${extraKv} )*`;
  let first = extraKv === undefined ? "" : `( ${extraKv} ( "," ${sp} ${extraKv} )* )?`;
  for (let i = keys.length - 1; i >= 0; i--) {
    const kv = kvs[i] as string, isRequired = (required as string[]).includes(keys[i] as string);
    const afterRule = after === "" ? "" : ` ${c.define(`${name}-after-${i + 1}`, after)}`;
    const firstNext = first === "" ? "" : c.define(`${name}-first-${i + 1}`, first);
    after = isRequired ? `"," ${sp} ${kv}${afterRule}` : `( "," ${sp} ${kv} )?${afterRule}`;
    first = isRequired ? `${kv}${afterRule}` : firstNext === "" ? `( ${kv}${afterRule} )?` : `${kv}${afterRule} | ${firstNext}`;
  }
  const body = first === "" ? "" : ` ${c.define(`${name}-first-0`, first)}`;
  return `"{" ${sp}${body} "}" ${sp}`;
}

/**
 * A JSON string (and trailing space) that is not one of `keys`: the keys' trie as rules, where each node may
 * close the string only if it is not a whole key, continue along a key, or leave every key behind with any
 * other character. Escapes are not allowed in such keys, so an escaped spelling cannot match a declared key.
 */
function otherKeyRule(c: Converter, keys: readonly string[], name: string): string {
  const sp = c.use("space");
  if (keys.length === 0) return c.use("string");
  const tail = c.define(`${name}-tail`, `[^"\\\\\\x00-\\x1f\\x7f]* "\\"" ${sp}`);
  const node = (prefix: string): string => {
    const nexts = new Set<number>();
    let whole = false;
    for (const k of keys) {
      if (k === prefix) whole = true;
      else if (k.startsWith(prefix)) nexts.add(k.slice(prefix.length).codePointAt(0) as number);
    }
    const alts: string[] = [];
    if (!whole) alts.push(`"\\"" ${sp}`);
    for (const cp of nexts) {
      const ch = String.fromCodePoint(cp);
      if (ch === "\"" || ch === "\\" || cp < 0x20 || cp === 0x7f) continue; // such keys need escapes, never written here
      alts.push(`${gbnfLiteral(ch)} ${node(prefix + ch)}`);
    }
    const excluded = [...nexts].map(classChar).join("");
    alts.push(`[^"\\\\\\x00-\\x1f\\x7f${excluded}] ${tail}`);
    return c.define(`${name}-${prefix.length}`, alts.join(" | "));
  };
  return `"\\"" ${node("")}`;
}
