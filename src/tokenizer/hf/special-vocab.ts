/**
 * The special-token part of a converted GGUF vocabulary, decided as llama.cpp's converter decides it
 * (gguf-py's SpecialVocab): which ids are BOS/EOS/UNK/SEP/PAD/MASK (and EOT where a family asks), whether
 * BOS/EOS are added, and the chat template. Sources, in the converter's order, the first to name a kind
 * winning: tokenizer.json's TemplateProcessing post-processor (a leading special token means "add BOS",
 * a trailing one "add EOS"), tokenizer_config.json (`<kind>_token` looked up by content among tokenizer.json's
 * added tokens, `add_<kind>_token`, `chat_template`), then config.json's `<kind>_token_id`. Ids at or above
 * the vocabulary size are dropped, as the converter drops them.
 * Not here: BERT's RobertaProcessing and pair-template separators, normalizer flags (no family Peel
 * converts has them). Browser-safe (parsed JSON in).
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The kinds the converter looks for, and the GGUF key of each id (cls has none: the converter skips it). */
const ID_KEYS: Readonly<Record<string, string | undefined>> = {
  bos: "tokenizer.ggml.bos_token_id", eos: "tokenizer.ggml.eos_token_id", unk: "tokenizer.ggml.unknown_token_id",
  sep: "tokenizer.ggml.seperator_token_id", pad: "tokenizer.ggml.padding_token_id", cls: undefined,
  mask: "tokenizer.ggml.mask_token_id", eot: "tokenizer.ggml.eot_token_id", eom: "tokenizer.ggml.eom_token_id",
};
const ADD_KEYS: Readonly<Record<string, string>> = { bos: "tokenizer.ggml.add_bos_token", eos: "tokenizer.ggml.add_eos_token", sep: "tokenizer.ggml.add_sep_token" };
const DEFAULT_KINDS = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"];

export interface SpecialVocabSources {
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
  /** config.json of the checkpoint (its `<kind>_token_id` fields). */
  readonly modelConfig: unknown;
  /** The GGUF vocabulary size: ids at or above it are dropped. */
  readonly nVocab: number;
  /** Ids a family's converter sets itself (Gemma's EOT 107), used when no file names them. */
  readonly fixedIds?: Readonly<Record<string, number>>;
}

const specialTokenId = (entry: unknown): string | undefined => {
  const s = isObj(entry) ? entry["SpecialToken"] : undefined;
  return isObj(s) && typeof s["id"] === "string" ? s["id"] : undefined;
};
const tokenContent = (entry: unknown): string | undefined =>
  typeof entry === "string" ? entry : isObj(entry) && typeof entry["content"] === "string" ? entry["content"] : undefined;

/** The post-processor's verdict: which token texts lead and trail a single sequence. */
function templateSpecials(tokenizerJson: Json, config: Record<string, unknown> | undefined, kinds: string[], add: Map<string, boolean>): void {
  const post = tokenizerJson["post_processor"];
  if (!isObj(post)) return;
  const processors = Array.isArray(post["processors"]) ? post["processors"] : [post];
  for (const p of processors) {
    if (!isObj(p) || p["type"] !== "TemplateProcessing" || !Array.isArray(p["single"]) || p["single"].length <= 1) continue;
    const single: unknown[] = p["single"];
    const first = specialTokenId(single[0]);
    if (first !== undefined) {
      let bos = tokenContent(config?.["bos_token"]);
      const cls = tokenContent(config?.["cls_token"]);
      if (config === undefined) bos = first;
      else if (first !== bos && first !== cls) {
        if (bos === undefined) config["bos_token"] = bos = first;
        if (cls === undefined) config["cls_token"] = first;
      }
      add.set("bos", first === bos || first === cls);
    }
    const last = specialTokenId(single[single.length - 1]);
    if (last !== undefined) {
      const eos = tokenContent(config?.["eos_token"]);
      if (config !== undefined && last !== eos) {
        // the old EOS becomes end-of-turn (or end-of-message) rather than being lost
        const fallback = !kinds.includes("eot") ? "eot" : !kinds.includes("eom") ? "eom" : undefined;
        if (fallback !== undefined) { kinds.push(fallback); config[`${fallback}_token`] = eos; }
        config["eos_token"] = last;
      }
      add.set("eos", true);
    }
  }
}

/** GGUF entries for the special tokens, in the converter's order: ids, add flags, chat template(s). */
export function specialVocabEntries(src: SpecialVocabSources): Array<[string, GgufKv]> {
  const ids = new Map<string, number>();
  const add = new Map<string, boolean>();
  const kinds = [...DEFAULT_KINDS, ...Object.keys(src.fixedIds ?? {})];
  const set = (kind: string, id: unknown) => {
    if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id < src.nVocab && !ids.has(kind)) ids.set(kind, id);
  };
  const tj = isObj(src.tokenizerJson) ? src.tokenizerJson : undefined;
  const config = isObj(src.tokenizerConfig) ? { ...src.tokenizerConfig } : undefined;
  const out: Array<[string, GgufKv]> = [];
  if (tj !== undefined) {
    templateSpecials(tj, config, kinds, add);
    const added = Array.isArray(tj["added_tokens"]) ? tj["added_tokens"].filter(isObj) : [];
    for (const kind of config === undefined ? [] : kinds) {
      const flag = config![`add_${kind}_token`];
      if (typeof flag === "boolean") add.set(kind, flag);
      const content = tokenContent(config![`${kind}_token`]);
      if (content !== undefined) set(kind, added.find((a) => a["content"] === content)?.["id"]);
    }
  }
  const mc = isObj(src.modelConfig) ? src.modelConfig : {};
  for (const kind of kinds) set(kind, mc[`${kind}_token_id`] ?? (isObj(mc["text_config"]) ? mc["text_config"][`${kind}_token_id`] : undefined));
  for (const [kind, id] of Object.entries(src.fixedIds ?? {})) set(kind, id);
  for (const [kind, id] of ids) { const key = ID_KEYS[kind]; if (key !== undefined) out.push([key, kv.u32(id)]); }
  for (const [kind, flag] of add) { const key = ADD_KEYS[kind]; if (key !== undefined) out.push([key, kv.bool(flag)]); }
  if (tj !== undefined && config !== undefined) out.push(...chatTemplates(config["chat_template"]));
  return out;
}

/** tokenizer_config.json's chat_template: one string, or named templates ("default" is the main one). */
function chatTemplates(t: unknown): Array<[string, GgufKv]> {
  if (typeof t === "string") return [["tokenizer.chat_template", kv.str(t)]];
  if (!Array.isArray(t)) return [];
  const out: Array<[string, GgufKv]> = [];
  const names: string[] = [];
  let main: string | undefined;
  for (const c of t) {
    if (!isObj(c) || typeof c["template"] !== "string") continue;
    const name = String(c["name"] ?? "").replace(/[^A-Za-z0-9]/g, "_");
    if (name === "default") main = c["template"];
    else if (name !== "") { names.push(name); out.push([`tokenizer.chat_template.${name}`, kv.str(c["template"])]); }
  }
  if (names.length > 0) out.push(["tokenizer.chat_templates", kv.strArray(names)]);
  if (main !== undefined) out.push(["tokenizer.chat_template", kv.str(main)]);
  return out;
}
