/**
 * Reranking with a cross-encoder (a BERT-family model whose GGUF pooling is "rank": bge-reranker, ms-marco
 * MiniLM cross-encoders): the query and each document are read together as one input, laid out as llama.cpp
 * and node-llama-cpp lay it out ([BOS] query [EOS] [SEP] document [EOS], each special only where the vocabulary
 * has it: for WordPiece, [CLS] query [SEP] document), and the classifier head on the [CLS] vector gives a
 * score: tanh(cls · x + b) where the head has that layer, then cls.output; the first output through a
 * sigmoid is the relevance in 0..1 (`raw` keeps the logit). The query–document inputs are packed into
 * batched forward calls as embed's texts are (encode.ts).
 */

import type { Model } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { encodeEach, type EncodeOptions } from "./encode.js";

export interface RerankOptions extends EncodeOptions {
  /** Return the classifier's first logit instead of its sigmoid (default false). */
  readonly raw?: boolean;
}

/** One relevance score per document, in the documents' order. */
export function rerank(model: Model, query: string, documents: readonly string[], opts: RerankOptions = {}): number[] {
  const c = model.config, head = model.transformer.weights.classifier;
  if (c.encoder?.classifier === undefined || head === undefined) {
    throw new PeelError("UNSUPPORTED", `rerank: "${model.info.name ?? c.architecture}" has no classifier head (GGUF pooling_type 4, "rank"); use a reranker such as bge-reranker`);
  }
  const tok = model.tokenizer;
  const special = (id: number | undefined) => (id === undefined ? [] : [id]);
  const q = model.tokenize(query, { addSpecial: false });
  const inputs = documents.map((doc, i) => {
    if (typeof doc !== "string") throw new PeelError("INVALID_ARGUMENT", `rerank: document ${i} is not a string`);
    const ids = [...special(tok.bosId), ...q, ...special(tok.eosId), ...special(tok.sepId), ...model.tokenize(doc, { addSpecial: false }), ...special(tok.eosId)];
    if (ids.length > c.contextLength) {
      throw new PeelError("CONTEXT_OVERFLOW", `rerank: query and document ${i} are ${ids.length} tokens; the model reads at most ${c.contextLength}. Shorten the document.`);
    }
    return ids;
  });
  const k = model.transformer.kernels;
  const h = new Float32Array(c.dim), scores = new Float32Array(c.encoder.classifier.outputs);
  return encodeEach(model, inputs, opts, (hidden) => {
    let x = hidden.subarray(0, c.dim); // the [CLS] row
    if (head.hidden !== undefined) {
      k.matmul(h, head.hidden.w, x, 1);
      for (let i = 0; i < c.dim; i++) h[i] = Math.fround(Math.tanh(Math.fround((h[i] as number) + (head.hidden.b[i] as number))));
      x = h;
    }
    k.matmul(scores, head.out, x, 1);
    const logit = Math.fround((scores[0] as number) + (head.outBias[0] as number));
    return opts.raw === true ? logit : 1 / (1 + Math.exp(-logit));
  });
}
