/**
 * Hugging Face post-processors, parsed from tokenizer.json and applied to one encoded sequence:
 * TemplateProcessing (its `single` template), BertProcessing ([CLS] A [SEP]), RobertaProcessing (<s> A </s>,
 * with offset trimming), ByteLevel (offset trimming only) and Sequence. Added special tokens get the
 * empty offsets (0, 0) as in HF. Pair templates are parsed for validation but Peel encodes single texts.
 */

import { PeelError } from "../../util/errors.js";
import { byteToUnicode } from "../utf8.js";
import { arr, bool, int, isObject, obj, opt, str, typeOf, type JsonObject } from "./json.js";

/** One encoded sequence: ids and, when tracked, [start, end) offsets per id. */
export interface Encoded {
  ids: number[];
  offsets: Array<[number, number]> | undefined;
  /** With offsets: the text an added token matched (lstrip/rstrip spaces included), by position. */
  matched?: Map<number, string>;
  /** With offsets: the original input, for HF's code-point offset arithmetic. */
  text?: string;
}

export interface PostProcessor {
  /** Ids the processor adds around a single sequence (for bos/eos discovery). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  apply(e: Encoded, addSpecial: boolean, pieceOf: (id: number) => string): Encoded;
}

const TYPES = ["TemplateProcessing", "BertProcessing", "RobertaProcessing", "ByteLevel", "Sequence"] as const;

export function parsePostProcessor(v: unknown, path = "post_processor"): PostProcessor | undefined {
  if (v === null || v === undefined) return undefined;
  const o = obj(v, path);
  const type = typeOf(o, path, "post-processor", TYPES);
  switch (type) {
    case "TemplateProcessing": return template(o, path);
    case "BertProcessing": {
      const [cls, sep] = [tokenPair(o["cls"], `${path}.cls`), tokenPair(o["sep"], `${path}.sep`)];
      return wrap([cls], [sep], undefined);
    }
    case "RobertaProcessing": {
      const [cls, sep] = [tokenPair(o["cls"], `${path}.cls`), tokenPair(o["sep"], `${path}.sep`)];
      const trim = opt(o["trim_offsets"], true, bool, `${path}.trim_offsets`);
      const prefixSpace = opt(o["add_prefix_space"], true, bool, `${path}.add_prefix_space`);
      return wrap([cls], [sep], trim ? prefixSpace : undefined);
    }
    case "ByteLevel": {
      const trim = opt(o["trim_offsets"], true, bool, `${path}.trim_offsets`);
      const prefixSpace = opt(o["add_prefix_space"], true, bool, `${path}.add_prefix_space`);
      return wrap([], [], trim ? prefixSpace : undefined);
    }
    case "Sequence": {
      const steps = arr(o["processors"], `${path}.processors`).map((p, i) => parsePostProcessor(p, `${path}.processors[${i}]`)).filter((p): p is PostProcessor => p !== undefined);
      return {
        prefixIds: steps.flatMap((s) => s.prefixIds),
        suffixIds: steps.flatMap((s) => s.suffixIds),
        apply: (e, add, pieceOf) => steps.reduce((x, s) => s.apply(x, add, pieceOf), e),
      };
    }
  }
}

function tokenPair(v: unknown, path: string): number {
  const pair = arr(v, path);
  str(pair[0], `${path}[0]`);
  return int(pair[1], `${path}[1]`);
}

/** Adds `prefix`/`suffix` ids; with `trimPrefixSpace` defined, trims offsets as HF's process_offsets. */
function wrap(prefix: number[], suffix: number[], trimPrefixSpace: boolean | undefined): PostProcessor {
  return {
    prefixIds: prefix, suffixIds: suffix,
    apply(e, addSpecial, pieceOf) {
      if (trimPrefixSpace !== undefined && e.offsets) trimOffsets(e, trimPrefixSpace, pieceOf);
      if (!addSpecial || (prefix.length === 0 && suffix.length === 0)) return e;
      const zero = (n: number): Array<[number, number]> => Array.from({ length: n }, (): [number, number] => [0, 0]);
      const matched = e.matched && new Map([...e.matched].map(([i, v]) => [i + prefix.length, v]));
      return { ...e, ids: [...prefix, ...e.ids, ...suffix], offsets: e.offsets && [...zero(prefix.length), ...e.offsets, ...zero(suffix.length)], ...(matched ? { matched } : {}) };
    },
  };
}

const SPACE_CHAR = byteToUnicode()[0x20] as string;
const isSpaceLike = (ch: string): boolean => ch === SPACE_CHAR || /^\p{White_Space}$/u.test(ch);

/** Code-point steps from `u` in `text`, forward (k > 0) or backward, not past `limit`. */
function stepChars(text: string, u: number, k: number, limit: number): number {
  let at = u;
  for (let n = 0; n < Math.abs(k); n++) {
    if (k > 0) { if (at >= limit) break; at += (text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1; }
    else { if (at <= limit) break; at -= at >= 2 && /[\uDC00-\uDFFF]/.test(text[at - 1] ?? "") && /[\uD800-\uDBFF]/.test(text[at - 2] ?? "") ? 2 : 1; }
  }
  return k > 0 ? Math.min(at, limit) : Math.max(at, limit);
}

/**
 * HF's process_offsets: offsets move past the leading/trailing (byte-level) spaces of each token's text.
 * HF counts in code points of the original text, so the steps are taken there.
 */
function trimOffsets(e: Encoded, addPrefixSpace: boolean, pieceOf: (id: number) => string): void {
  const offsets = e.offsets as Array<[number, number]>;
  const text = e.text ?? "";
  e.ids.forEach((id, i) => {
    const chars = [...(e.matched?.get(i) ?? pieceOf(id))];
    let lead = 0;
    while (lead < chars.length && isSpaceLike(chars[lead] as string)) lead++;
    let trail = 0;
    while (trail < chars.length && isSpaceLike(chars[chars.length - 1 - trail] as string)) trail++;
    const off = offsets[i] as [number, number];
    if (lead > 0) {
      const isFirst = i === 0 || off[0] === 0;
      if (!(isFirst && addPrefixSpace && lead === 1)) off[0] = stepChars(text, off[0], lead, off[1]);
    }
    if (trail > 0 && off[1] >= trail) off[1] = stepChars(text, off[1], -trail, off[0]);
  });
}

type TemplateItem = { readonly special: readonly number[] } | { readonly sequence: "A" | "B" };

function template(o: JsonObject, path: string): PostProcessor {
  const specials = new Map<string, number[]>();
  const st = o["special_tokens"];
  if (st !== undefined && st !== null) {
    for (const [name, v] of Object.entries(obj(st, `${path}.special_tokens`))) {
      const so = obj(v, `${path}.special_tokens.${name}`);
      specials.set(name, arr(so["ids"], `${path}.special_tokens.${name}.ids`).map((x, i) => int(x, `${path}.special_tokens.${name}.ids[${i}]`)));
    }
  }
  const single = parseTemplate(o["single"], `${path}.single`, specials);
  if (o["pair"] !== undefined && o["pair"] !== null) parseTemplate(o["pair"], `${path}.pair`, specials);
  const at = single.findIndex((x) => "sequence" in x);
  const idsOf = (items: readonly TemplateItem[]): number[] => items.flatMap((x) => ("special" in x ? x.special : []));
  const prefix = idsOf(at < 0 ? single : single.slice(0, at));
  const suffix = at < 0 ? [] : idsOf(single.slice(at + 1));
  return wrap(prefix, suffix, undefined);
}

function parseTemplate(v: unknown, path: string, specials: ReadonlyMap<string, number[]>): TemplateItem[] {
  // A template is a list of pieces, or (older files) a string such as "[CLS] $A [SEP]".
  const items = typeof v === "string" ? v.split(/\s+/).filter((s) => s.length > 0) : arr(v, path);
  return items.map((item, i) => {
    const p = `${path}[${i}]`;
    if (typeof item === "string") {
      const m = /^\$(A|B)?(?::\d+)?$/.exec(item);
      if (m) return { sequence: m[1] === "B" ? "B" : "A" };
      return { special: specialIds(item.replace(/:\d+$/, ""), specials, p) };
    }
    const io = obj(item, p);
    if (isObject(io["Sequence"])) {
      const id = str(io["Sequence"]["id"], `${p}.Sequence.id`);
      if (id !== "A" && id !== "B") throw new PeelError("TOKENIZER", `tokenizer.json: ${p}.Sequence.id should be "A" or "B", found ${JSON.stringify(id)}`);
      return { sequence: id };
    }
    if (isObject(io["SpecialToken"])) return { special: specialIds(str(io["SpecialToken"]["id"], `${p}.SpecialToken.id`), specials, p) };
    throw new PeelError("TOKENIZER", `tokenizer.json: ${p} should be {"Sequence": ...} or {"SpecialToken": ...}`);
  });
}

function specialIds(name: string, specials: ReadonlyMap<string, number[]>, path: string): number[] {
  const ids = specials.get(name);
  if (ids === undefined) throw new PeelError("TOKENIZER", `tokenizer.json: ${path} uses the special token ${JSON.stringify(name)}, which post_processor.special_tokens does not define`);
  return ids;
}

