// llama2.c checkpoints and tokenizer.bin: a hand-built legacy file read back with known values, write → read
// round trips for both versions with shared and separate classifiers, and corrupt inputs.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Tensor } from "../../tensor/tensor.js";
import { bytesSource } from "../byte-source.js";
import { llama2cLayout, parseLlama2cCheckpoint, readLlama2cCheckpoint, writeLlama2cCheckpoint, type Llama2cConfig } from "./checkpoint.js";
import { readLlama2cTokenizer, writeLlama2cTokenizer } from "./tokenizer-bin.js";

const CONFIG: Llama2cConfig = { dim: 8, hiddenDim: 12, nLayers: 2, nHeads: 2, nKvHeads: 1, vocabSize: 5, seqLen: 4, sharedClassifier: true, version: 0 };

function f32(t: Tensor): Float32Array {
  return new Float32Array(t.data.buffer, t.data.byteOffset, t.data.length / 4);
}

/** Tensors whose every value encodes (tensor index, element index), so any misplacement shows. */
function makeTensors(c: Llama2cConfig): Map<string, Tensor> {
  const map = new Map<string, Tensor>();
  llama2cLayout({ ...c, version: 1 }).forEach((e, k) => {
    if (e.name === null) return;
    const v = new Float32Array(e.byteSize / 4).map((_, i) => k * 1000 + i);
    map.set(e.name, { name: e.name, dtype: "F32", shape: e.shape, data: new Uint8Array(v.buffer) });
  });
  return map;
}

function errCode(code: string, re: RegExp) {
  return (e: Error & { code?: string }) => e.code === code && re.test(e.message);
}

test("hand-built legacy checkpoint (run.c order, freq tables skipped, negative vocab = own classifier)", async () => {
  const c = { dim: 2, hiddenDim: 2, nLayers: 1, nHeads: 1, nKvHeads: 1, vocab: -3, seqLen: 2 };
  const floats: number[] = [];
  const push = (n: number, base: number) => { for (let i = 0; i < n; i++) floats.push(base + i); };
  push(6, 100); // token_embd (3 x 2)
  push(2, 200); // attn_norm
  push(4, 300); push(4, 400); push(4, 500); push(4, 600); // wq wk wv wo
  push(2, 700); // ffn_norm
  push(4, 800); push(4, 900); push(4, 1000); // w1 w2 w3
  push(2, 1100); // output_norm
  push(2, -1); push(2, -2); // freq_cis_real, freq_cis_imag: seq_len x head_size/2
  push(6, 1200); // output
  const bytes = new Uint8Array(28 + floats.length * 4);
  const dv = new DataView(bytes.buffer);
  [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocab, c.seqLen].forEach((v, i) => dv.setInt32(4 * i, v, true));
  floats.forEach((v, i) => dv.setFloat32(28 + 4 * i, v, true));
  const { config, tensors } = await readLlama2cCheckpoint(bytes);
  assert.deepEqual(config, { dim: 2, hiddenDim: 2, nLayers: 1, nHeads: 1, nKvHeads: 1, vocabSize: 3, seqLen: 2, sharedClassifier: false, version: 0 });
  const get = (n: string) => { const t = tensors.get(n); assert.ok(t, n); return t; };
  assert.deepEqual(get("token_embd.weight").shape, [3, 2]);
  assert.deepEqual(Array.from(f32(get("token_embd.weight"))), [100, 101, 102, 103, 104, 105]);
  assert.deepEqual(Array.from(f32(get("blk.0.attn_k.weight"))), [400, 401, 402, 403]);
  assert.deepEqual(Array.from(f32(get("blk.0.ffn_gate.weight"))), [800, 801, 802, 803]);
  assert.deepEqual(Array.from(f32(get("blk.0.ffn_down.weight"))), [900, 901, 902, 903]);
  assert.deepEqual(Array.from(f32(get("blk.0.ffn_up.weight"))), [1000, 1001, 1002, 1003]);
  assert.deepEqual(Array.from(f32(get("output_norm.weight"))), [1100, 1101]);
  assert.deepEqual(Array.from(f32(get("output.weight"))), [1200, 1201, 1202, 1203, 1204, 1205]);
  assert.equal(tensors.size, 12);
  // The synchronous parser returns views into the same bytes.
  const parsed = parseLlama2cCheckpoint(bytes);
  assert.equal(parsed.tensors.get("output.weight")?.data.buffer, bytes.buffer);
});

test("write → read round trips: versions 0 and 1, shared and separate classifier, GQA", async () => {
  for (const version of [0, 1] as const) {
    for (const shared of [true, false]) {
      const config: Llama2cConfig = { ...CONFIG, version, sharedClassifier: shared };
      const tensors = makeTensors(config);
      const bytes = writeLlama2cCheckpoint(config, tensors);
      const back = await readLlama2cCheckpoint(bytesSource(bytes, "rt.bin"));
      assert.deepEqual(back.config, config);
      assert.equal(back.tensors.has("output.weight"), !shared);
      assert.equal(back.tensors.size, tensors.size);
      for (const [name, t] of tensors) {
        const got = back.tensors.get(name);
        assert.ok(got, name);
        assert.deepEqual(got.shape, t.shape, name);
        assert.deepEqual(got.data, t.data, name);
      }
      if (version === 1) {
        assert.equal(new DataView(bytes.buffer).getUint32(0, true), 0x616b3432);
        assert.equal(bytes.length, 256 + [...tensors.values()].reduce((s, t) => s + t.data.length, 0));
      }
    }
  }
  // A version-1 file can be rewritten as version 0 and read back the same.
  const t1 = makeTensors(CONFIG);
  const v0 = parseLlama2cCheckpoint(writeLlama2cCheckpoint({ ...CONFIG, version: 1 }, t1, 0));
  assert.equal(v0.config.version, 0);
  assert.deepEqual(v0.tensors.get("blk.1.attn_v.weight")?.data, t1.get("blk.1.attn_v.weight")?.data);
  assert.deepEqual(v0.tensors.get("blk.1.attn_v.weight")?.shape, [4, 8]);
});

test("corrupt and unsupported checkpoints are refused clearly", async () => {
  const good = writeLlama2cCheckpoint({ ...CONFIG, version: 1 }, makeTensors(CONFIG));
  await assert.rejects(readLlama2cCheckpoint(good.subarray(0, good.length - 4)), errCode("FORMAT", /size mismatch.*has \d+ bytes, but the file has \d+/));
  const v2 = good.slice();
  new DataView(v2.buffer).setInt32(4, 2, true);
  await assert.rejects(readLlama2cCheckpoint(v2), errCode("UNSUPPORTED", /version 2/));
  const v7 = good.slice();
  new DataView(v7.buffer).setInt32(4, 7, true);
  await assert.rejects(readLlama2cCheckpoint(v7), errCode("FORMAT", /unknown version 7/));
  const badFlag = good.slice();
  badFlag[36] = 3;
  await assert.rejects(readLlama2cCheckpoint(badFlag), errCode("FORMAT", /shared_classifier/));
  const legacy = writeLlama2cCheckpoint(CONFIG, makeTensors(CONFIG), 0);
  const negDim = legacy.slice();
  new DataView(negDim.buffer).setInt32(0, -8, true);
  await assert.rejects(readLlama2cCheckpoint(negDim), errCode("FORMAT", /dim = -8 is outside/));
  const hugeLayers = legacy.slice();
  new DataView(hugeLayers.buffer).setInt32(8, 1_000_000, true);
  await assert.rejects(readLlama2cCheckpoint(hugeLayers), errCode("FORMAT", /nLayers = 1000000/));
  const badHeads = legacy.slice();
  new DataView(badHeads.buffer).setInt32(12, 3, true);
  await assert.rejects(readLlama2cCheckpoint(badHeads), errCode("FORMAT", /inconsistent/));
  await assert.rejects(readLlama2cCheckpoint(new Uint8Array(10)), errCode("FORMAT", /too small/));
  assert.throws(() => writeLlama2cCheckpoint({ ...CONFIG, sharedClassifier: false }, makeTensors(CONFIG)), /"output.weight" is missing/);
});

test("tokenizer.bin: hand-built read, round trip, truncation", () => {
  const bytes = new Uint8Array([
    5, 0, 0, 0, // max_token_length
    0, 0, 0, 0, 5, 0, 0, 0, 0x3c, 0x75, 0x6e, 0x6b, 0x3e, // 0.0, "<unk>"
    0, 0, 0x80, 0xbf, 3, 0, 0, 0, 0xe2, 0x96, 0x81, // -1.0, "▁"
    0, 0, 0x20, 0x41, 1, 0, 0, 0, 0xff, // 10.0, invalid UTF-8 byte
  ]);
  const v = readLlama2cTokenizer(bytes);
  assert.deepEqual(v.pieces, ["<unk>", "▁", "\ufffd"]);
  assert.deepEqual(Array.from(v.scores), [0, -1, 10]);
  assert.deepEqual(Array.from(v.pieceBytes[2] ?? []), [0xff]);
  assert.equal(v.maxTokenLength, 5);
  assert.equal(readLlama2cTokenizer(bytes, 2).pieces.length, 2);
  assert.deepEqual(writeLlama2cTokenizer({ pieceBytes: v.pieceBytes, scores: v.scores }), bytes);
  const fromText = readLlama2cTokenizer(writeLlama2cTokenizer({ pieces: ["a", "héllo"], scores: [1.5, -2] }));
  assert.deepEqual(fromText.pieces, ["a", "héllo"]);
  assert.equal(fromText.maxTokenLength, 6);
  assert.throws(() => readLlama2cTokenizer(bytes, 4), errCode("FORMAT", /truncated at token 3 of 4/));
  assert.throws(() => readLlama2cTokenizer(bytes.subarray(0, bytes.length - 1)), errCode("FORMAT", /token 2 declares 1 bytes/));
  assert.throws(() => readLlama2cTokenizer(bytes.subarray(0, 2)), errCode("FORMAT", /truncated/));
  assert.throws(() => writeLlama2cTokenizer({ pieces: ["a"], scores: [] }), /1 pieces but 0 scores/);
});
