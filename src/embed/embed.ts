/**
 * Sentence embeddings with an encoder model (BERT family): each text is tokenized ([CLS] … [SEP] as the
 * model's tokenizer adds them), the texts run through the encoder packed into batched forward calls
 * (encode.ts: all of a batch's tokens in each matrix product, attention within each text), and each text's
 * last-layer token vectors are pooled (pool.ts) and, by default, L2-normalised. A text's vector is exactly the
 * one it gets alone. Decoder models are refused: they have no pooling of their own here.
 */

import type { PoolingKind } from "../model/config.js";
import type { Model } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { encodeEach, type EncodeOptions } from "./encode.js";
import { normalizeL2, pool } from "./pool.js";

/** flashAttention "off" with kvType "F32" is exact f32 attention, as llama.cpp's cache-less encoder without flash. */
export interface EmbedOptions extends EncodeOptions {
  /** How token vectors become one vector (default: the model's own, GGUF `pooling_type`). "none": every token's. */
  readonly pooling?: PoolingKind;
  /** Scale each vector to unit length (default true; cosine similarity is then a dot product). */
  readonly normalize?: boolean;
}

/** One Float32Array per text: (dim), or (nTokens · dim) with pooling "none". */
export function embed(model: Model, texts: readonly string[], opts: EmbedOptions = {}): Float32Array[] {
  const c = model.config;
  if (c.encoder === undefined) {
    throw new PeelError("UNSUPPORTED", `embed: "${c.architecture}" is a decoder; embeddings need an encoder model (BERT family: bert)`);
  }
  const pooling = opts.pooling ?? c.encoder.pooling;
  const ids = texts.map((text, i) => {
    if (typeof text !== "string") throw new PeelError("INVALID_ARGUMENT", `embed: text ${i} is not a string`);
    const t = model.tokenize(text);
    if (t.length === 0) throw new PeelError("INVALID_ARGUMENT", `embed: text ${i} has no tokens`);
    if (t.length > c.contextLength) {
      throw new PeelError("CONTEXT_OVERFLOW", `embed: text ${i} has ${t.length} tokens; the model reads at most ${c.contextLength} (its context length). Split the text.`);
    }
    return t;
  });
  return encodeEach(model, ids, opts, (hidden, nTokens) => {
    const v = pool(hidden, nTokens, c.dim, pooling);
    return opts.normalize ?? true ? normalizeL2(v) : v;
  });
}
