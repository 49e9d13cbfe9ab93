/**
 * Reads back a BPE tokenizer.json of the two shapes Peel's trainer writes (byte-level GPT-2 style and
 * SentencePiece Llama-2 style) into the TrainedBpe record, so `peel train --tokenizer FILE` can reuse a
 * tokenizer trained earlier and still embed it in an exported GGUF. Other tokenizer.json files are refused
 * with a message saying what differs.
 */

import { PeelError } from "../../util/errors.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";

interface Obj { readonly [k: string]: unknown }
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function trainedBpeFromHfJson(json: unknown, where: string): TrainedBpe {
  const fail = (m: string): PeelError => new PeelError("TOKENIZER", `${where}: ${m}; peel train takes a BPE tokenizer.json written by 'peel tokenizer train'`);
  if (!isObj(json) || !isObj(json["model"])) throw fail("no \"model\" object");
  const model = json["model"];
  if (model["type"] !== "BPE") throw fail(`the model type is ${JSON.stringify(model["type"])}, not "BPE"`);
  const pre = json["pre_tokenizer"];
  const kind = isObj(pre) && pre["type"] === "ByteLevel" ? "byte-level" : model["byte_fallback"] === true ? "sentencepiece" : undefined;
  if (kind === undefined) throw fail("it is neither byte-level (ByteLevel pre-tokenizer) nor SentencePiece-style (byte_fallback)");
  const vocabObj = model["vocab"];
  if (!isObj(vocabObj)) throw fail("model.vocab is not an object");
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(vocabObj)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw fail(`token ${JSON.stringify(token)} has id ${String(id)}`);
    if (vocab[id as number] !== undefined) throw fail(`id ${String(id)} is used twice`);
    vocab[id as number] = token;
  }
  for (let i = 0; i < vocab.length; i++) if (vocab[i] === undefined) throw fail(`the vocabulary has no token with id ${i}`);
  const mergesRaw = model["merges"];
  if (!Array.isArray(mergesRaw)) throw fail("model.merges is not a list");
  const merges = mergesRaw.map((m: unknown, i): readonly [string, string] => {
    const pair = typeof m === "string" ? m.split(" ") : m;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((p) => typeof p !== "string")) throw fail(`merge ${i} is not a pair of tokens`);
    return [pair[0] as string, pair[1] as string];
  });
  const added = Array.isArray(json["added_tokens"]) ? json["added_tokens"] : [];
  const specialTokens = added.filter((t): t is Obj => isObj(t) && t["special"] === true && typeof t["content"] === "string").map((t) => t["content"] as string);
  const unk = model["unk_token"];
  return { kind, vocab, merges, specialTokens, unkToken: typeof unk === "string" ? unk : undefined, requestedSize: vocab.length };
}
