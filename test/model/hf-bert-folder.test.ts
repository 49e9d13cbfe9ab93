/**
 * Hugging Face BERT folders: a random GGUF bert (test/fixtures/random-bert.ts, the real bert-bge vocabulary)
 * and its HF twin (test/fixtures/random-hf-bert.ts: modeling_bert.py names, config.json, a WordPiece
 * tokenizer.json, sentence-transformers pooling files, and the tensors the converter drops) load to the same
 * config, tokenize the same texts to the same ids, and give embed() vectors equal bit for bit (F32 weights,
 * F32 keys and values, flash attention off, ts backend), as BertModel and as BertForMaskedLM ("bert." prefix,
 * MLM head). Without modules.json the pooling is none (the converter then writes no pooling_type). Bad folders
 * fail with a typed error naming the file and the field.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "../../src/formats/byte-source.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { describeModel, loadModel } from "../../src/model/load.node.js";
import { embed, type EmbedOptions } from "../../src/embed/embed.js";
import { PeelError, type PeelErrorCode } from "../../src/util/errors.js";
import { llamaCppVocab, type LlamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { randomBertGguf, type RandomBertSpec } from "../fixtures/random-bert.js";
import { writeRandomHfBertFolder, type HfBertOptions } from "../fixtures/random-hf-bert.js";

const TEXTS = [
  "Hello world", "The quick brown fox jumps over the lazy dog.", "a", "What is the capital of France?",
  "don't stop believin'", "3.14159 is pi; 2.71828 is e.", "Café résumé naïve façade", "東京は日本の首都です。",
  "Emoji: 😀🎉🚀", "UPPER lower MiXeD", "hyphen-ated and under_scored words", "email@example.com and https://example.org/path?q=1",
  "Привет, как дела?", "((nested (parentheses)))", "tab\tseparated\tvalues\nnext line", "antidisestablishmentarianism",
  "Unbelievably, the unbreakable record was broken.", "The rain in Spain stays mainly in the plain. ".repeat(6),
];

const root = mkdtempSync(join(tmpdir(), "peel-hf-bert-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const spec = (vocab: LlamaCppVocab, seed: number, pooling: number | undefined): RandomBertSpec =>
  ({ dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, contextLength: 128, weightType: "F32", seed, pooling, vocab });

const CASES: Array<{ label: string; seed: number; pooling: number | undefined; opts: HfBertOptions }> = [
  { label: "BertModel, mean pooling (modules.json), pooler dropped", seed: 71, pooling: 1, opts: {} },
  { label: "BertForMaskedLM (bert. prefix, MLM head dropped), cls pooling", seed: 72, pooling: 2, opts: { maskedLm: true } },
  { label: "BertModel without sentence-transformers files: pooling none", seed: 73, pooling: undefined, opts: {} },
];

for (const c of CASES) {
  test(`HF BERT folder equals its GGUF twin bit for bit: ${c.label}`, async (t) => {
    const vocab = await llamaCppVocab("bert-bge");
    if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
    const s = spec(vocab, c.seed, c.pooling);
    const dir = join(root, `case-${c.seed}`);
    writeRandomHfBertFolder(dir, s, c.opts);
    const gguf = await loadModelFromSource(bytesSource(randomBertGguf(s)), { backend: "ts" });
    const hf = await loadModel(dir, { backend: "ts" });
    try {
      assert.equal(hf.info.format, "hf");
      assert.deepEqual(hf.config, gguf.config, "the same config through config.json as through GGUF metadata");
      assert.equal(hf.config.encoder?.pooling, c.pooling === 1 ? "mean" : c.pooling === 2 ? "cls" : "none");
      assert.equal(hf.tokenizer.vocabSize, 30522);
      for (const text of TEXTS) assert.deepEqual(hf.tokenize(text), gguf.tokenize(text), `ids of ${JSON.stringify(text)}`);
      const opts: EmbedOptions = { normalize: false, flashAttention: "off", kvType: "F32", ...(c.pooling === undefined ? { pooling: "mean" as const } : {}) };
      const a = embed(hf, TEXTS, opts), b = embed(gguf, TEXTS, opts);
      let same = 0, total = 0;
      for (let i = 0; i < TEXTS.length; i++) {
        const x = a[i]!, y = b[i]!;
        assert.equal(x.length, y.length);
        for (let j = 0; j < x.length; j++) { total++; if (Object.is(x[j], y[j])) same++; }
      }
      assert.equal(same, total, `${total - same} of ${total} vector entries differ`);
      t.diagnostic(`${TEXTS.length} texts, ${total} entries equal bit for bit`);
    } finally {
      await hf.dispose();
      await gguf.dispose();
    }
  });
}

async function rejects(dir: string, code: PeelErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(describeModel(dir), (e: unknown) => {
    assert.ok(e instanceof PeelError, `expected a PeelError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

const editJson = (file: string, edit: (c: Record<string, unknown>) => void) => {
  const c = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(c);
  writeFileSync(file, JSON.stringify(c));
};

test("bad BERT folders: missing or wrong config fields, a token-type table of the wrong size, bad pooling files", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  let n = 0;
  const folder = (): string => {
    const dir = join(root, `bad-${n++}`);
    writeRandomHfBertFolder(dir, spec(vocab, 80, 1));
    return dir;
  };
  const a = folder();
  editJson(join(a, "config.json"), (c) => { delete c["type_vocab_size"]; });
  await rejects(a, "CONFIG", /bad-0\/config\.json: missing required field "type_vocab_size"/);
  const b = folder();
  editJson(join(b, "config.json"), (c) => { delete c["layer_norm_eps"]; });
  await rejects(b, "CONFIG", /config\.json: missing required field "layer_norm_eps"/);
  const c = folder();
  editJson(join(c, "config.json"), (cfg) => { cfg["hidden_act"] = "relu"; });
  await rejects(c, "UNSUPPORTED", /config\.json: "hidden_act" "relu" is not supported for "bert"; supported: gelu/);
  const d = folder();
  editJson(join(d, "config.json"), (cfg) => { cfg["type_vocab_size"] = 3; });
  await rejects(d, "CONFIG", /config\.json: "type_vocab_size" is 3 but tensor "token_types\.weight" has 2 rows/);
  const e = folder();
  editJson(join(e, "config.json"), (cfg) => { cfg["intermediate_size"] = 96; });
  await rejects(e, "CONFIG", /tensor "blk\.0\.ffn_up\.weight" \(HF "encoder\.layer\.0\.intermediate\.dense\.weight"\) has shape \[128, 64\], expected \[96, 64\]/);
  const f = folder();
  editJson(join(f, "1_Pooling", "config.json"), (p) => { p["pooling_mode_mean_tokens"] = false; p["pooling_mode_max_tokens"] = true; });
  await rejects(f, "UNSUPPORTED", /1_Pooling\/config\.json: no pooling mode Peel runs/);
  const g = folder();
  writeFileSync(join(g, "modules.json"), JSON.stringify([{ idx: 1, name: "1", path: "../1_Pooling", type: "sentence_transformers.models.Pooling" }]));
  await rejects(g, "CONFIG", /modules\.json: the Pooling module's "path" must be a folder inside the checkpoint, got "\.\.\/1_Pooling"/);
  const h = folder();
  unlinkSync(join(h, "1_Pooling", "config.json"));
  await rejects(h, "IO", /no 1_Pooling\/config\.json/);
  // pooling_mode by name, the newer sentence-transformers spelling
  const i = folder();
  writeFileSync(join(i, "1_Pooling", "config.json"), JSON.stringify({ pooling_mode: "lasttoken" }));
  assert.equal((await describeModel(i)).config.encoder?.pooling, "last");
});
