/**
 * Translates the Oniguruma patterns of Hugging Face tokenizer files (Ruby syntax, Unicode semantics) to
 * JavaScript `u`-flag regexes: `\s`/`\S` become White_Space (Oniguruma's, which has U+0085 and lacks
 * U+FEFF, unlike JS `\s`), `\d` Nd, `\w` Oniguruma's word set, `(?i:...)` groups get explicit ASCII case
 * pairs (Node 20 has no inline modifiers; the reference binding folds only ASCII here: "'ſ" is no "'s"),
 * `\x{..}` becomes `\u{..}`, stray braces and identity escapes are made literal. Atomic groups and
 * possessive quantifiers have no JS form: they become ordinary ones (exact for the patterns whose
 * alternatives cannot backtrack into each other, which covers the GPT-2/cl100k/o200k/llama3/qwen2 ones).
 * It translates; it does not split text.
 */

import { PeelError } from "../../util/errors.js";

const WS = "\\p{White_Space}";
// Oniguruma's word set: Alphabetic, marks, decimal digits, connector punctuation, and (its Latin-1 ctype
// table) the superscripts and fractions ¹ ² ³ ¼ ½ ¾.
const WORD = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE";
const SYNTAX = new Set([..."^$\\.*+?()[]{}|/"]);

function letterPair(c: string): string | undefined {
  const lo = c.toLowerCase();
  const up = c.toUpperCase();
  return /^[a-zA-Z]$/.test(c) && lo !== up ? lo + up : undefined;
}

/** Returns the JS source of an Oniguruma pattern (to be compiled with the "gu" flags). */
export function onigToJs(src: string): string {
  let out = "";
  let inClass = false;
  // per open group: whether it switched case-insensitivity on
  const groups: boolean[] = [];
  let ci = 0; // depth of open (?i: groups
  let afterQuantifier = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    const quantified: boolean = afterQuantifier;
    afterQuantifier = false;
    if (c === "\\") {
      const [text, used] = translateEscape(src, i, inClass);
      out += text;
      i += used - 1;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      if (c === "[" ) { out += "\\["; continue; } // no nested classes or set operations in JS u mode
      const pair = ci > 0 ? letterPair(c) : undefined;
      // a range a-z inside (?i: also gets its other case
      if (pair && src[i + 1] === "-" && src[i + 2] !== undefined && src[i + 2] !== "]" && letterPair(src[i + 2] as string)) {
        const hi = src[i + 2] as string;
        out += `${c}-${hi}${c === c.toLowerCase() ? c.toUpperCase() + "-" + hi.toUpperCase() : c.toLowerCase() + "-" + hi.toLowerCase()}`;
        i += 2;
        continue;
      }
      out += pair ?? c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") { out += "^"; i++; }
      if (src[i + 1] === "]") { out += "\\]"; i++; } // a leading ] is literal in Oniguruma
      continue;
    }
    if (c === "(") {
      const rest = src.slice(i);
      const mod = /^\(\?([imx]*)(?:-([imx]*))?:/.exec(rest);
      if (mod && (mod[1] ?? "").length + (mod[2] ?? "").length > 0) {
        const on = (mod[1] ?? "").includes("i");
        if ((mod[1] ?? "").replace("i", "").length > 0 || (mod[2] ?? "").length > 0) {
          throw new PeelError("UNSUPPORTED", `tokenizer.json: regex ${JSON.stringify(src)} uses the inline options ${JSON.stringify(mod[0])}; only (?i:...) is supported`);
        }
        groups.push(on);
        if (on) ci++;
        out += "(?:";
        i += mod[0].length - 1;
        continue;
      }
      if (rest.startsWith("(?>")) { groups.push(false); out += "(?:"; i += 2; continue; }
      groups.push(false);
      out += c;
      continue;
    }
    if (c === ")") {
      if (groups.pop() === true) ci--;
      out += c;
      continue;
    }
    if (c === "{") {
      const q = /^\{\d*,?\d*\}/.exec(src.slice(i));
      if (q && q[0] !== "{}" && q[0] !== "{,}") { out += q[0]; i += q[0].length - 1; afterQuantifier = true; }
      else out += "\\{";
      continue;
    }
    if (c === "}") { out += "\\}"; continue; }
    if (!inClass && (c === "*" || c === "+" || c === "?")) {
      if (c === "+" && quantified) continue; // possessive: no JS form, drop it
      afterQuantifier = c !== "?" || !quantified; // a ? after a quantifier makes it lazy and ends it
    }
    if (ci > 0) {
      const pair = letterPair(c);
      if (pair) { out += `[${pair}]`; continue; }
    }
    out += c;
  }
  if (inClass) throw new PeelError("TOKENIZER", `tokenizer.json: regex ${JSON.stringify(src)} has an unclosed [ character class`);
  return out;
}

/** Translates the escape at src[i] ("\\"); returns the JS text and how many source characters it used. */
function translateEscape(src: string, i: number, inClass: boolean): [string, number] {
  const n = src[i + 1];
  if (n === undefined) throw new PeelError("TOKENIZER", `tokenizer.json: regex ${JSON.stringify(src)} ends with a lone backslash`);
  const cls = (body: string, negated: boolean): string => (inClass ? (negated ? unsupportedNegated(src) : body) : negated ? `[^${body}]` : `[${body}]`);
  switch (n) {
    case "s": return [WS, 2];
    case "S": return ["\\P{White_Space}", 2];
    case "d": return ["\\p{Nd}", 2];
    case "D": return ["\\P{Nd}", 2];
    case "w": return [cls(WORD, false), 2];
    case "W": return [cls(WORD, true), 2];
    case "h": return [cls("0-9a-fA-F", false), 2];
    case "A": return ["^", 2];
    case "z": return ["$", 2];
    case "p": case "P": {
      const m = /^\\[pP]\{(\^?)([A-Za-z_ =]+)\}/.exec(src.slice(i));
      if (!m) throw new PeelError("TOKENIZER", `tokenizer.json: regex ${JSON.stringify(src)} has a malformed \\p{...} at ${i}`);
      const negated = (n === "P") !== (m[1] === "^");
      return [`\\${negated ? "P" : "p"}{${m[2] as string}}`, m[0].length];
    }
    case "x": {
      const m = /^\\x\{([0-9A-Fa-f]+)\}/.exec(src.slice(i));
      if (m) return [`\\u{${m[1] as string}}`, m[0].length];
      return [src.slice(i, i + 4), 4];
    }
    default:
      if (/[A-Za-z0-9]/.test(n)) return [`\\${n}`, 2]; // \n \r \t \b \u.... and back-references pass through
      if (SYNTAX.has(n) || (inClass && n === "-")) return [`\\${n}`, 2];
      return [n, 2]; // identity escape of a non-syntax character (JS u mode rejects "\'")
  }
}

function unsupportedNegated(src: string): never {
  throw new PeelError("UNSUPPORTED", `tokenizer.json: regex ${JSON.stringify(src)} uses \\W inside a character class, which has no JavaScript equivalent here`);
}

const cache = new Map<string, RegExp>();

/** Compiles an Oniguruma pattern once (global + unicode); throws a TOKENIZER error if it is not valid. */
export function compileOnig(src: string): RegExp {
  let re = cache.get(src);
  if (re) return re;
  const js = onigToJs(src);
  try {
    re = new RegExp(js, "gu");
  } catch (e) {
    throw new PeelError("TOKENIZER", `tokenizer.json: regex ${JSON.stringify(src)} could not be compiled (as ${JSON.stringify(js)}): ${(e as Error).message}`);
  }
  cache.set(src, re);
  return re;
}

/** A regex that matches the literal `s`. */
export function literalRegex(s: string): RegExp {
  return new RegExp(s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&"), "gu");
}
