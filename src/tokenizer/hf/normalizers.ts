/**
 * Hugging Face normalizers, parsed from tokenizer.json and applied to an `Aligned` string: NFC, NFD,
 * NFKC, NFKD, Lowercase, StripAccents, Prepend, Replace, Strip, BertNormalizer and Sequence, with HF's
 * per-character semantics (lowercasing is per code point, so no final-sigma rule; accents are the Mark
 * characters), and Precompiled (a SentencePiece charsmap; precompiled.ts).
 */

import { PeelError } from "../../util/errors.js";
import { filterChars, mapChars, normalizeAligned, prependAligned, replaceAligned, sliceAligned, type Aligned } from "./aligned.js";
import { arr, bool, obj, opt, pattern, str, typeOf, type JsonObject } from "./json.js";
import { compileOnig } from "./regex.js";
import { precompiledNormalizer } from "./precompiled.js";

export type Normalizer = (a: Aligned) => Aligned;

const TYPES = ["NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents", "Prepend", "Replace", "Strip", "BertNormalizer", "Sequence", "Precompiled"] as const;

const WHITE = /^\p{White_Space}$/u;
const MARK = /^\p{M}$/u;
const MARK_NONSPACING = /^\p{Mn}$/u;
const OTHER = /^\p{C}$/u;

export const isWhitespace = (ch: string): boolean => WHITE.test(ch);

/** Parses the `normalizer` field (null means none). */
export function parseNormalizer(v: unknown, path = "normalizer"): Normalizer | undefined {
  if (v === null || v === undefined) return undefined;
  const o = obj(v, path);
  const type = typeOf(o, path, "normalizer", TYPES);
  switch (type) {
    case "NFC": case "NFD": case "NFKC": case "NFKD": return (a) => normalizeAligned(a, type);
    case "Lowercase": return lowercase;
    case "StripAccents": return (a) => filterChars(a, (ch) => !MARK.test(ch));
    case "Prepend": {
      const p = str(o["prepend"], `${path}.prepend`);
      return (a) => prependAligned(a, p);
    }
    case "Replace": return replaceNormalizer(o, path);
    case "Strip": {
      const left = opt(o["strip_left"], false, bool, `${path}.strip_left`);
      const right = opt(o["strip_right"], false, bool, `${path}.strip_right`);
      return (a) => strip(a, left, right);
    }
    case "BertNormalizer": return bertNormalizer(o, path);
    case "Sequence": {
      const list = arr(o["normalizers"], `${path}.normalizers`).map((n, i) => parseNormalizer(n, `${path}.normalizers[${i}]`));
      const steps = list.filter((n): n is Normalizer => n !== undefined);
      return (a) => steps.reduce((x, f) => f(x), a);
    }
    case "Precompiled": {
      const map = o["precompiled_charsmap"];
      if (map === null || map === undefined) return undefined; // HF writes null for a model with no charsmap
      return precompiledNormalizer(str(map, `${path}.precompiled_charsmap`));
    }
  }
}

const lowercase: Normalizer = (a) => {
  const lower = a.text.toLowerCase();
  // Fast path: per-code-point lowercasing equals whole-string lowercasing unless a capital sigma is present.
  if (a.starts === undefined && lower.length === a.text.length && !a.text.includes("\u03a3")) return { text: lower, starts: undefined, ends: undefined };
  return mapChars(a, (ch) => ch.toLowerCase());
};

function replaceNormalizer(o: JsonObject, path: string): Normalizer {
  const p = pattern(o["pattern"], `${path}.pattern`);
  const content = str(o["content"], `${path}.content`);
  const find = p.kind === "string" ? p.value : compileOnig(p.value);
  return (a) => replaceAligned(a, find, content);
}

export function strip(a: Aligned, left: boolean, right: boolean): Aligned {
  const t = a.text;
  let s = 0;
  let e = t.length;
  if (left) while (s < e && isWhitespace(String.fromCodePoint(t.codePointAt(s) ?? 0))) s += (t.codePointAt(s) ?? 0) > 0xffff ? 2 : 1;
  if (right) {
    while (e > s) {
      const lowSur = e >= 2 && /[\uDC00-\uDFFF]/.test(t[e - 1] ?? "") && /[\uD800-\uDBFF]/.test(t[e - 2] ?? "");
      const ch = lowSur ? t.slice(e - 2, e) : t.slice(e - 1, e);
      if (!isWhitespace(ch)) break;
      e -= ch.length;
    }
  }
  return s === 0 && e === t.length ? a : sliceAligned(a, s, e);
}

function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

function bertNormalizer(o: JsonObject, path: string): Normalizer {
  const cleanText = opt(o["clean_text"], true, bool, `${path}.clean_text`);
  const chinese = opt(o["handle_chinese_chars"], true, bool, `${path}.handle_chinese_chars`);
  const lower = opt(o["lowercase"], true, bool, `${path}.lowercase`);
  const stripAccents = opt(o["strip_accents"], lower, bool, `${path}.strip_accents`);
  return (input) => {
    let a = input;
    if (cleanText) {
      a = mapChars(a, (ch) => {
        if (ch === "\t" || ch === "\n" || ch === "\r") return " ";
        const cp = ch.codePointAt(0) ?? 0;
        if (cp === 0 || cp === 0xfffd || OTHER.test(ch)) return "";
        return isWhitespace(ch) ? " " : ch;
      });
    }
    if (chinese) a = mapChars(a, (ch) => (isChineseChar(ch.codePointAt(0) ?? 0) ? ` ${ch} ` : ch));
    if (stripAccents) a = filterChars(normalizeAligned(a, "NFD"), (ch) => !MARK_NONSPACING.test(ch));
    if (lower) a = lowercase(a);
    return a;
  };
}
