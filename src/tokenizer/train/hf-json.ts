/**
 * A trained BPE as a Hugging Face `tokenizer.json`: the object (`hfTokenizerJson`) and its text
 * (`writeHfTokenizerJson`, vocabulary in id order). Byte-level output follows GPT-2's file (ByteLevel
 * pre-tokenizer, post-processor and decoder; no unknown token); sentencepiece output follows Llama 2's
 * (normalizer Prepend "▁" + Replace " " -> "▁", no pre-tokenizer, BPE with byte_fallback and <unk>,
 * BOS added by a TemplateProcessing post-processor, decoder Replace/ByteFallback/Fuse/Strip).
 * Special tokens are added tokens (special, not normalized). It does not read tokenizer.json files.
 */

import type { TrainedBpe } from "./train-bpe.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface HfTokenizerJson {
  readonly version: "1.0";
  readonly [field: string]: Json;
}

const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean): Json =>
  ({ type: "ByteLevel", add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });

function addedTokens(t: TrainedBpe): Json {
  return t.specialTokens.map((content) => ({
    id: t.vocab.indexOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
}

function model(t: TrainedBpe): { [k: string]: Json } {
  const vocab: { [k: string]: Json } = {};
  t.vocab.forEach((token, id) => { vocab[token] = id; });
  return {
    type: "BPE", dropout: null, unk_token: t.unkToken ?? null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: t.kind === "sentencepiece", byte_fallback: t.kind === "sentencepiece", ignore_merges: false,
    vocab, merges: t.merges.map(([a, b]) => `${a} ${b}`),
  };
}

const SPACE = "\u2581";

function bosTemplate(bos: string, bosId: number): Json {
  const special = (typeId: number): Json => ({ SpecialToken: { id: bos, type_id: typeId } });
  const seq = (id: string, typeId: number): Json => ({ Sequence: { id, type_id: typeId } });
  return {
    type: "TemplateProcessing",
    single: [special(0), seq("A", 0)],
    pair: [special(0), seq("A", 0), special(1), seq("B", 1)],
    special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
  };
}

export function hfTokenizerJson(t: TrainedBpe): HfTokenizerJson {
  const common = { version: "1.0", truncation: null, padding: null, added_tokens: addedTokens(t) } as const;
  if (t.kind === "byte-level") {
    return {
      ...common, normalizer: null, pre_tokenizer: byteLevel(false, true), post_processor: byteLevel(true, false),
      decoder: byteLevel(true, true), model: model(t),
    };
  }
  return {
    ...common,
    normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: SPACE }, { type: "Replace", pattern: { String: " " }, content: SPACE }] },
    pre_tokenizer: null,
    post_processor: bosTemplate("<s>", t.vocab.indexOf("<s>")),
    decoder: {
      type: "Sequence",
      decoders: [{ type: "Replace", pattern: { String: SPACE }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }],
    },
    model: model(t),
  };
}

/** The tokenizer.json text: two-space indented, the vocabulary one entry per line in id order. */
export function writeHfTokenizerJson(t: TrainedBpe): string {
  const json = hfTokenizerJson(t);
  const m = json["model"] as { [k: string]: Json };
  const placeholder = "\u0000vocab\u0000";
  const text = JSON.stringify({ ...json, model: { ...m, vocab: placeholder } }, null, 2);
  // Object keys that look like integers ("0", "1") would come first in a JS object; write the vocabulary by hand.
  const vocab = `{\n${t.vocab.map((token, id) => `      ${JSON.stringify(token)}: ${id}`).join(",\n")}\n    }`;
  return `${text.replace(JSON.stringify(placeholder), vocab)}\n`;
}
