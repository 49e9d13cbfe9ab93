/**
 * Embeddings from a decoder (a generative model): the text runs through a session causally, as for
 * generation, and the last layer's hidden states after the final norm are mean-pooled over its tokens, then
 * L2-normalised by default. This is what llama.cpp computes for a decoder with `--embeddings --pooling mean`.
 * It reuses the caller's session (reset first), so a server embeds with the caches it allocated once; it
 * does not batch texts together.
 */

import { createSession, type Session } from "../generate/session.js";
import type { Model } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { normalizeL2 } from "./pool.js";

export interface DecoderEmbedOptions {
  /** Scale the vector to unit length (default true). */
  readonly normalize?: boolean;
}

/** Mean of the final-normed hidden states of `ids`, evaluated from an empty `session` (reset here): (dim). */
export function embedTokensInSession(session: Session, ids: readonly number[], opts: DecoderEmbedOptions = {}): Float32Array {
  const dim = session.model.config.dim;
  if (ids.length === 0) throw new PeelError("INVALID_ARGUMENT", "embed: the text has no tokens");
  if (ids.length > session.contextLength) {
    throw new PeelError("CONTEXT_OVERFLOW", `embed: the text has ${ids.length} tokens; the context holds ${session.contextLength}. Split the text.`);
  }
  const sum = new Float64Array(dim);
  session.reset();
  session.evaluate(ids, {
    onHidden(hidden, nTokens) {
      for (let t = 0; t < nTokens; t++) for (let j = 0; j < dim; j++) sum[j] = (sum[j] as number) + (hidden[t * dim + j] as number);
    },
  });
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) v[j] = (sum[j] as number) / ids.length;
  return opts.normalize ?? true ? normalizeL2(v) : v;
}

/** Mean-pooled decoder embeddings of texts (tokenized with the model's BOS), through one session sized for the longest. */
export function embedWithDecoder(model: Model, texts: readonly string[], opts: DecoderEmbedOptions = {}): Float32Array[] {
  const ids = texts.map((t) => model.tokenize(t));
  const longest = Math.max(1, ...ids.map((t) => t.length));
  const session = createSession(model, { contextLength: Math.min(longest, model.config.contextLength) });
  return ids.map((t) => embedTokensInSession(session, t, opts));
}
