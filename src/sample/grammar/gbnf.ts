/**
 * GBNF text → Grammar: the grammar language llama.cpp users write (`root ::= "yes" | "no"`), so their
 * grammars work here unchanged. Supported: rules `name ::= …`, `|` choices, `( … )` groups, string literals,
 * character classes `[a-z]` and `[^…]`, `.` (any character), the postfix operators `*` `+` `?` `{m}` `{m,}`
 * `{m,n}`, escapes `\n \r \t \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH`, and `#` comments. A rule's body may run over
 * several lines; it ends where the next `name ::=` begins. Repetition becomes helper rules here (nested
 * optionals for bounded counts, so a string has one parse), which keeps the matcher to plain sequences.
 * Not supported: llama.cpp's token references (`<[1234]>`, `<think>`), which name ids of one vocabulary.
 */

import { PeelError } from "../../util/errors.js";
import { checkGrammar, MAX_CODE_POINT, type CharSet, type Grammar, type GrammarElement, type GrammarRule } from "./grammar.js";

/** The most copies a `{m,n}` may ask for; larger counts are almost always a mistake and would build huge rules. */
const MAX_REPEAT = 10_000;

interface RuleDraft { name: string; alternatives: GrammarElement[][]; defined: boolean; usedAt: number }

/** Parses GBNF text into a checked Grammar whose start rule is `root`. */
export function compileGbnf(text: string): Grammar {
  const p = createParser(text);
  p.parseRules();
  return p.finish();
}

function createParser(src: string) {
  let pos = 0;
  const rules: RuleDraft[] = [];
  const byName = new Map<string, number>();

  const where = (at: number): string => {
    const before = src.slice(0, at);
    const line = before.split("\n").length;
    return `line ${line}, column ${at - before.lastIndexOf("\n")}`;
  };
  const fail = (msg: string, at = pos): never => {
    const shown = src.slice(at, at + 20).split("\n")[0] ?? "";
    throw new PeelError("INVALID_ARGUMENT", `GBNF: ${msg} at ${where(at)}${shown === "" ? " (end of text)" : ` (near "${shown}")`}`);
  };
  const isNameChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_-]/.test(ch);

  /** Skips blanks and comments; newlines too when `newlines` is true. */
  const skip = (newlines: boolean): void => {
    while (pos < src.length) {
      const ch = src[pos] as string;
      if (ch === "#") { while (pos < src.length && src[pos] !== "\n") pos++; continue; }
      if (ch === " " || ch === "\t" || ch === "\r" || (newlines && ch === "\n")) { pos++; continue; }
      break;
    }
  };
  /** At a newline outside parentheses: true when the rule ends here (end of text or another `name ::=`). */
  const ruleEndsHere = (): boolean => {
    const save = pos;
    skip(true);
    let end = pos;
    while (isNameChar(src[end])) end++;
    let after = end;
    while (src[after] === " " || src[after] === "\t") after++;
    const ends = pos >= src.length || (end > pos && src.startsWith("::=", after));
    if (ends) pos = save;
    return ends;
  };

  const ruleIndex = (name: string, at: number): number => {
    let i = byName.get(name);
    if (i === undefined) {
      i = rules.length;
      rules.push({ name, alternatives: [], defined: false, usedAt: at });
      byName.set(name, i);
    }
    return i;
  };
  const helperRule = (base: string, alternatives: GrammarElement[][]): number => {
    rules.push({ name: `${base}_${rules.length}`, alternatives, defined: true, usedAt: pos });
    return rules.length - 1;
  };

  const parseName = (): string => {
    const start = pos;
    while (isNameChar(src[pos])) pos++;
    if (pos === start) fail("expected a rule name (letters, digits, '-' or '_')");
    return src.slice(start, pos);
  };

  const hex = (digits: number): number => {
    const h = src.slice(pos, pos + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(h)) fail(`expected ${digits} hex digits after the escape`);
    pos += digits;
    return parseInt(h, 16);
  };
  /** One character of a literal or class, escapes decoded; returns its code point. */
  const parseChar = (): number => {
    if (pos >= src.length) fail("unterminated literal or character class");
    if (src[pos] !== "\\") {
      const cp = src.codePointAt(pos) as number;
      pos += cp > 0xffff ? 2 : 1;
      return cp;
    }
    pos++;
    const e = src[pos++];
    switch (e) {
      case "n": return 10;
      case "r": return 13;
      case "t": return 9;
      case "x": return hex(2);
      case "u": return hex(4);
      case "U": { const v = hex(8); if (v > MAX_CODE_POINT) fail("\\U escape beyond U+10FFFF"); return v; }
      case "\\": case "\"": case "[": case "]": case "-": case "^": case "/": case "'": return (e as string).codePointAt(0) as number;
      default: return fail(`unknown escape "\\${e ?? ""}" (known: \\n \\r \\t \\\\ \\" \\[ \\] \\xHH \\uHHHH \\UHHHHHHHH)`, pos - 2);
    }
  };

  const parseLiteral = (): GrammarElement[] => {
    pos++; // opening quote
    const out: GrammarElement[] = [];
    while (src[pos] !== "\"") {
      if (src[pos] === "\n" || pos >= src.length) fail("unterminated string literal");
      const c = parseChar();
      out.push({ kind: "chars", set: { ranges: [c, c], negated: false } });
    }
    pos++;
    return out;
  };

  const parseClass = (): CharSet => {
    const start = pos;
    pos++; // [
    const negated = src[pos] === "^";
    if (negated) pos++;
    const ranges: number[] = [];
    while (src[pos] !== "]") {
      if (pos >= src.length) fail("unterminated character class", start);
      const lo = parseChar();
      let hi = lo;
      if (src[pos] === "-" && src[pos + 1] !== "]" && pos + 1 < src.length) {
        pos++;
        hi = parseChar();
        if (hi < lo) fail(`character range is backwards (U+${lo.toString(16)} > U+${hi.toString(16)})`);
      }
      ranges.push(lo, hi);
    }
    pos++;
    return { ranges, negated };
  };

  const parseBraces = (): [number, number] => {
    const start = pos;
    pos++; // {
    const num = (): number | undefined => {
      skip(false);
      const m = /^\d+/.exec(src.slice(pos));
      if (!m) return undefined;
      pos += m[0].length;
      skip(false);
      return Number(m[0]);
    };
    const min = num();
    if (min === undefined) fail("expected a count after '{'");
    let max = min as number;
    if (src[pos] === ",") { pos++; max = num() ?? Infinity; }
    if (src[pos] !== "}") fail("expected '}' to close the repetition count");
    pos++;
    if ((min as number) > max) fail(`repetition {${min},${max}} has its minimum above its maximum`, start);
    if ((min as number) > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) fail(`repetition counts above ${MAX_REPEAT} are refused`, start);
    return [min as number, max];
  };

  /** x{min,max} as plain elements: min copies, then a star rule or a chain of nested optionals. */
  const repeat = (base: string, item: GrammarElement[], min: number, max: number): GrammarElement[] => {
    const out: GrammarElement[] = [];
    for (let i = 0; i < min; i++) out.push(...item);
    if (max === Infinity) {
      const star = helperRule(base, []);
      (rules[star] as RuleDraft).alternatives.push([...item, { kind: "rule", rule: star }], []);
      out.push({ kind: "rule", rule: star });
    } else if (max > min) {
      let inner = -1;
      for (let k = 0; k < max - min; k++) {
        inner = helperRule(base, [inner < 0 ? [...item] : [...item, { kind: "rule", rule: inner }], []]);
      }
      out.push({ kind: "rule", rule: inner });
    }
    return out;
  };

  const parseSequence = (base: string, nested: boolean): GrammarElement[] => {
    const seq: GrammarElement[] = [];
    let last: GrammarElement[] | undefined; // the item a postfix operator applies to
    for (;;) {
      skip(nested);
      if (!nested && src[pos] === "\n") {
        if (ruleEndsHere()) return seq;
        continue;
      }
      const ch = src[pos];
      let item: GrammarElement[] | undefined;
      if (ch === undefined || ch === "|" || ch === ")") return seq;
      else if (ch === "\"") item = parseLiteral();
      else if (ch === "[") item = [{ kind: "chars", set: parseClass() }];
      else if (ch === ".") { pos++; item = [{ kind: "chars", set: { ranges: [], negated: true } }]; }
      else if (ch === "(") {
        const open = pos;
        pos++;
        const alts = parseAlternatives(base, true);
        skip(true);
        if (src[pos] !== ")") fail("expected ')' to close the group opened", open);
        pos++;
        item = [{ kind: "rule", rule: helperRule(base, alts) }];
      } else if (ch === "<") fail("token references (<[id]> or <token>) are not supported; write the token's text as a literal");
      else if (isNameChar(ch)) { const at = pos; item = [{ kind: "rule", rule: ruleIndex(parseName(), at) }]; }
      else if (ch === "*" || ch === "+" || ch === "?" || ch === "{") {
        if (last === undefined) fail(`'${ch}' has nothing before it to repeat`);
        const [min, max] = ch === "{" ? parseBraces() : (pos++, ch === "*" ? [0, Infinity] : ch === "+" ? [1, Infinity] : [0, 1]);
        seq.splice(seq.length - (last as GrammarElement[]).length, (last as GrammarElement[]).length, ...repeat(base, last as GrammarElement[], min, max));
        last = undefined;
        continue;
      } else fail(`unexpected character '${ch}'`);
      seq.push(...(item as GrammarElement[]));
      last = item;
    }
  };

  function parseAlternatives(base: string, nested: boolean): GrammarElement[][] {
    const alts = [parseSequence(base, nested)];
    while (src[pos] === "|") {
      pos++;
      skip(true);
      alts.push(parseSequence(base, nested));
    }
    return alts;
  }

  return {
    parseRules(): void {
      for (;;) {
        skip(true);
        if (pos >= src.length) return;
        const at = pos;
        const name = parseName();
        skip(false);
        if (!src.startsWith("::=", pos)) fail(`expected '::=' after the rule name "${name}"`);
        pos += 3;
        skip(true);
        const i = ruleIndex(name, at);
        const draft = rules[i] as RuleDraft;
        if (draft.defined) fail(`rule "${name}" is defined twice`, at);
        draft.defined = true;
        draft.alternatives = parseAlternatives(name, false);
        if (src[pos] === ")") fail("')' without a matching '('");
      }
    },
    finish(): Grammar {
      for (const r of rules) if (!r.defined) fail(`rule "${r.name}" is used but never defined`, r.usedAt);
      const root = byName.get("root");
      if (root === undefined) throw new PeelError("INVALID_ARGUMENT", "GBNF: no rule named \"root\"; a grammar starts at `root ::= …`");
      const out: GrammarRule[] = rules.map((r) => ({ name: r.name, alternatives: r.alternatives }));
      const g: Grammar = { rules: out, root, source: src };
      checkGrammar(g);
      return g;
    },
  };
}
