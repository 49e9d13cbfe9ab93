/**
 * The grammar record that constrained sampling runs on: a set of rules, each a list of alternatives, each a
 * sequence of elements that either match one code point from a character set or expand another rule. This is
 * the shape of llama.cpp's GBNF after parsing; repetition (`*`, `+`, `?`, `{m,n}`) has already been rewritten
 * into helper rules by whoever built the grammar (gbnf.ts), so the matcher sees only sequences and choices.
 * Also the checks every grammar passes before use (undefined rules, left recursion). No parsing, no matching.
 */

import { PeelError } from "../../util/errors.js";

/** Inclusive code point ranges as pairs [lo0, hi0, lo1, hi1, …]; a negated set matches code points outside them. */
export interface CharSet {
  readonly ranges: readonly number[];
  readonly negated: boolean;
}

export type GrammarElement =
  | { readonly kind: "chars"; readonly set: CharSet }
  | { readonly kind: "rule"; readonly rule: number };

export type GrammarSequence = readonly GrammarElement[];

export interface GrammarRule {
  readonly name: string;
  /** The choices; an empty sequence matches the empty string. */
  readonly alternatives: readonly GrammarSequence[];
}

export interface Grammar {
  readonly rules: readonly GrammarRule[];
  /** Index of the start rule (GBNF's `root`). */
  readonly root: number;
  /** The GBNF text this grammar came from, when it came from text (shown in errors and by the CLI). */
  readonly source?: string;
}

export const MAX_CODE_POINT = 0x10ffff;

/** True when the set holds code point `c`. */
export function charSetHas(set: CharSet, c: number): boolean {
  const r = set.ranges;
  let inside = false;
  for (let i = 0; i < r.length; i += 2) {
    if (c >= (r[i] as number) && c <= (r[i + 1] as number)) { inside = true; break; }
  }
  return inside !== set.negated;
}

/** True when the set holds at least one code point in [lo, hi]. */
export function charSetIntersects(set: CharSet, lo: number, hi: number): boolean {
  if (lo > hi) return false;
  const r = set.ranges;
  if (!set.negated) {
    for (let i = 0; i < r.length; i += 2) if ((r[i] as number) <= hi && (r[i + 1] as number) >= lo) return true;
    return false;
  }
  // negated: some code point of [lo, hi] is left uncovered by the ranges (merge them in order)
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i] as number, r[i + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  let next = lo;
  for (const [a, b] of pairs) {
    if (b < next) continue;
    if (a > next) return true;
    next = b + 1;
    if (next > hi) return false;
  }
  return next <= hi;
}

/** Rules that can match the empty string (a fixed point over the alternatives). */
export function nullableRules(g: Grammar): boolean[] {
  const nullable = g.rules.map(() => false);
  for (let changed = true; changed;) {
    changed = false;
    g.rules.forEach((rule, i) => {
      if (nullable[i]) return;
      if (rule.alternatives.some((seq) => seq.every((e) => e.kind === "rule" && nullable[e.rule]))) { nullable[i] = true; changed = true; }
    });
  }
  return nullable;
}

/**
 * Refuses grammars the matcher cannot run: a reference to a rule index that does not exist, and left recursion
 * (a rule that can reach itself without consuming a character), which would expand forever, as llama.cpp does.
 */
export function checkGrammar(g: Grammar): void {
  const n = g.rules.length;
  if (!(g.root >= 0 && g.root < n)) throw new PeelError("INVALID_ARGUMENT", `grammar: the root rule index ${g.root} is outside the ${n} rules`);
  for (const rule of g.rules) {
    for (const seq of rule.alternatives) {
      for (const e of seq) {
        if (e.kind === "rule" && !(e.rule >= 0 && e.rule < n)) throw new PeelError("INVALID_ARGUMENT", `grammar: rule "${rule.name}" refers to rule index ${e.rule}, and there are ${n} rules`);
        if (e.kind === "chars" && e.set.ranges.length % 2 !== 0) throw new PeelError("INVALID_ARGUMENT", `grammar: rule "${rule.name}" has a character set with an odd number of range bounds`);
      }
    }
  }
  const nullable = nullableRules(g);
  // edges: rule → rules it may expand before consuming anything
  const first = g.rules.map((rule) => {
    const out = new Set<number>();
    for (const seq of rule.alternatives) {
      for (const e of seq) {
        if (e.kind === "chars") break;
        out.add(e.rule);
        if (!nullable[e.rule]) break;
      }
    }
    return [...out];
  });
  const state = new Uint8Array(n); // 0 unseen, 1 on the path, 2 done
  const visit = (i: number, path: number[]): void => {
    state[i] = 1;
    path.push(i);
    for (const j of first[i] ?? []) {
      if (state[j] === 1) {
        const cycle = [...path.slice(path.indexOf(j)), j].map((k) => g.rules[k]?.name).join(" → ");
        throw new PeelError("INVALID_ARGUMENT", `grammar: left recursion (${cycle}): a rule reaches itself before matching any character; rewrite it with repetition, e.g. x ::= y ("," y)*`);
      }
      if (state[j] === 0) visit(j, path);
    }
    path.pop();
    state[i] = 2;
  };
  for (let i = 0; i < n; i++) if (state[i] === 0) visit(i, []);
}
