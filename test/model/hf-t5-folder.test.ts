/**
 * A T5ForConditionalGeneration folder (config.json + safetensors + tokenizer.json) and the GGUF llama.cpp's
 * converter would write from it run the same model: the twins (random-hf-t5.ts, random-t5.ts) hold the same
 * F32 weights, and after encoding the same input ids every decoder step's logits are equal, for T5 (ReLU, tied
 * head) and Flan-T5 (GeGLU, separate head). The folder's tokenizer.json (Precompiled normalizer) tokenizes
 * plain text as the GGUF's tokenizer does.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "../../src/formats/byte-source.js";
import { loadModel } from "../../src/model/load.node.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createSession, decoderStartId } from "../../src/generate/session.js";
import { randomT5Gguf, type RandomT5Spec } from "../fixtures/random-t5.js";
import { writeRandomHfT5Folder } from "../fixtures/random-hf-t5.js";
import { albertSpmModel, albertT5Vocab } from "../fixtures/t5-vocab.js";

const vocab = albertT5Vocab();
const base = { dim: 32, hiddenDim: 64, encoderLayers: 2, decoderLayers: 2, nHeads: 4, headDim: 8, relBuckets: 32, contextLength: 128, weightType: "F32", decoderStartId: 0, vocab } as const;

for (const flan of [false, true]) {
  test(`HF T5ForConditionalGeneration folder equals its GGUF (${flan ? "Flan-T5: GeGLU, separate head" : "T5: ReLU, tied head"})`, async () => {
    const spec: RandomT5Spec = { ...base, seed: flan ? 21 : 22, flan };
    const dir = mkdtempSync(join(tmpdir(), "peel-hf-t5-"));
    try {
      writeRandomHfT5Folder(dir, spec, albertSpmModel(), 3);
      const hf = await loadModel(dir, { backend: "ts" });
      const gguf = await loadModelFromSource(bytesSource(randomT5Gguf(spec), "t5.gguf"), { backend: "ts" });
      assert.equal(hf.config.seq2seq?.encoderLayers, 2);
      assert.equal(hf.config.activation, flan ? "geglu" : "relu");
      assert.equal(hf.config.tiedOutput, !flan);
      assert.equal(decoderStartId(hf), 0);
      const text = "translate english to german: the house is wonderful and the garden is large.";
      assert.deepEqual(hf.tokenize(text), gguf.tokenize(text));
      const input = gguf.tokenize(text);
      const [a, b] = [createSession(hf, { flashAttention: "off" }), createSession(gguf, { flashAttention: "off" })];
      a.encode(input); b.encode(input);
      let tok = 0;
      for (let step = 0; step < 6; step++) {
        const la = a.evaluate([tok]).slice(), lb = b.evaluate([tok]);
        assert.deepEqual([...la], [...lb], `step ${step}: logits differ`);
        tok = la.indexOf(Math.max(...la));
      }
      await hf.dispose(); await gguf.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("HF T5 folders: an unsupported feed-forward and a missing T5 field are named", async () => {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "peel-hf-t5-"));
  try {
    writeRandomHfT5Folder(dir, { ...base, seed: 23, flan: true }, albertSpmModel(), 3);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, feed_forward_proj: "gated-silu" }));
    await assert.rejects(loadModel(dir, { backend: "ts" }), /"feed_forward_proj" "gated-silu" is not supported for "t5"; supported: relu, gated-gelu/);
    const { relative_attention_num_buckets: _, ...noBuckets } = config;
    writeFileSync(join(dir, "config.json"), JSON.stringify(noBuckets));
    await assert.rejects(loadModel(dir, { backend: "ts" }), /missing required field "relative_attention_num_buckets"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a T5 folder with only spiece.model tokenizes with it (SentencePiece, \"</s>\" appended)", async () => {
  const { writeFileSync, rmSync: rm } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "peel-hf-t5-"));
  try {
    writeRandomHfT5Folder(dir, { ...base, seed: 24, flan: true }, albertSpmModel(), 3);
    rm(join(dir, "tokenizer.json"));
    writeFileSync(join(dir, "spiece.model"), albertSpmModel());
    const model = await loadModel(dir, { backend: "ts" });
    const ids = model.tokenize("the house is wonderful.");
    assert.equal(model.tokenizer.kind, "t5");
    assert.equal(ids.at(-1), model.tokenizer.eosId, "ends with </s>");
    assert.equal(model.detokenize(ids.slice(0, -1)), "the house is wonderful.");
    await model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("peel convert of a T5 folder: llama.cpp's t5 tokenizer keys from spiece.model, the same logits as the GGUF twin", async () => {
  const { writeFileSync } = await import("node:fs");
  const { convertHfFolder } = await import("../../src/model/convert.js");
  const { directorySource } = await import("../../src/model/load.node.js");
  const dir = mkdtempSync(join(tmpdir(), "peel-hf-t5-"));
  try {
    const spec: RandomT5Spec = { ...base, seed: 25, flan: true };
    writeRandomHfT5Folder(dir, spec, albertSpmModel(), 3);
    await assert.rejects(convertHfFolder(directorySource(dir), "f32"), /converts with its SentencePiece model \(spiece\.model or tokenizer\.model\)/);
    writeFileSync(join(dir, "spiece.model"), albertSpmModel());
    const converted = await loadModelFromSource(bytesSource(await convertHfFolder(directorySource(dir), "f32"), "converted.gguf"), { backend: "ts" });
    const twin = await loadModelFromSource(bytesSource(randomT5Gguf(spec), "t5.gguf"), { backend: "ts" });
    const text = "ﬁne Ｔｅｘｔ,   spaces and café — “quotes” …";
    assert.deepEqual(converted.tokenize(text), twin.tokenize(text), "the same GGUF tokenizer (llama.cpp's, eos from config.json)");
    const input = twin.tokenize("translate english to german: the house is wonderful.");
    const [a, b] = [createSession(converted, { flashAttention: "off" }), createSession(twin, { flashAttention: "off" })];
    a.encode(input); b.encode(input);
    assert.deepEqual([...a.evaluate([0])], [...b.evaluate([0])]);
    await converted.dispose(); await twin.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
