/**
 * The sampler stage that enforces a grammar: `apply` removes every candidate the grammar refuses (llama.cpp
 * sets their logits to −Infinity; removing them is the same for every later stage), `accept` advances the grammar over the chosen token, and end-of-generation tokens are allowed only
 * once the grammar is complete. A whole-vocabulary mask walks the token trie with the grammar's stacks,
 * dropping a subtree as soon as its prefix is refused, and is cached until the state changes; a few candidates
 * are checked one by one instead. `allows(id)` checks one token, so the sampler can try the chain's own pick
 * first and mask only when the grammar refuses it (llama.cpp's order). Does not pick tokens itself.
 */

import { PeelError } from "../../util/errors.js";
import type { Candidates } from "../candidates.js";
import type { SamplerStage } from "../stages.js";
import { checkGrammar, type Grammar } from "./grammar.js";
import { createGrammarEngine, createGrammarMatcher, createStackList, partialRange, type GrammarMatcher, type PartialChar, type StackList } from "./matcher.js";
import { TokenClass, type TokenTable } from "./token-table.js";

export interface GrammarStage extends SamplerStage {
  readonly matcher: GrammarMatcher;
  /** True when the grammar accepts token `id` next. */
  allows(id: number): boolean;
  /** Advances the grammar over a generated token (`fromPrompt`: a prompt token, which the grammar ignores). */
  accept(id: number, fromPrompt?: boolean): void;
  reset(): void;
  /** Fills mask[id] = 1 for every token allowed next, 0 otherwise (vocabSize); returns how many are allowed. */
  computeMask(mask: Uint8Array): number;
}

/** Masks kept per stage (oldest dropped first): 16 × vocabSize bytes, 4 MiB at 262k tokens. */
const MASK_CACHE_ENTRIES = 16;
/** Below this many candidates, checking each is cheaper than walking the trie. */
const PER_TOKEN_LIMIT = 256;

export function grammarStage(grammar: Grammar, table: TokenTable, extraEndTokens: readonly number[] = []): GrammarStage {
  checkGrammar(grammar); // compileGbnf checked it already; a grammar built by hand has not been
  const matcher = createGrammarMatcher(createGrammarEngine(grammar));
  const engine = matcher.engine;
  const isEnd = new Uint8Array(table.size);
  for (const id of [...table.endOfGeneration, ...extraEndTokens]) if (id >= 0 && id < table.size) isEnd[id] = 1;
  const mask = new Uint8Array(table.size);
  let maskValid = false, maskCount = 0;
  const levels: StackList[] = [];
  const level = (d: number): StackList => (levels[d] ??= createStackList());

  const tail = (id: number): PartialChar | undefined => (table.tailRemain[id] === 0 ? undefined : { value: table.tailValue[id] as number, remain: table.tailRemain[id] as number, min: table.tailMin[id] as number });
  const allows = (id: number): boolean => {
    if (id < 0 || id >= table.size) return false;
    if (isEnd[id] === 1) return matcher.isComplete();
    switch (table.cls[id]) {
      case TokenClass.text: return matcher.allowsCodePoints(table.cps, table.cpStart[id] as number, table.cpStart[id + 1] as number, tail(id));
      case TokenClass.continuation: {
        const k = continuationIndex(table, id);
        return matcher.partial.remain > 0 && matcher.allows(table.continuationBytes[k] as Uint8Array);
      }
      default: return false;
    }
  };

  /** Marks allowed text tokens under trie node `node`, whose prefix leaves the stacks level(d). */
  const walk = (node: number, d: number): void => {
    const t = table.trie, S = level(d);
    const count = t.endCount[node] as number;
    for (let k = t.endStart[node] as number, e = k + count; k < e; k++) {
      const id = t.ends[k] as number;
      if (table.tailRemain[id] === 0) { if (d > 0) { mask[id] = 1; maskCount++; } continue; }
      const [lo, hi] = partialRange(tail(id) as PartialChar);
      for (let i = 0; i < S.size; i++) if (engine.topIntersects(S.data[i] as number, lo, hi)) { mask[id] = 1; maskCount++; break; }
    }
    const next = level(d + 1);
    for (let c = t.firstChild[node] as number; c !== 0; c = t.nextSibling[c] as number) {
      if (engine.advance(S, t.char[c] as number, next) > 0) walk(c, d + 1);
    }
  };

  // masks by stack set: which tokens are allowed depends only on the stacks (when no character is pending), and
  // loops such as a string's characters come back to the same stacks step after step
  const cache = new Map<string, { mask: Uint8Array; count: number }>();
  const stackKey = (): string => {
    const l = matcher.stacks;
    return Array.from(l.data.subarray(0, l.size)).sort((a, b) => a - b).join(",");
  };

  const computeMask = (out: Uint8Array): number => {
    const key = !maskValid && matcher.partial.remain === 0 ? stackKey() : undefined;
    const hit = key === undefined ? undefined : cache.get(key);
    if (hit !== undefined) {
      mask.set(hit.mask);
      maskCount = hit.count;
      maskValid = true;
    }
    if (!maskValid) {
      mask.fill(0);
      maskCount = 0;
      if (matcher.partial.remain > 0) {
        // only tokens made of continuation bytes can finish the pending character
        table.continuation.forEach((id, k) => {
          if (matcher.allows(table.continuationBytes[k] as Uint8Array)) { mask[id] = 1; maskCount++; }
        });
      } else {
        const root = level(0);
        root.size = 0;
        for (let i = 0; i < matcher.stacks.size; i++) {
          if (root.size === root.data.length) { const b = new Int32Array(root.size * 2); b.set(root.data); root.data = b; }
          root.data[root.size++] = matcher.stacks.data[i] as number;
        }
        walk(0, 0);
      }
      if (matcher.isComplete()) for (let id = 0; id < table.size; id++) if (isEnd[id] === 1 && mask[id] === 0) { mask[id] = 1; maskCount++; }
      maskValid = true;
      if (key !== undefined) {
        if (cache.size >= MASK_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
        cache.set(key, { mask: mask.slice(), count: maskCount });
      }
    }
    if (out !== mask) out.set(mask);
    return maskCount;
  };

  const deadEnd = () => new PeelError("INVALID_ARGUMENT", "grammar: no token of the vocabulary can continue the grammar from here (and it is not complete, so end-of-generation is refused too); the grammar needs text this tokenizer cannot spell");

  return {
    name: "grammar",
    matcher,
    allows,
    computeMask,
    apply(c: Candidates) {
      // refused candidates leave the record (kept ones stay in order, so a sorted record stays sorted): the
      // same as llama.cpp's −∞ logits for every later stage, without a later draw ever landing on one
      const perToken = c.size <= PER_TOKEN_LIMIT && !maskValid;
      if (!perToken) computeMask(mask);
      const n = c.size;
      let kept = 0;
      for (let i = 0; i < n; i++) {
        const id = c.ids[i] as number;
        if (perToken ? !allows(id) : mask[id] !== 1) continue;
        c.ids[kept] = id;
        c.logits[kept] = c.logits[i] as number;
        c.probs[kept] = c.probs[i] as number;
        kept++;
      }
      if (kept === 0) {
        if (n === table.size) throw deadEnd();
        // every candidate left in play is refused (a stage before this one narrowed them): say so plainly
        throw new PeelError("INVALID_ARGUMENT", `grammar: none of the ${n} candidates left by earlier stages continues the grammar; apply the grammar before truncating stages`);
      }
      c.size = kept;
    },
    accept(id: number, fromPrompt = false) {
      if (fromPrompt || isEnd[id] === 1) return;
      let ok: boolean;
      switch (table.cls[id]) {
        case TokenClass.text: ok = matcher.acceptCodePoints(table.cps, table.cpStart[id] as number, table.cpStart[id + 1] as number, tail(id)); break;
        case TokenClass.continuation: ok = matcher.partial.remain > 0 && matcher.acceptToken(table.continuationBytes[continuationIndex(table, id)] as Uint8Array); break;
        default: ok = false;
      }
      if (!ok) throw new PeelError("INVALID_ARGUMENT", `grammar: token ${id} does not continue the grammar from its current state`);
      maskValid = false;
    },
    reset() {
      matcher.reset();
      maskValid = false;
    },
  };
}

/** Where token `id` sits in table.continuation (binary search: the list is in id order). */
function continuationIndex(table: TokenTable, id: number): number {
  const a = table.continuation;
  let lo = 0, hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1, v = a[mid] as number;
    if (v === id) return mid;
    if (v < id) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}
