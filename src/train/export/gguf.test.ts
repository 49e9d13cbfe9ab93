import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesSource } from "../../formats/byte-source.js";
import { dequantizeTensor } from "../../formats/gguf/dequant/index.js";
import { getBool, getNumber, getString } from "../../formats/gguf/metadata.js";
import { loadGguf, readGgufHeader } from "../../formats/gguf/read.js";
import { writeGguf } from "../../formats/gguf/write.js";
import { createSession } from "../../generate/session.js";
import { loadModelFromSource } from "../../model/load.js";
import { createRng } from "../../sample/rng.js";
import { tokenizerFromHfJson } from "../../tokenizer/hf/load-tokenizer-json.js";
import { hfTokenizerJson } from "../../tokenizer/train/hf-json.js";
import { trainBpe, type BpeKind, type TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import { PRESETS, type TrainModelConfig } from "../model/config.js";
import { createParams, initParams, type ModelParams } from "../model/params.js";
import { exportLlamaGguf, type GgufExportDType } from "./gguf.js";
import { exportGguf, ggufArchitectureOf } from "./export-gguf.js";

const TEXT = [
  "The cat sat on the mat. The dog sat on the log. A bird sang in the tree, and the cat looked up.",
  "She said it's the best thing they'd seen; we'll see what they've done with 123 apples and 4567 pears.",
  "Once upon a time there was a little girl who lived in a village near the forest.",
].join("\n").repeat(20);

const tokenizers = new Map<BpeKind, Promise<TrainedBpe>>();
const trained = (kind: BpeKind): Promise<TrainedBpe> => {
  let t = tokenizers.get(kind);
  if (t === undefined) tokenizers.set(kind, (t = trainBpe({ texts: [TEXT], vocabSize: 300, kind })));
  return t;
};

function config(vocabSize: number, over: Partial<TrainModelConfig> = {}): TrainModelConfig {
  return { vocabSize, dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 96, contextLength: 32, ...PRESETS.llama, ropeTheta: 5000, normEps: 1e-6, ...over };
}

/** Seeded weights with every gain and matrix distinct, so a swapped or transposed tensor shows in the logits. */
function weights(c: TrainModelConfig, seed = 3): ModelParams {
  const p = createParams(c);
  initParams(p, seed);
  const rng = createRng(seed + 7);
  for (const q of p.list) {
    const scale = q.decay ? (q === p.tokEmbed ? 0.5 : 1 / Math.sqrt(q.shape[1] as number)) / 0.02 : 1;
    for (let i = 0; i < q.data.length; i++) q.data[i] = q.decay ? (q.data[i] as number) * scale : 0.5 + rng.next();
  }
  return p;
}

const bytesOf = (params: ModelParams, tok: TrainedBpe, dtype: GgufExportDType = "F32"): Uint8Array =>
  writeGguf(exportLlamaGguf(params, tok, { name: "tiny", dtype, description: "a test model" }));

// ---- a plain float64 Llama forward over ModelParams: the reference the exported file must reproduce ----

function matVec(w: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (w[r * cols + c] as number) * (x[c] as number);
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, g: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * (g[i] as number));
}

/** Rotates adjacent pairs (2i, 2i+1) of each head by pos · theta^(-2i/headDim). */
function rope(x: Float64Array, nHeads: number, headDim: number, pos: number, theta: number): void {
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      const a = pos * theta ** (-(2 * i) / headDim);
      const o = h * headDim + 2 * i;
      const x0 = x[o] as number, x1 = x[o + 1] as number;
      x[o] = x0 * Math.cos(a) - x1 * Math.sin(a);
      x[o + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
    }
  }
}

/** Logits after each token of `ids`. */
function referenceLogits(p: ModelParams, ids: readonly number[]): Float64Array[] {
  const c = p.config, D = c.dim, hd = c.dim / c.nHeads, kvDim = hd * c.nKvHeads, group = c.nHeads / c.nKvHeads;
  const keys: Float64Array[][] = p.layers.map(() => []), values: Float64Array[][] = p.layers.map(() => []);
  const out: Float64Array[] = [];
  ids.forEach((id, pos) => {
    let x = Float64Array.from(p.tokEmbed.data.subarray(id * D, (id + 1) * D));
    p.layers.forEach((l, li) => {
      const h = rmsNorm(x, l.attnNorm.data, c.normEps);
      const q = matVec(l.wq.data, D, D, h), k = matVec(l.wk.data, kvDim, D, h), v = matVec(l.wv.data, kvDim, D, h);
      rope(q, c.nHeads, hd, pos, c.ropeTheta);
      rope(k, c.nKvHeads, hd, pos, c.ropeTheta);
      (keys[li] as Float64Array[]).push(k);
      (values[li] as Float64Array[]).push(v);
      const att = new Float64Array(D);
      for (let head = 0; head < c.nHeads; head++) {
        const kvh = Math.floor(head / group);
        const scores = (keys[li] as Float64Array[]).map((kk) => {
          let s = 0;
          for (let d = 0; d < hd; d++) s += (q[head * hd + d] as number) * (kk[kvh * hd + d] as number);
          return s / Math.sqrt(hd);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        (values[li] as Float64Array[]).forEach((vv, t) => {
          for (let d = 0; d < hd; d++) att[head * hd + d] = (att[head * hd + d] as number) + ((e[t] as number) / z) * (vv[kvh * hd + d] as number);
        });
      }
      x = x.map((xv, i) => xv + (matVec(l.wo.data, D, D, att)[i] as number));
      const h2 = rmsNorm(x, l.ffnNorm.data, c.normEps);
      const gate = matVec((l.wGate ?? l.wUp).data, c.hiddenDim, D, h2), up = matVec(l.wUp.data, c.hiddenDim, D, h2);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      const down = matVec(l.wDown.data, D, c.hiddenDim, act);
      x = x.map((xv, i) => xv + (down[i] as number));
    });
    out.push(matVec((p.output ?? p.tokEmbed).data, c.vocabSize, D, rmsNorm(x, p.finalNorm.data, c.normEps)));
  });
  return out;
}

for (const tied of [true, false]) {
  test(`exported F32 ${tied ? "tied" : "untied"} model: Peel's logits equal a plain Llama forward of the parameters (names, orientation, RoPE pairing)`, async () => {
    const tok = await trained("byte-level");
    const params = weights(config(tok.vocab.length, { tiedOutput: tied }));
    const model = await loadModelFromSource(bytesSource(bytesOf(params, tok)), { backend: "ts" });
    const ids = model.tokenize("The cat sat on the log and sang.", { addSpecial: false }).slice(0, 12);
    const want = referenceLogits(params, ids);
    const session = createSession(model, { kvType: "F32" });
    let worst = 0;
    ids.forEach((id, i) => {
      const got = session.evaluate([id]);
      const w = want[i] as Float64Array;
      for (let v = 0; v < w.length; v++) worst = Math.max(worst, Math.abs((got[v] as number) - (w[v] as number)));
    });
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
    const scale = Math.max(...(want[3] as Float64Array).map(Math.abs));
    assert.ok(scale > 0.5, `logits too small to show anything (${scale})`);
  });
}

test("round trip: the GGUF reader and loader give back the config, names, types and metadata", async () => {
  for (const kind of ["byte-level", "sentencepiece"] as const) {
    const tok = await trained(kind);
    const c = config(tok.vocab.length);
    const bytes = bytesOf(weights(c), tok, "F16");
    const header = await readGgufHeader(bytesSource(bytes));
    const md = header.metadata;
    assert.equal(getString(md, "general.architecture"), "llama");
    assert.equal(getString(md, "general.name"), "tiny");
    assert.equal(getString(md, "general.description"), "a test model");
    assert.equal(getNumber(md, "general.file_type"), 1);
    assert.equal(getNumber(md, "general.quantization_version"), undefined);
    assert.equal(getNumber(md, "llama.vocab_size"), tok.vocab.length);
    assert.equal(getNumber(md, "llama.rope.dimension_count"), 16);
    assert.equal(getNumber(md, "llama.rope.freq_base"), 5000);
    assert.equal(getString(md, "tokenizer.ggml.model"), kind === "byte-level" ? "gpt2" : "llama");
    assert.equal(getBool(md, "tokenizer.ggml.add_bos_token"), kind === "sentencepiece");
    const types = new Map(header.tensorInfos.map((t) => [t.name, t.dtype]));
    assert.equal(types.size, 1 + 2 * 9 + 1, "token_embd, 9 per block, output_norm; no output.weight when tied");
    assert.equal(types.get("output.weight"), undefined);
    assert.equal(types.get("token_embd.weight"), "F16");
    assert.equal(types.get("blk.1.ffn_gate.weight"), "F16");
    assert.equal(types.get("blk.0.attn_norm.weight"), "F32");
    assert.equal(types.get("output_norm.weight"), "F32");

    const model = await loadModelFromSource(bytesSource(bytes), { backend: "ts" });
    const got = model.config;
    assert.equal(got.architecture, "llama");
    assert.ok(got.rope !== undefined, "exported with rotary positions");
    assert.deepEqual(
      { dim: got.dim, nLayers: got.nLayers, nHeads: got.nHeads, nKvHeads: got.nKvHeads, hiddenDim: got.hiddenDim, vocabSize: got.vocabSize, contextLength: got.contextLength, tied: got.tiedOutput, style: got.rope.style, nRot: got.rope.nRot, theta: got.rope.theta, headDim: got.headDim },
      { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 96, vocabSize: tok.vocab.length, contextLength: 32, tied: true, style: "normal", nRot: 16, theta: 5000, headDim: 16 },
    );
    assert.equal(got.normEps, Math.fround(1e-6));
    // the embedded tokenizer encodes as the trainer's own tokenizer.json does
    const own = tokenizerFromHfJson(hfTokenizerJson(tok));
    for (const text of ["Once upon a time, the cat sang!", "they'd  seen 4567\tpears\n\nand ünïcödé 日本"]) {
      assert.deepEqual(model.tokenize(text), own.encode(text), `${kind}: ${JSON.stringify(text)}`);
    }
  }
});

test("F16 and Q8_0 tensors hold the parameters to within their rounding; Q8_0 files carry the quantization version", async () => {
  const tok = await trained("byte-level");
  const params = weights(config(tok.vocab.length, { tiedOutput: false }));
  for (const [dtype, rel] of [["F16", 1e-3], ["Q8_0", 1e-2]] as const) {
    const file = await loadGguf(bytesSource(bytesOf(params, tok, dtype)));
    assert.equal(getNumber(file.header.metadata, "general.file_type"), dtype === "F16" ? 1 : 7);
    assert.equal(getNumber(file.header.metadata, "general.quantization_version"), dtype === "Q8_0" ? 2 : undefined);
    for (const [name, p] of [["blk.1.attn_output.weight", params.layers[1]?.wo], ["output.weight", params.output], ["token_embd.weight", params.tokEmbed]] as const) {
      const t = file.tensors.get(name);
      assert.ok(t !== undefined && p !== undefined, name);
      assert.equal(t.dtype, dtype);
      const x = dequantizeTensor(t);
      const max = p.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (p.data[i] as number)));
      assert.ok(worst <= rel * max, `${dtype} ${name}: error ${worst} vs max ${max}`);
    }
    const g = file.tensors.get("blk.0.ffn_norm.weight");
    assert.equal(g?.dtype, "F32");
    assert.deepEqual(dequantizeTensor(g), params.layers[0]?.ffnNorm.data);
  }
});

test("the spec holds copies: training on after the export does not change what gets written", async () => {
  const tok = await trained("byte-level");
  const params = weights(config(tok.vocab.length));
  const spec = exportLlamaGguf(params, tok, { name: "snap" });
  const before = writeGguf(spec);
  for (const p of params.list) p.data.fill(0.25);
  assert.deepEqual(writeGguf(spec), before);
});

const rejects = (fn: () => unknown, code: string, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof PeelError && e.code === code && pattern.test(e.message));
};

test("refuses what llama.cpp cannot run or the file cannot hold, naming the problem", async () => {
  const tok = await trained("byte-level");
  const n = tok.vocab.length;
  const gpt2 = createParams({ ...config(n), ...PRESETS.gpt2 });
  rejects(() => exportLlamaGguf(gpt2, tok, { name: "g" }), "UNSUPPORTED", /only the Llama-style preset.*GGUF llama.*norm "layer".*GPT-2-style models export to GGUF gpt2/s);
  assert.equal(ggufArchitectureOf(gpt2.config), "gpt2");
  assert.equal(ggufArchitectureOf(config(n)), "llama");
  rejects(() => exportGguf(createParams({ ...config(n), activation: "gelu" }), tok, { name: "g" }), "UNSUPPORTED",
    /rms norm, rope positions and gelu has no GGUF architecture.*rms \+ rope \+ swiglu \(llama\) and layer \+ learned \(or sinusoidal\) \+ gelu \(gpt2\)/);
  rejects(() => exportGguf(createParams({ ...config(n), ...PRESETS.gpt2, activation: "relu" }), tok, { name: "g" }), "UNSUPPORTED", /layer norm, learned positions and relu/);
  assert.equal(ggufArchitectureOf({ ...config(n), ...PRESETS.gpt2, position: "sinusoidal" }), "gpt2");
  rejects(() => exportLlamaGguf(createParams({ ...config(n), activation: "gelu" }), tok, { name: "g" }), "UNSUPPORTED", /activation "gelu"/);
  rejects(() => exportLlamaGguf(weights(config(n, { dim: 48, nHeads: 3, nKvHeads: 1 })), tok, { name: "q", dtype: "Q8_0" }), "INVALID_ARGUMENT", /Q8_0 stores each row in blocks of 32 values.*rows of 48/);
  rejects(() => exportLlamaGguf(weights(config(n + 1)), tok, { name: "v" }), "INVALID_ARGUMENT", /tokenizer has 300 tokens but the model's vocabulary size is 301/);
  rejects(() => exportLlamaGguf(weights(config(n)), tok, { name: " " }), "INVALID_ARGUMENT", /name/);
  rejects(() => exportLlamaGguf(weights(config(n)), tok, { name: "x", dtype: "Q4_0" as GgufExportDType }), "INVALID_ARGUMENT", /dtype must be one of F32, F16, Q8_0/);
  const nan = weights(config(n));
  nan.layers[1]?.wv.data.fill(NaN, 5, 6);
  rejects(() => exportLlamaGguf(nan, tok, { name: "x" }), "INVALID_ARGUMENT", /layers\.1\.wv holds NaN at index 5.*diverge/);
  const big = weights(config(n));
  big.tokEmbed.data[0] = 1e5;
  rejects(() => exportLlamaGguf(big, tok, { name: "x", dtype: "F16" }), "INVALID_ARGUMENT", /beyond the F16 range/);
  assert.doesNotThrow(() => exportLlamaGguf(big, tok, { name: "x", dtype: "F32" }));
});
