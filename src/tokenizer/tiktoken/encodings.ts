/**
 * The OpenAI encodings tiktoken defines (tiktoken_ext/openai_public.py): each one's split pattern, written
 * here as a JavaScript regex with the same matches, and its special tokens. The rank files themselves are
 * not here (load.node.ts reads them). Also `patternFromTiktoken`, which turns a pattern written for
 * tiktoken's Rust regex engine into a JavaScript one where the two differ only in spelling.
 *
 * Spelling differences handled: `\s`/`\S` are Unicode White_Space in Rust but not in JavaScript (JS adds
 * U+FEFF and lacks U+0085), so they become \p{White_Space}/\P{White_Space}; `(?i:...)` (no inline flags
 * in Node 20) becomes explicit case classes, with Unicode simple case folding as Rust applies it (s also
 * matches U+017F ſ, k also U+212A K). Possessive quantifiers and atomic groups have no JavaScript form and
 * are refused.
 */

import { PeelError } from "../../util/errors.js";

export interface TiktokenEncodingSpec {
  readonly name: string;
  /** Split pattern (flags "gu"). Text it does not match is dropped, as tiktoken drops it. */
  readonly pattern: RegExp;
  readonly specialTokens: Readonly<Record<string, number>>;
}

const WS = "\\p{White_Space}";
const NWS = "\\P{White_Space}";
/** `(?i:'s|'t|'re|'ve|'m|'ll|'d)` under Unicode simple case folding. */
const CONTRACTION = "'(?:[sS\\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])";
const UPPERISH = "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]";
const LOWERISH = "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]";

const R50K = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${WS}+(?!${NWS})|${WS}+`;
const CL100K = `${CONTRACTION}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${WS}*[\\r\\n]+|${WS}+(?!${NWS})|${WS}+`;
const O200K = [
  `[^\\r\\n\\p{L}\\p{N}]?${UPPERISH}*${LOWERISH}+(?:${CONTRACTION})?`,
  `[^\\r\\n\\p{L}\\p{N}]?${UPPERISH}+${LOWERISH}*(?:${CONTRACTION})?`,
  "\\p{N}{1,3}",
  ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n/]*`,
  `${WS}*[\\r\\n]+`,
  `${WS}+(?!${NWS})`,
  `${WS}+`,
].join("|");

const ENDOFTEXT = "<|endoftext|>";
const FIM_PREFIX = "<|fim_prefix|>";
const FIM_MIDDLE = "<|fim_middle|>";
const FIM_SUFFIX = "<|fim_suffix|>";
const ENDOFPROMPT = "<|endofprompt|>";

const SPECS = {
  r50k_base: { pattern: R50K, specialTokens: { [ENDOFTEXT]: 50256 } },
  p50k_base: { pattern: R50K, specialTokens: { [ENDOFTEXT]: 50256 } },
  p50k_edit: { pattern: R50K, specialTokens: { [ENDOFTEXT]: 50256, [FIM_PREFIX]: 50281, [FIM_MIDDLE]: 50282, [FIM_SUFFIX]: 50283 } },
  cl100k_base: {
    pattern: CL100K,
    specialTokens: { [ENDOFTEXT]: 100257, [FIM_PREFIX]: 100258, [FIM_MIDDLE]: 100259, [FIM_SUFFIX]: 100260, [ENDOFPROMPT]: 100276 },
  },
  o200k_base: { pattern: O200K, specialTokens: { [ENDOFTEXT]: 199999, [ENDOFPROMPT]: 200018 } },
} as const satisfies Record<string, { pattern: string; specialTokens: Record<string, number> }>;

export type TiktokenEncodingName = keyof typeof SPECS;

export const TIKTOKEN_ENCODING_NAMES: readonly TiktokenEncodingName[] = Object.keys(SPECS) as TiktokenEncodingName[];

/** The pattern and special tokens of a named encoding (its ranks come from its .tiktoken file). */
export function tiktokenEncodingSpec(name: string): TiktokenEncodingSpec {
  if (!Object.hasOwn(SPECS, name)) {
    throw new PeelError("UNSUPPORTED", `tiktoken: no built-in encoding ${JSON.stringify(name)}; known: ${TIKTOKEN_ENCODING_NAMES.join(", ")} (or pass a pattern and special tokens)`);
  }
  const spec = SPECS[name as TiktokenEncodingName];
  return { name, pattern: new RegExp(spec.pattern, "gu"), specialTokens: spec.specialTokens };
}

const FOLDS: Readonly<Record<string, string>> = { s: "sS\\u017F", k: "kK\\u212A" };
const foldClass = (c: string): string => FOLDS[c.toLowerCase()] ?? `${c.toLowerCase()}${c.toUpperCase()}`;
const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);

/**
 * Turns a tiktoken (Rust regex / fancy-regex) pattern into a JavaScript regex with flags "gu". Covers the
 * spellings the published encodings use; refuses possessive quantifiers and atomic groups.
 */
export function patternFromTiktoken(source: string): RegExp {
  const refuse = (): never => {
    throw new PeelError("UNSUPPORTED", `tiktoken: pattern ${JSON.stringify(source)} uses possessive quantifiers or atomic groups, which JavaScript regexes lack; pass a RegExp or a built-in encoding name instead`);
  };
  let out = "";
  let inClass = false;
  /** Depth of open groups; the depth at which each active (?i: group opened. */
  let depth = 0;
  const caseless: number[] = [];
  let afterQuantifier = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const quantified: boolean = afterQuantifier;
    afterQuantifier = false;
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      out += n === "s" ? WS : n === "S" ? NWS : `\\${n}`;
      i++;
      if ((n === "p" || n === "P" || n === "u" || n === "x") && source[i + 1] === "{") {
        const close = source.indexOf("}", i);
        out += source.slice(i + 1, close + 1);
        i = close;
      }
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += caseless.length > 0 && isAsciiLetter(c) && source[i + 1] !== "-" && source[i - 1] !== "-" ? foldClass(c) : c;
      continue;
    }
    if (c === "+" && quantified) refuse();
    if (c === "*" || c === "+" || c === "?") {
      afterQuantifier = !(c === "?" && quantified); // a lazy "?" ends the quantifier
      out += c;
      continue;
    }
    if (c === "{" && /^\{\d+(?:,\d*)?\}/.test(source.slice(i))) {
      const close = source.indexOf("}", i);
      out += source.slice(i, close + 1);
      i = close;
      afterQuantifier = true;
      continue;
    }
    if (c === "[") { inClass = true; out += c; continue; }
    if (c === "(") {
      depth++;
      if (source.startsWith("(?>", i)) refuse();
      if (source.startsWith("(?i:", i)) { caseless.push(depth); out += "(?:"; i += 3; continue; }
      if (source.startsWith("(?", i) && !/^\(\?(?::|=|!|<=|<!|<[A-Za-z])/.test(source.slice(i))) {
        throw new PeelError("UNSUPPORTED", `tiktoken: pattern ${JSON.stringify(source)} uses an inline flag group other than (?i:...)`);
      }
      out += c;
      continue;
    }
    if (c === ")") {
      if (caseless[caseless.length - 1] === depth) caseless.pop();
      depth--;
      out += c;
      continue;
    }
    out += caseless.length > 0 && isAsciiLetter(c) ? `[${foldClass(c)}]` : c;
  }
  try {
    return new RegExp(out, "gu");
  } catch (e) {
    throw new PeelError("TOKENIZER", `tiktoken: pattern ${JSON.stringify(source)} is not a valid regex here: ${(e as Error).message}`);
  }
}
