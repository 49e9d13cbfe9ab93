/**
 * BERT's `vocab.txt` (one WordPiece token per line, the line number is the id, continuations start with
 * "##") as a tokenizer with Hugging Face's BERT pipeline, which reproduces Google's original BERT
 * tokenization: BertNormalizer (clean text, spaces around CJK ideographs, lowercase and strip accents for
 * uncased vocabularies), BertPreTokenizer (split on whitespace and punctuation), WordPiece (greedy longest
 * match, "##" continuations, [UNK] for words that cannot be covered or are longer than 100 characters),
 * [CLS] text [SEP], and the WordPiece decoder. The pipeline itself is hf/ (tokenizerFromHfJson); this file
 * only parses the vocabulary and writes the tokenizer.json object BertTokenizerFast would.
 */

import { PeelError } from "../util/errors.js";
import { tokenizerFromHfJson } from "./hf/load-tokenizer-json.js";
import type { Tokenizer } from "./types.js";

export interface BertVocabOptions {
  /** Uncased vocabularies (the default, as BertTokenizer's do_lower_case): lowercase the text. */
  readonly lowercase?: boolean;
  /** Strip accents; default: the same as `lowercase` (HF's null). */
  readonly stripAccents?: boolean;
  /** Words longer than this many characters become [UNK]. Default 100. */
  readonly maxInputCharsPerWord?: number;
}

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The tokens of a vocab.txt, id = line index; trailing whitespace of a line is not part of its token (as HF reads it). */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const tokens = lines.map((l) => l.trimEnd());
  if (tokens.length === 0) throw new PeelError("TOKENIZER", "vocab.txt: the file is empty; expected one WordPiece token per line");
  const seen = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (t === "") throw new PeelError("TOKENIZER", `vocab.txt: line ${id + 1} is empty; every line must hold a token`);
    const prev = seen.get(t);
    if (prev !== undefined) throw new PeelError("TOKENIZER", `vocab.txt: token ${JSON.stringify(t)} appears on lines ${prev + 1} and ${id + 1}; tokens must be unique`);
    seen.set(t, id);
  });
  for (const s of ["[UNK]", "[CLS]", "[SEP]"]) {
    if (!seen.has(s)) throw new PeelError("TOKENIZER", `vocab.txt: no ${s} token; a BERT vocabulary needs [UNK], [CLS] and [SEP]`);
  }
  return tokens;
}

const special = (id: string, typeId: number): unknown => ({ SpecialToken: { id, type_id: typeId } });
const sequence = (id: string, typeId: number): unknown => ({ Sequence: { id, type_id: typeId } });

/** The tokenizer.json object HF's BertTokenizerFast would write for these tokens. */
export function bertTokenizerJson(tokens: readonly string[], opts: BertVocabOptions = {}): Record<string, unknown> {
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const lowercase = opts.lowercase ?? true;
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => { vocab[t] = i; });
  const specialEntry = (t: string): unknown => ({ id: t, ids: [idOf.get(t)], tokens: [t] });
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: SPECIALS.filter((t) => idOf.has(t)).map((content) => ({
      id: idOf.get(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: opts.stripAccents ?? null, lowercase },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
      pair: [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0), sequence("B", 1), special("[SEP]", 1)],
      special_tokens: { "[CLS]": specialEntry("[CLS]"), "[SEP]": specialEntry("[SEP]") },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: opts.maxInputCharsPerWord ?? 100, vocab },
  };
}

/** A BERT tokenizer from the text of a vocab.txt. */
export function wordPieceFromVocabTxt(text: string, opts: BertVocabOptions = {}): Tokenizer {
  return tokenizerFromHfJson(bertTokenizerJson(parseVocabTxt(text), opts));
}
