import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesSource } from "../../formats/byte-source.js";
import { readGgufHeader } from "../../formats/gguf/read.js";
import { writeGguf } from "../../formats/gguf/write.js";
import { tokenizerFromHfJson } from "../../tokenizer/hf/load-tokenizer-json.js";
import { tokenizerFromGguf } from "../../tokenizer/load-gguf.js";
import { hfTokenizerJson } from "../../tokenizer/train/hf-json.js";
import { trainBpe, type BpeKind, type TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import type { Tokenizer } from "../../tokenizer/types.js";
import { PeelError } from "../../util/errors.js";
import { corpusLines } from "../../../test/fixtures/corpus.js";
import { parityStrings } from "../../../test/tokenizer-parity-strings.js";
import { mergeRankScores, tokenizerGgufMetadata } from "./tokenizer-gguf.js";

const lines = corpusLines(150_000);
const inputs = [...lines.slice(0, 1500), ...parityStrings(400, 5)];

/** Peel's tokenizer for the metadata after a trip through the GGUF writer and reader. */
async function ggufTokenizer(t: TrainedBpe): Promise<Tokenizer> {
  const header = await readGgufHeader(bytesSource(writeGguf({ metadata: tokenizerGgufMetadata(t), tensors: [] })));
  return tokenizerFromGguf(header.metadata);
}

const meta = (t: TrainedBpe): Map<string, unknown> => new Map(tokenizerGgufMetadata(t).map(([k, v]) => [k, v.type === "ARRAY" ? v.value.values : v.value]));

function firstDifference(a: Tokenizer, b: Tokenizer, texts: readonly string[], skip: (s: string) => boolean): string | undefined {
  for (const text of texts) {
    if (skip(text)) continue;
    // tokenizer.json matches added (special) tokens in any text; llama.cpp and Peel's GGUF tokenizer when asked to
    const x = a.encode(text, { parseSpecial: true }), y = b.encode(text, { parseSpecial: true });
    if (x.length !== y.length || x.some((id, i) => id !== y[i])) return `${JSON.stringify(text)}\n gguf ${JSON.stringify(x)}\n json ${JSON.stringify(y)}`;
  }
  return undefined;
}

for (const [kind, size] of [["byte-level", 1000], ["sentencepiece", 1000], ["byte-level", 300], ["sentencepiece", 300]] as const satisfies ReadonlyArray<readonly [BpeKind, number]>) {
  test(`${kind} (${size}): the GGUF tokenizer encodes as the trainer's tokenizer.json, specials and BOS included`, async () => {
    const t = await trainBpe({ texts: [lines.join("\n")], vocabSize: size, kind });
    const gguf = await ggufTokenizer(t);
    const json = tokenizerFromHfJson(hfTokenizerJson(t));
    // A literal "<0x41>" in the text can be joined into the byte piece by score-ranked merging (as in llama.cpp
    // with Llama 2's vocabulary), which the merge list never does: a known limit of SentencePiece-style GGUF.
    const skip = (s: string): boolean => kind === "sentencepiece" && s.includes("<0x");
    const diff = firstDifference(gguf, json, inputs, skip);
    assert.equal(diff, undefined, `first difference:\n${diff}`);
    assert.equal(gguf.eosId, t.vocab.indexOf(kind === "byte-level" ? "<|endoftext|>" : "</s>"));
    assert.equal(gguf.bosId, kind === "byte-level" ? gguf.eosId : json.bosId);
    const sample = "Once upon a time, ünïcödé 日本 🦙";
    // without BOS: llama.cpp (and Peel after it) drops the dummy-prefix space only when no BOS precedes it
    const ids = gguf.encode(sample, { addSpecial: false });
    assert.equal(gguf.decode(ids), sample);
    assert.equal(json.decode(ids), sample);
  });
}

test("byte-level metadata: gpt2 model, GPT-2 pre-tokenizer, merges as text, <|endoftext|> is BOS/EOS and control, no BOS added", async () => {
  const t = await trainBpe({ texts: ["the theme then thee"], vocabSize: 262 });
  const m = meta(t);
  assert.equal(m.get("tokenizer.ggml.model"), "gpt2");
  assert.equal(m.get("tokenizer.ggml.pre"), "gpt-2");
  assert.deepEqual(m.get("tokenizer.ggml.tokens"), t.vocab);
  assert.deepEqual(m.get("tokenizer.ggml.merges"), t.merges.map(([a, b]) => `${a} ${b}`));
  const types = m.get("tokenizer.ggml.token_type") as Int32Array;
  assert.equal(types[0], 3);
  assert.ok(types.subarray(1).every((v) => v === 1));
  assert.equal(m.get("tokenizer.ggml.bos_token_id"), 0);
  assert.equal(m.get("tokenizer.ggml.eos_token_id"), 0);
  assert.equal(m.get("tokenizer.ggml.add_bos_token"), false);
  assert.equal(m.has("tokenizer.ggml.scores"), false);
});

test("byte-level: other special tokens are control tokens, EOS is <|endoftext|> where present, else the first; none at all is refused", async () => {
  const t = await trainBpe({ texts: ["abab"], vocabSize: 262, specialTokens: ["<pad>", "<|endoftext|>", "<|im_start|>"] });
  const m = meta(t);
  assert.equal(m.get("tokenizer.ggml.eos_token_id"), 1);
  assert.deepEqual([...(m.get("tokenizer.ggml.token_type") as Int32Array).subarray(0, 4)], [3, 3, 3, 1]);
  const u = await trainBpe({ texts: ["abab"], vocabSize: 262, specialTokens: ["<eot>"] });
  assert.equal(meta(u).get("tokenizer.ggml.eos_token_id"), 0);
  const none = await trainBpe({ texts: ["abab"], vocabSize: 262, specialTokens: [] });
  assert.throws(() => tokenizerGgufMetadata(none), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && /end of text/.test(e.message));
});

test("sentencepiece metadata: llama model, unk/bos/eos 0/1/2, token types, merged pieces score by merge rank", async () => {
  const t = await trainBpe({ texts: ["the theme then thee the the"], vocabSize: 300, kind: "sentencepiece", specialTokens: ["<mask>"] });
  const m = meta(t);
  assert.equal(m.get("tokenizer.ggml.model"), "llama");
  assert.equal(m.get("tokenizer.ggml.unknown_token_id"), 0);
  assert.equal(m.get("tokenizer.ggml.bos_token_id"), 1);
  assert.equal(m.get("tokenizer.ggml.eos_token_id"), 2);
  assert.equal(m.get("tokenizer.ggml.add_bos_token"), true);
  assert.equal(m.get("tokenizer.ggml.add_space_prefix"), true);
  assert.equal(m.has("tokenizer.ggml.merges"), false);
  const types = [...(m.get("tokenizer.ggml.token_type") as Int32Array)];
  assert.deepEqual(types.slice(0, 5), [2, 3, 3, 3, 6], "<unk>, <s>, </s>, <mask>, <0x00>");
  assert.equal(types[3 + 256], 6, "<0xFF>");
  assert.ok(types.slice(4 + 256).every((v) => v === 1));
  const scores = m.get("tokenizer.ggml.scores") as Float32Array;
  const firstMerged = t.vocab.indexOf(t.merges[0]!.join(""));
  assert.ok(firstMerged > 4 + 256);
  assert.ok(scores.subarray(0, firstMerged).every((s) => s === 0));
  const merged = [...scores.subarray(firstMerged)];
  assert.deepEqual(merged, merged.map((_, i) => -(i + 1)), "merged pieces in the order learned: -1, -2, ...");
});

/** A hand-made sentencepiece BPE over the alphabet ▁abc with the given merges. */
function handMade(merges: ReadonlyArray<readonly [string, string]>): TrainedBpe {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const made = [...new Set(merges.map(([a, b]) => a + b))];
  return { kind: "sentencepiece", vocab: ["<unk>", "<s>", "</s>", ...bytes, "▁", "a", "b", "c", ...made], merges, specialTokens: ["<unk>", "<s>", "</s>"], unkToken: "<unk>", requestedSize: 263 + made.length };
}

test("score order reproduces merge order: whichever of ab / bc was learned first wins in 'abc'", async () => {
  for (const merges of [[["b", "c"], ["a", "b"]], [["a", "b"], ["b", "c"]]] as const) {
    const t = handMade(merges);
    const gguf = await ggufTokenizer(t);
    const json = tokenizerFromHfJson(hfTokenizerJson(t));
    const want = merges[0][0] === "b" ? ["▁", "a", "bc"] : ["▁", "ab", "c"];
    assert.deepEqual(gguf.encode("abc", { addSpecial: false }).map((id) => t.vocab[id]), want);
    assert.deepEqual(json.encode("abc", { addSpecial: false }).map((id) => t.vocab[id]), want);
  }
});

test("a piece two merges make scores by the earlier one", () => {
  const t = handMade([["a", "b"], ["b", "c"], ["ab", "c"], ["a", "bc"]]);
  const ids = new Map(t.vocab.map((p, i) => [p, i]));
  const s = mergeRankScores(t, ids);
  assert.equal(s[ids.get("ab")!], -1);
  assert.equal(s[ids.get("bc")!], -2);
  assert.equal(s[ids.get("abc")!], -3);
  assert.equal(s[ids.get("a")!], 0);
});
