// Traces of the other two stacks the inspector shows: a BERT encoder (bidirectional self-attention, one
// forward call, no logits) and a T5 encoder–decoder (encoder self-attention over the input; decoder causal
// self-attention and cross-attention, decoder positions × input positions, over forced output tokens). Every
// attention row sums to 1 (f32 weights: within 1e-5); bidirectional rows have weight after the query's
// position; cross maps have the right shape; maps equal the session's own tap records value for value; the
// traced pass is the real one (a BERT trace's last residual stream is embed()'s token vectors; a T5 trace's
// decoder logits are a plain session's). The inspector serves all maps over its protocol; views that need a
// next-token head refuse encoders by name. Small random models: T5 with ALBERT's vocabulary (npm), BERT with
// llama.cpp's bert-bge vocabulary (../shared; skipped, saying so, where absent).

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../formats/byte-source.js";
import { writeGguf } from "../formats/gguf/write.js";
import { createSession } from "../generate/session.js";
import { forward } from "../model/forward.js";
import { createKvCache } from "../model/kv-cache.js";
import { loadModelFromSource } from "../model/load.js";
import { createRunState } from "../model/run-state.js";
import { createTrace, type TapRecord } from "../model/trace.js";
import { embed } from "../embed/embed.js";
import { PeelError } from "../util/errors.js";
import { randomT5Gguf } from "../../test/fixtures/random-t5.js";
import { albertT5Vocab } from "../../test/fixtures/t5-vocab.js";
import { llamaCppVocab } from "../../test/fixtures/llama-cpp-vocab.js";
import { randomBertMetadata, randomBertTensors } from "../../test/fixtures/random-bert.js";
import { attentionRow, type AttentionMap } from "./attention-map.js";
import { createInspector, type AttentionView } from "./inspector.js";
import { callInspector } from "./protocol.js";
import { traceForward } from "./trace-forward.js";
import { traceSeq2seq } from "./trace-seq2seq.js";
import { ablate, patchResidual } from "./interventions.js";

const sum = (row: Float32Array) => row.reduce((a, b) => a + b, 0);

/** Each row of `map` sums to 1, equals the tap record holding it, and (bidirectional) has weight past the query. */
function checkMap(map: AttentionMap, records: readonly TapRecord[], label: string): void {
  for (let h = 0; h < map.nHeads; h++) {
    for (let q = 0; q < map.nTokens; q++) {
      const row = attentionRow(map, h, q);
      assert.equal(row.length, map.nKeys);
      assert.ok(Math.abs(sum(row) - 1) < 1e-5, `${label} head ${h} row ${q} sums to ${sum(row)}`);
      if (map.causal) for (let j = q + 1; j < map.nKeys; j++) assert.equal(row[j], 0, `${label}: causal row ${q} key ${j}`);
      else if (q + 1 < map.nKeys) assert.ok(row.subarray(q + 1).some((w) => w > 0), `${label}: bidirectional row ${q} sees no later key`);
      const r = records.find((x) => x.layer === map.layer && x.startPos <= q && q < x.startPos + (x.shape[0] as number))!;
      const width = r.shape[2] as number;
      const off = ((q - r.startPos) * map.nHeads + h) * width;
      assert.deepEqual([...row.subarray(0, width)], [...r.data.subarray(off, off + width)], `${label} head ${h} row ${q} equals the tap`);
    }
  }
}

const t5 = await loadModelFromSource(bytesSource(randomT5Gguf({
  dim: 32, hiddenDim: 64, encoderLayers: 3, decoderLayers: 2, nHeads: 4, headDim: 8, relBuckets: 32, contextLength: 128,
  weightType: "F32", seed: 5, flan: true, decoderStartId: 0, vocab: albertT5Vocab(),
}), "t5.gguf"), { backend: "ts" });
const INPUT = t5.tokenize("translate English to German: The house is wonderful.");
const OUTPUT = t5.tokenize("Das Haus ist wunderbar.", { addSpecial: false });

test("T5: encoder maps bidirectional, decoder self-attention causal, cross-attention (decoder × input); all equal the session's taps", () => {
  const t = traceSeq2seq(t5, INPUT, { output: OUTPUT });
  const nDec = OUTPUT.length + 1;
  assert.equal(t.encoder.layers.length, 3);
  assert.equal(t.decoder.layers.length, 2);
  assert.deepEqual(t.decoder.ids, [0, ...OUTPUT]);
  const enc = createTrace(["attn_weights"]), dec = createTrace(["attn_weights", "cross_weights"]);
  const s = createSession(t5, { flashAttention: "off" });
  s.encode(INPUT, { trace: enc });
  const logits = s.evaluate([0, ...OUTPUT], { trace: dec });
  assert.deepEqual([...t.decoder.logits], [...logits], "the traced decoder is the real one");
  for (const l of t.encoder.layers) {
    assert.equal(l.attention!.causal, false);
    assert.equal(l.crossAttention, undefined);
    checkMap(l.attention!, enc.records, `encoder layer ${l.layer}`);
  }
  for (const l of t.decoder.layers) {
    const self = l.attention!, cross = l.crossAttention!;
    assert.equal(self.causal, true);
    assert.equal(self.source, "self");
    checkMap(self, dec.records.filter((r) => r.name === "attn_weights"), `decoder layer ${l.layer} self`);
    assert.deepEqual([cross.source, cross.causal, cross.nTokens, cross.nKeys], ["cross", false, nDec, INPUT.length]);
    assert.equal(cross.kind === "full" ? cross.weights.length : -1, t5.config.nHeads * nDec * INPUT.length);
    checkMap(cross, dec.records.filter((r) => r.name === "cross_weights"), `decoder layer ${l.layer} cross`);
  }
});

test("T5: without an output the trace decodes the model's greedy answer; the inspector serves every map over its protocol", () => {
  const t = traceSeq2seq(t5, INPUT, { maxOutput: 5 });
  assert.ok(t.output.length >= 1 && t.output.length <= 5);
  assert.deepEqual(traceSeq2seq(t5, INPUT, { maxOutput: 5 }).output, t.output, "greedy is deterministic");
  const ins = createInspector(t5);
  assert.equal(ins.info().role, "encoder-decoder");
  const a = JSON.parse(JSON.stringify(callInspector(ins, "analyze", { text: "translate English to German: The house is wonderful.", output: "Das Haus ist wunderbar." })));
  assert.equal(a.role, "encoder-decoder");
  assert.deepEqual(a.maps.map((m: { stack: string; source: string }) => `${m.stack}/${m.source}`), ["encoder/self", "decoder/self", "decoder/cross"]);
  assert.equal(a.decoderTokens.length, OUTPUT.length + 1);
  assert.ok(a.next.length > 0);
  const cross = JSON.parse(JSON.stringify(callInspector(ins, "attention", { layer: 1, stack: "decoder", source: "cross" }))) as AttentionView;
  assert.deepEqual([cross.nTokens, cross.nKeys, cross.weights.length], [OUTPUT.length + 1, INPUT.length, 4 * (OUTPUT.length + 1) * INPUT.length]);
  const encMap = callInspector(ins, "attention", { layer: 2 }) as AttentionView; // the encoder has 3 layers, the decoder 2
  assert.deepEqual([encMap.stack, encMap.source, encMap.causal, encMap.nKeys], ["encoder", "self", false, INPUT.length]);
  const is = (words: string, code = "INVALID_ARGUMENT") => (e: unknown) => e instanceof PeelError && e.code === code && e.message.includes(words);
  assert.throws(() => callInspector(ins, "attention", { layer: 2, stack: "decoder" }), is("decoder has 2 layers"));
  assert.throws(() => callInspector(ins, "attention", { layer: 0, source: "both" }), is('"source" must be'));
  assert.throws(() => callInspector(ins, "step", { ids: [1, 2] }), is("encoder–decoder", "UNSUPPORTED"));
  assert.throws(() => traceForward(t5, INPUT), is("traceSeq2seq", "UNSUPPORTED"));
});

test("BERT: one bidirectional pass, maps equal its taps, the last residual stream is embed()'s token vectors; no logits", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  const spec = { dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, contextLength: 64, weightType: "F32", seed: 3, pooling: 1, vocab } as const;
  const bert = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomBertMetadata(spec), tensors: randomBertTensors(spec) })), { backend: "ts" });
  const text = "The quick brown fox jumps over the lazy dog.";
  const ids = bert.tokenize(text);
  const tr = traceForward(bert, ids, { taps: ["attn_weights", "resid"] });
  assert.equal(tr.stack, "encoder");
  assert.equal(tr.logits.length, 0);
  const tap = createTrace(["attn_weights"]);
  const k = bert.transformer.kernels;
  forward(bert.transformer, createRunState(k, bert.config, ids.length, ids.length), createKvCache(k, bert.config, ids.length, "F16", ids.length), ids, 0, { logits: "none", trace: tap });
  for (const l of tr.layers) checkMap(l.attention!, tap.records, `bert layer ${l.layer}`);
  const tokens = embed(bert, [text], { pooling: "none", normalize: false, flashAttention: "off", kvType: "F16" })[0]!;
  assert.deepEqual([...tr.layers[1]!.resid!], [...tokens]);
  const ins = createInspector(bert);
  const a = ins.analyze(text);
  assert.deepEqual([a.role, a.next.length, a.lens.layers.length, a.decoderTokens], ["encoder", 0, 0, null]);
  assert.deepEqual(a.maps, [{ stack: "encoder", source: "self", nLayers: 2, causal: false }]);
  const m = ins.attention(0);
  assert.deepEqual([m.causal, m.nTokens, m.nKeys], [false, ids.length, ids.length]);
  assert.throws(() => ins.ablate(text, [{ kind: "mlp", layer: 0 }]), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && e.message.includes("encoder"));
  // the library's interventions refuse it too: an encoder has no next-token distribution to change
  const refused = (what: string) => (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && e.message.includes(what) && e.message.includes("encoder");
  assert.throws(() => ablate(bert, ids, { kind: "mlp", layer: 0 }), refused("ablate"));
  assert.throws(() => patchResidual(bert, ids, { layer: 0, pos: 0, sourceIds: ids }), refused("patchResidual"));
});
