/**
 * Integer ranges for JSON Schema's `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` on
 * `type: "integer"`, spelled as GBNF digit patterns: a range is split by sign and by digit count, and each
 * fixed-length range by its first differing digit, so the alternatives never overlap and every number has
 * one spelling (no leading zeros, no "-0"). Open ends stop at 15 digits (the plain integer rule: 16). Ranges on
 * `type: "number"` are not handled here (a fractional bound has no finite digit pattern of this kind).
 */

import { PeelError } from "../../util/errors.js";
import { schemaError } from "./json-primitives.js";

/** The most digits a bounded integer may have: 15 keeps every bound a safe integer (the plain rule allows 16). */
const MAX_DIGITS = 15;
const LIMIT = 10 ** MAX_DIGITS - 1;

/** The inclusive integer bounds a schema sets, or undefined when it sets none. */
export function integerBounds(s: Record<string, unknown>, path: string): [number, number] | undefined {
  const num = (kw: string): number | undefined => {
    const v = s[kw];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) throw schemaError(`${path}/${kw}`, `expected a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const min = num("minimum"), max = num("maximum"), xmin = num("exclusiveMinimum"), xmax = num("exclusiveMaximum");
  if (min === undefined && max === undefined && xmin === undefined && xmax === undefined) return undefined;
  const lo = Math.max(min === undefined ? -Infinity : Math.ceil(min), xmin === undefined ? -Infinity : Math.floor(xmin) + 1);
  const hi = Math.min(max === undefined ? Infinity : Math.floor(max), xmax === undefined ? Infinity : Math.ceil(xmax) - 1);
  if (lo > hi) throw schemaError(path, `no integer lies between the bounds (${lo} > ${hi})`);
  if (Math.max(Math.abs(lo === -Infinity ? 0 : lo), Math.abs(hi === Infinity ? 0 : hi)) > LIMIT) {
    throw new PeelError("UNSUPPORTED", `JSON schema at ${path}: integer bounds beyond ${MAX_DIGITS} digits are not supported`);
  }
  return [lo, hi];
}

/** GBNF (no trailing space) for the integers in [lo, hi]; either end may be infinite. */
export function integerRangeGbnf(lo: number, hi: number): string {
  const alts: string[] = [];
  if (lo < 0) alts.push(`"-" ( ${natural(Math.max(1, hi === Infinity ? 1 : -Math.min(hi, -1)), lo === -Infinity ? LIMIT : -lo)} )`);
  if (hi >= 0) alts.push(natural(Math.max(lo, 0), Math.min(hi, LIMIT)));
  return alts.length === 1 ? (alts[0] as string) : `( ${alts.join(" | ")} )`;
}

/** Alternatives for the naturals in [a, b] (0 ≤ a ≤ b), split by digit count. */
function natural(a: number, b: number): string {
  const alts: string[] = [];
  for (let len = String(a).length; len <= String(b).length; len++) {
    const from = Math.max(a, len === 1 ? 0 : 10 ** (len - 1)), to = Math.min(b, 10 ** len - 1);
    if (from <= to) alts.push(fixedLength(String(from), String(to)));
  }
  return alts.join(" | ");
}

/** Numbers of one length between lo and hi (digit strings of equal length), by their first differing digit. */
function fixedLength(lo: string, hi: string): string {
  if (lo.length === 0) return "\"\"";
  const n = lo.length, l0 = Number(lo[0]), h0 = Number(hi[0]);
  const rest = (k: number) => (k === 0 ? "" : ` [0-9]{${k}}`);
  const digits = (a: number, b: number) => (a === b ? `"${a}"` : `[${a}-${b}]`);
  if (l0 === h0) return n === 1 ? `"${l0}"` : `"${l0}" ( ${fixedLength(lo.slice(1), hi.slice(1))} )`;
  if (/^0*$/.test(lo.slice(1)) && /^9*$/.test(hi.slice(1))) return `${digits(l0, h0)}${rest(n - 1)}`;
  const alts: string[] = [];
  const low = /^0*$/.test(lo.slice(1)) ? l0 : l0 + 1, high = /^9*$/.test(hi.slice(1)) ? h0 : h0 - 1;
  if (low !== l0) alts.push(`"${l0}" ( ${fixedLength(lo.slice(1), "9".repeat(n - 1))} )`);
  if (low <= high) alts.push(`${digits(low, high)}${rest(n - 1)}`);
  if (high !== h0) alts.push(`"${h0}" ( ${fixedLength("0".repeat(n - 1), hi.slice(1))} )`);
  return alts.join(" | ");
}
