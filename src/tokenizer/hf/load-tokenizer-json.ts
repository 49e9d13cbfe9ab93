/**
 * Builds a `Tokenizer` from a Hugging Face tokenizer.json (+ optional tokenizer_config.json), as the Rust
 * `tokenizers` library runs it: added tokens are split out of the raw text, each remaining piece is
 * normalized, normalized added tokens are split out, the rest is pre-tokenized into words, the model turns
 * words into ids, and the post-processor adds special tokens. Offsets are tracked through every stage
 * only when asked (`encodeWithOffsets`); they are UTF-16 code units of the original text (the HF bindings
 * report code points; convert when comparing). Plain `encode` takes a leaner road with the same result:
 * strings only, words handed straight to the model (raw text to a byte-level BPE, which maps bytes itself).
 * Truncation and padding settings are ignored.
 * Given the model's embedding rows (`limits`, from a checkpoint folder's config.json), added tokens whose id
 * has no row are dropped, as llama.cpp's converter drops every id ≥ vocab_size (Gemma 3's tokenizer.json
 * adds `<image_soft_token>` at 262144, one past the text model's 262144 rows): the token is then unknown,
 * its text tokenized as plain text, as in the GGUF llama.cpp writes. A base-vocabulary piece without a row
 * is an error instead: the converter would silently cut the vocabulary, but it means the wrong tokenizer.
 * Browser-safe: it takes parsed JSON, reads no files.
 */

import { PeelError } from "../../util/errors.js";
import { checkIdRange, createPrefixDecodeStream } from "./stream.js";
import type { DecodeOptions, EncodeOptions, EncodingWithOffsets, Tokenizer } from "../types.js";
import { toWellFormed, utf8Encode } from "../utf8.js";
import { createMatcher, findAddedTokens, parseAddedTokens, resolveAddedIds, type AddedToken } from "./added-tokens.js";
import { alignedFrom, sliceAligned, spanOf, type Aligned } from "./aligned.js";
import { parseDecoder } from "./decoders.js";
import { isObject, obj } from "./json.js";
import { parseModel, type WordModel } from "./models.js";
import { parseNormalizer } from "./normalizers.js";
import { parsePostProcessor, type Encoded } from "./post-processor.js";
import { parsePreTokenizer, unitSpan, type Emit, type Split, type WordSplitter } from "./pre-tokenizers.js";

// Texts of tokens that end a turn or the text in common chat models.
const EOG_TEXTS = new Set(["</s>", "<eos>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<|return|>", "<|call|>", "[SEP]", "<｜end▁of▁sentence｜>"]);

/** What the tokenizer must fit: the model's embedding rows, and the file to name when it does not. */
export interface HfTokenizerLimits {
  /** Rows of the embedding table (config.json's vocab_size). */
  readonly vocabSize: number;
  /** The tokenizer.json path, for errors. */
  readonly file: string;
}

export function tokenizerFromHfJson(tokenizerJson: unknown, tokenizerConfig?: unknown, limits?: HfTokenizerLimits): Tokenizer {
  const root = obj(tokenizerJson, "tokenizer.json (the top level)");
  return tokenizerFromHfModel(root, parseModel(root["model"]), tokenizerConfig, limits);
}

/**
 * `tokenizerFromHfJson` with the `model` section already parsed (`parseModel(root.model)`; the file's own
 * `model` is then not read). Parsing a 100k+ vocabulary with its merges is most of the cost of a load, so
 * tests that build many tokenizers around one model (every pre-tokenizer over one vocabulary) parse it once.
 * The model keeps a word cache; sharing it between tokenizers changes no result (a word's ids depend on the
 * model alone).
 */
export function tokenizerFromHfModel(tokenizerJson: unknown, model: WordModel, tokenizerConfig?: unknown, limits?: HfTokenizerLimits): Tokenizer {
  const root = obj(tokenizerJson, "tokenizer.json (the top level)");
  if (limits !== undefined && model.pieces.length > limits.vocabSize) {
    throw new PeelError("CONFIG", `${limits.file}: model.vocab has ids up to ${model.pieces.length - 1} (${model.pieces.length} pieces) but config.json's vocab_size is ${limits.vocabSize} (the embedding table's rows); is this the checkpoint's own tokenizer?`);
  }
  const allAdded = resolveAddedIds(parseAddedTokens(root["added_tokens"]), model.idOf);
  // only added tokens can go: the base vocabulary fits (checked above)
  const added = limits === undefined ? allAdded : allAdded.filter((t) => t.id < limits.vocabSize);
  const normalizer = parseNormalizer(root["normalizer"]);
  const pre = parsePreTokenizer(root["pre_tokenizer"]);
  const post = parsePostProcessor(root["post_processor"]);
  const decoder = parseDecoder(root["decoder"]);
  // Metaspace's "first" prepend scheme asks where a piece sits in the original text: track always then.
  const alwaysTrack = JSON.stringify(root["pre_tokenizer"] ?? null).includes("\"prepend_scheme\":\"first\"");

  const addedById = new Map<number, AddedToken>(added.map((t) => [t.id, t]));
  const rawMatcher = createMatcher(added.filter((t) => !t.normalized), (t) => t.content);
  const normMatcher = createMatcher(added.filter((t) => t.normalized), (t) => (normalizer ? normalizer(alignedFrom(t.content, 0, false)).text : t.content));
  let vocabSize = model.pieces.length;
  for (const t of added) vocabSize = Math.max(vocabSize, t.id + 1);
  const pieceOf = (id: number): string => addedById.get(id)?.content ?? model.pieces[id] ?? "";
  const idOfText = (s: string): number | undefined => added.find((t) => t.content === s)?.id ?? model.idOf.get(s);
  const isSpecial = (id: number): boolean => addedById.get(id)?.special === true;

  const encodePiece = (a: Aligned, out: Encoded, track: boolean): void => {
    let splits: Split[] = [{ text: a.text, offset: 0, ns: undefined, ne: undefined }];
    if (pre) splits = pre.splits(splits, { norm: a, track });
    for (const sp of splits) {
      if (sp.text.length === 0) continue;
      if (!out.offsets) { model.tokenize(sp.text, out.ids, undefined); continue; }
      const spans: number[] = [];
      model.tokenize(sp.text, out.ids, spans);
      for (let k = 0; k < spans.length; k += 2) {
        const ws = spans[k] as number;
        const we = Math.max(spans[k + 1] as number, ws + 1);
        out.offsets.push(spanOf(a, unitSpan(sp, ws)[0], unitSpan(sp, Math.min(we, sp.text.length) - 1)[1]));
      }
    }
  };

  // Untracked words: raw text for a byte-level BPE behind a pre-tokenizer that ends in ByteLevel.
  const byteLevelModel = pre?.rawWords ? model.tokenizeByteLevel : undefined;
  const words: WordSplitter = (byteLevelModel && pre?.rawWords) || pre?.words || ((t, emit) => { if (t.length > 0) emit(t); });
  const normalize = (s: string): string => (normalizer ? normalizer(alignedFrom(s, 0, false)).text : s);

  /** Ids of `text` without offsets (nothing needs alignment). */
  const runUntracked = (text: string, parseSpecial: boolean): number[] => {
    const ids: number[] = [];
    const emit: Emit = byteLevelModel ? (w) => byteLevelModel(w, ids) : (w) => model.tokenize(w, ids, undefined);
    for (const [s, e, tok] of findAddedTokens(rawMatcher, text, parseSpecial)) {
      if (tok) { ids.push(tok.id); continue; }
      const piece = normalize(s === 0 && e === text.length ? text : text.slice(s, e));
      if (!normMatcher) { words(piece, emit); continue; }
      for (const [ns, ne, ntok] of findAddedTokens(normMatcher, piece, parseSpecial)) {
        if (ntok) ids.push(ntok.id);
        else words(ns === 0 && ne === piece.length ? piece : piece.slice(ns, ne), emit);
      }
    }
    return ids;
  };

  const run = (input: string, opts: EncodeOptions, wantOffsets: boolean): Encoded => {
    const text = toWellFormed(input);
    const parseSpecial = opts.parseSpecial ?? false;
    const track = wantOffsets || alwaysTrack;
    if (!track) {
      const out: Encoded = { ids: runUntracked(text, parseSpecial), offsets: undefined };
      return post ? post.apply(out, opts.addSpecial ?? true, pieceOf) : out;
    }
    const out: Encoded = wantOffsets ? { ids: [], offsets: [], matched: new Map(), text } : { ids: [], offsets: undefined };
    for (const [s, e, tok] of findAddedTokens(rawMatcher, text, parseSpecial)) {
      if (tok) { out.matched?.set(out.ids.length, text.slice(s, e)); out.ids.push(tok.id); out.offsets?.push([s, e]); continue; }
      let a = alignedFrom(text.slice(s, e), s, track);
      if (normalizer) a = normalizer(a);
      for (const [ns, ne, ntok] of findAddedTokens(normMatcher, a.text, parseSpecial)) {
        if (ntok) { out.matched?.set(out.ids.length, a.text.slice(ns, ne)); out.ids.push(ntok.id); out.offsets?.push(spanOf(a, ns, ne)); continue; }
        encodePiece(ns === 0 && ne === a.text.length ? a : sliceAligned(a, ns, ne), out, track);
      }
    }
    return post ? post.apply(out, opts.addSpecial ?? true, pieceOf) : out;
  };

  const decodeTokens = (ids: ArrayLike<number>, opts: DecodeOptions): string => {
    const skip = opts.skipSpecial ?? true;
    let list = Array.from(ids);
    for (const id of list) checkIdRange(id, vocabSize);
    if (opts.removeSpecial && post) {
      const pre0 = post.prefixIds;
      const suf = post.suffixIds;
      if (pre0.length > 0 && pre0.every((id, i) => list[i] === id)) list = list.slice(pre0.length);
      if (suf.length > 0 && suf.every((id, i) => list[list.length - suf.length + i] === id)) list = list.slice(0, list.length - suf.length);
    }
    const tokens = list.filter((id) => !(skip && isSpecial(id))).map(pieceOf);
    return decoder ? decoder.chain(tokens).join("") : tokens.join(" ");
  };

  const cfg = isObject(tokenizerConfig) ? tokenizerConfig : {};
  const configToken = (key: string): number | undefined => {
    const v = cfg[key];
    const text = typeof v === "string" ? v : isObject(v) && typeof v["content"] === "string" ? v["content"] : undefined;
    return text === undefined ? undefined : idOfText(text);
  };
  const bosId = configToken("bos_token") ?? post?.prefixIds[0];
  const eosId = configToken("eos_token") ?? post?.suffixIds[post.suffixIds.length - 1];
  const eog = new Set<number>(added.filter((t) => EOG_TEXTS.has(t.content)).map((t) => t.id));
  if (eosId !== undefined) eog.add(eosId);

  const tokenBytes = (id: number): Uint8Array => {
    checkIdRange(id, vocabSize);
    const a = addedById.get(id);
    if (a?.special) return utf8Encode(a.content);
    const piece = pieceOf(id);
    return decoder ? decoder.tokenBytes(piece) : utf8Encode(piece);
  };

  const tokenizer: Tokenizer = {
    kind: "hf",
    vocabSize,
    bosId,
    eosId,
    encode: (text, opts = {}) => run(text, opts, false).ids,
    encodeWithOffsets(text, opts = {}): EncodingWithOffsets {
      const e = run(text, opts, true);
      return { ids: e.ids, offsets: e.offsets ?? [] };
    },
    encodeBatch: (texts, opts = {}) => texts.map((t) => run(t, opts, false).ids),
    countTokens: (text, opts = {}) => run(text, opts, false).ids.length,
    decode: (ids, opts = {}) => decodeTokens(ids, opts),
    tokenBytes,
    piece(id) {
      checkIdRange(id, vocabSize);
      return pieceOf(id);
    },
    isEndOfGeneration: (id) => eog.has(id),
    createDecodeStream: (opts = {}) => createPrefixDecodeStream((ids) => decodeTokens(ids, { skipSpecial: opts.skipSpecial ?? true }), vocabSize),
  };
  if (model.pieces.length === 0 && added.length === 0) throw new PeelError("TOKENIZER", "tokenizer.json: the model's vocabulary is empty");
  return tokenizer;
}
