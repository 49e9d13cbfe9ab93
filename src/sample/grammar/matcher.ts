/**
 * The pushdown matcher that runs a Grammar one code point at a time, as llama.cpp's grammar engine does: the
 * state is a set of stacks, each a list of positions in the flattened rules (the top is a character set still
 * to match, the rest are return positions). Stacks are hash-consed into numbered nodes that share their tails,
 * so a stack is one integer, equal stacks are equal integers, and what follows a match on a stack is computed
 * once and cached (it does not depend on which character matched). Bytes that end inside a UTF-8 character are
 * kept as a pending partial character, and stacks that could not match any completion of it are dropped.
 * This file knows nothing of tokens or vocabularies (token-table.ts, grammar-stage.ts).
 */

import { charSetHas, charSetIntersects, type CharSet, type Grammar } from "./grammar.js";

const END = 0, CHARS = 1, REF = 2;
/** The empty stack: the grammar has matched completely along this path. */
export const DONE = 0;

/** A growable list of stack ids (scratch the caller owns and reuses). */
export interface StackList { data: Int32Array; size: number }

export function createStackList(capacity = 16): StackList {
  return { data: new Int32Array(capacity), size: 0 };
}

function push(list: StackList, v: number): void {
  if (list.size === list.data.length) {
    const bigger = new Int32Array(list.data.length * 2);
    bigger.set(list.data);
    list.data = bigger;
  }
  list.data[list.size++] = v;
}

/** A grammar flattened for matching, with its stack nodes and caches. Shared by every state of one grammar. */
export interface GrammarEngine {
  /** The ready stacks of the start rule. */
  readonly initial: Int32Array;
  /** out ← stacks of `from` after matching code point c (deduplicated); returns out.size. */
  advance(from: StackList, c: number, out: StackList): number;
  /** True when the stack's top character set holds some code point in [lo, hi] (for partial UTF-8). */
  topIntersects(stack: number, lo: number, hi: number): boolean;
  /** True when the stack's top character set holds c. */
  topHas(stack: number, c: number): boolean;
  /** How many stack nodes exist (a measure of the work done so far). */
  readonly nodeCount: number;
}

export function createGrammarEngine(g: Grammar): GrammarEngine {
  // flatten: every alternative as its elements then END; ruleAlts[r] lists where r's alternatives start
  const kind: number[] = [], arg: number[] = [];
  const sets: CharSet[] = [];
  const ruleAlts: number[][] = g.rules.map(() => []);
  g.rules.forEach((rule, r) => {
    for (const seq of rule.alternatives) {
      (ruleAlts[r] as number[]).push(kind.length);
      for (const e of seq) {
        if (e.kind === "chars") { kind.push(CHARS); arg.push(sets.length); sets.push(e.set); }
        else { kind.push(REF); arg.push(e.rule); }
      }
      kind.push(END); arg.push(0);
    }
  });
  const K = Int32Array.from(kind), A = Int32Array.from(arg);
  // ASCII membership by table, the rest through the ranges
  const ascii = new Uint8Array(sets.length * 128);
  sets.forEach((s, i) => { for (let c = 0; c < 128; c++) ascii[i * 128 + c] = charSetHas(s, c) ? 1 : 0; });
  const has = (set: number, c: number): boolean => (c < 128 ? ascii[set * 128 + c] === 1 : charSetHas(sets[set] as CharSet, c));

  // stack nodes: node 0 is the empty stack; node n is position nodePos[n] on top of stack nodeParent[n]
  let nodePos = new Int32Array(1024), nodeParent = new Int32Array(1024);
  let count = 1;
  const intern = new Map<number, number>();
  const node = (pos: number, parent: number): number => {
    const key = pos * 4294967296 + parent;
    let id = intern.get(key);
    if (id === undefined) {
      if (count === nodePos.length) {
        const p = new Int32Array(count * 2), q = new Int32Array(count * 2);
        p.set(nodePos); q.set(nodeParent);
        nodePos = p; nodeParent = q;
      }
      id = count++;
      nodePos[id] = pos;
      nodeParent[id] = parent;
      intern.set(key, id);
    }
    return id;
  };

  /** The ready stacks (top is a character set, or the empty stack) reachable from `pos` over `parent`. */
  const expand = (pos: number, parent: number, out: number[], seen: Set<number>): void => {
    const key = pos * 4294967296 + parent;
    if (seen.has(key)) return;
    seen.add(key);
    switch (K[pos]) {
      case END:
        if (parent === DONE) { if (!out.includes(DONE)) out.push(DONE); }
        else expand(nodePos[parent] as number, nodeParent[parent] as number, out, seen);
        return;
      case CHARS: {
        const id = node(pos, parent);
        if (!out.includes(id)) out.push(id);
        return;
      }
      default: {
        // a reference: its alternatives return to pos + 1, or straight to the parent when pos + 1 ends the
        // sequence (a tail call), so right recursion like `x ::= "a" x | ""` keeps stacks from growing
        const ret = K[pos + 1] === END ? parent : node(pos + 1, parent);
        for (const alt of ruleAlts[A[pos] as number] as number[]) expand(alt, ret, out, seen);
      }
    }
  };

  const afterMatch: Array<Int32Array | undefined> = [];
  const next = (stack: number): Int32Array => {
    let r = afterMatch[stack];
    if (r === undefined) {
      const out: number[] = [];
      expand((nodePos[stack] as number) + 1, nodeParent[stack] as number, out, new Set());
      r = Int32Array.from(out);
      afterMatch[stack] = r;
    }
    return r;
  };

  const initialList: number[] = [];
  for (const alt of ruleAlts[g.root] as number[]) expand(alt, DONE, initialList, new Set());

  let mark = new Int32Array(1024);
  let generation = 0;
  return {
    initial: Int32Array.from(initialList),
    get nodeCount() { return count; },
    advance(from, c, out) {
      out.size = 0;
      if (++generation === 0x7fffffff) { mark.fill(0); generation = 1; }
      for (let i = 0; i < from.size; i++) {
        const s = from.data[i] as number;
        if (s === DONE || !has(A[nodePos[s] as number] as number, c)) continue;
        const after = next(s);
        for (let j = 0; j < after.length; j++) {
          const t = after[j] as number;
          if (t >= mark.length) { const m = new Int32Array(Math.max(t + 1, mark.length * 2)); m.set(mark); mark = m; }
          if (mark[t] === generation) continue;
          mark[t] = generation;
          push(out, t);
        }
      }
      return out.size;
    },
    topIntersects(stack, lo, hi) {
      return stack !== DONE && charSetIntersects(sets[A[nodePos[stack] as number] as number] as CharSet, lo, hi);
    },
    topHas(stack, c) {
      return stack !== DONE && has(A[nodePos[stack] as number] as number, c);
    },
  };
}

/**
 * Bits of a UTF-8 character still missing bytes: its value so far, how many continuation bytes remain, and the
 * smallest code point its length may encode (a shorter form would be an overlong encoding, which is refused).
 */
export interface PartialChar { value: number; remain: number; min: number }

/** The code points [lo, hi] a partial character can still become (lo > hi: none). */
export function partialRange(p: PartialChar): [number, number] {
  const lo = p.value * 2 ** (6 * p.remain), hi = lo + 2 ** (6 * p.remain) - 1;
  return [Math.max(lo, p.min), Math.min(hi, 0x10ffff)];
}

/**
 * Decodes bytes continuing from a pending partial character: calls `emit` per completed code point and leaves
 * `p` holding the new partial state. Returns false on bytes that are not UTF-8 (a stray continuation byte, a
 * lead byte while a character is pending, a byte no UTF-8 starts with).
 */
export function decodeUtf8(bytes: Uint8Array, p: PartialChar, emit: (c: number) => boolean): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (p.remain > 0) {
      if ((b & 0xc0) !== 0x80) return false;
      p.value = (p.value << 6) | (b & 0x3f);
      if (--p.remain === 0) {
        // overlong forms (C1 BB for "{"), UTF-16 surrogates and values past U+10FFFF are not UTF-8
        if (p.value < p.min || p.value > 0x10ffff || (p.value >= 0xd800 && p.value <= 0xdfff) || !emit(p.value)) return false;
      }
    } else if (b < 0x80) { if (!emit(b)) return false; }
    else if ((b & 0xe0) === 0xc0) { p.value = b & 0x1f; p.remain = 1; p.min = 0x80; }
    else if ((b & 0xf0) === 0xe0) { p.value = b & 0x0f; p.remain = 2; p.min = 0x800; }
    else if ((b & 0xf8) === 0xf0) { p.value = b & 0x07; p.remain = 3; p.min = 0x10000; }
    else return false;
  }
  return true;
}

/** One running match of a grammar: its stacks and any pending partial character. */
export interface GrammarMatcher {
  readonly engine: GrammarEngine;
  /** The current stacks (read-only view; do not keep across calls). */
  readonly stacks: StackList;
  readonly partial: Readonly<PartialChar>;
  /** Advances over a token's text or bytes if the grammar allows all of it; returns false (state unchanged) if not. */
  acceptToken(text: string | Uint8Array): boolean;
  /** True when the text or bytes could be accepted now, without changing the state. */
  allows(text: string | Uint8Array): boolean;
  /** acceptToken for text already decoded: code points cps[from, to) then an optional trailing partial character. */
  acceptCodePoints(cps: Int32Array, from: number, to: number, tail?: PartialChar): boolean;
  allowsCodePoints(cps: Int32Array, from: number, to: number, tail?: PartialChar): boolean;
  /** True when the input so far is a complete match (so end-of-generation is allowed). */
  isComplete(): boolean;
  /** True when the match is complete and nothing more can follow (only end-of-generation is left). */
  isFinished(): boolean;
  reset(): void;
}

const encoder = new TextEncoder();

export function createGrammarMatcher(g: Grammar | GrammarEngine): GrammarMatcher {
  const engine = "initial" in g ? g : createGrammarEngine(g);
  let cur = createStackList(), tmpA = createStackList(), tmpB = createStackList();
  const partial: PartialChar = { value: 0, remain: 0, min: 0 };
  const reset = () => {
    cur.size = 0;
    for (const s of engine.initial) push(cur, s);
    partial.value = 0; partial.remain = 0; partial.min = 0;
  };
  reset();
  /** Runs input from the current state (cur is left alone); returns the new stacks and partial state, or undefined on rejection. */
  const run = (feed: (p: PartialChar, emit: (c: number) => boolean) => boolean): { list: StackList; p: PartialChar } | undefined => {
    let src = cur, dst = tmpA;
    const p = { value: partial.value, remain: partial.remain, min: partial.min };
    const ok = feed(p, (c) => {
      const n = engine.advance(src, c, dst);
      src = dst;
      dst = dst === tmpA ? tmpB : tmpA;
      return n > 0;
    });
    if (!ok) return undefined;
    if (p.remain > 0) {
      // keep only stacks whose next character could still be one the partial bytes begin
      const [lo, hi] = partialRange(p);
      if (lo > hi) return undefined;
      const out = dst;
      out.size = 0;
      for (let i = 0; i < src.size; i++) if (engine.topIntersects(src.data[i] as number, lo, hi)) push(out, src.data[i] as number);
      if (out.size === 0) return undefined;
      src = out;
    }
    return { list: src, p };
  };
  const commit = (r: { list: StackList; p: PartialChar } | undefined): boolean => {
    if (r === undefined) return false;
    if (r.list !== cur) {
      // swap buffers so the new stacks become current and the old ones scratch
      const old = cur;
      cur = r.list;
      if (tmpA === cur) tmpA = old; else tmpB = old;
    }
    partial.value = r.p.value; partial.remain = r.p.remain; partial.min = r.p.min;
    return true;
  };
  const bytesFeed = (t: string | Uint8Array) => {
    const bytes = typeof t === "string" ? encoder.encode(t) : t;
    return (p: PartialChar, emit: (c: number) => boolean) => decodeUtf8(bytes, p, emit);
  };
  /** Code points [from, to) of `cps` then an optional partial character (only valid from a state with none pending). */
  const cpsFeed = (cps: Int32Array, from: number, to: number, tail: PartialChar | undefined) => (p: PartialChar, emit: (c: number) => boolean): boolean => {
    if (p.remain > 0 && (to > from || tail !== undefined)) return false;
    for (let i = from; i < to; i++) if (!emit(cps[i] as number)) return false;
    if (tail !== undefined) { p.value = tail.value; p.remain = tail.remain; p.min = tail.min; }
    return true;
  };
  return {
    engine,
    get stacks() { return cur; },
    get partial() { return partial; },
    acceptToken(text) { return commit(run(bytesFeed(text))); },
    allows(text) { return run(bytesFeed(text)) !== undefined; },
    acceptCodePoints(cps, from, to, tail) { return commit(run(cpsFeed(cps, from, to, tail))); },
    allowsCodePoints(cps, from, to, tail) { return run(cpsFeed(cps, from, to, tail)) !== undefined; },
    isComplete() {
      if (partial.remain > 0) return false;
      for (let i = 0; i < cur.size; i++) if (cur.data[i] === DONE) return true;
      return false;
    },
    isFinished() {
      if (partial.remain > 0 || cur.size === 0) return false;
      for (let i = 0; i < cur.size; i++) if (cur.data[i] !== DONE) return false;
      return true;
    },
    reset,
  };
}
