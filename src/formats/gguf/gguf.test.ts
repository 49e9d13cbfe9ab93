// GGUF write → read round trips (every value type, nested arrays, every tensor type, alignment), the
// llama.cpp vocab files in ../shared (parsed, token counts from their README), and prefix-growing reads.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DTYPES, type DType } from "../../tensor/dtype.js";
import { tensorByteSize, type Tensor } from "../../tensor/tensor.js";
import { bytesSource, type ByteSource } from "../byte-source.js";
import { getBool, getNumber, getNumberArray, getString, getStringArray, requireNumber } from "./metadata.js";
import { loadGguf, readGgufHeader, readGgufTensors } from "./read.js";
import type { GgufKv } from "./types.js";
import { kv, writeGguf } from "./write.js";

function randomBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

function tensorOf(name: string, dtype: DType, shape: number[], seed: number): Tensor {
  return { name, dtype, shape, data: randomBytes(tensorByteSize(dtype, shape), seed) };
}

const ALL_KVS: Array<[string, GgufKv]> = [
  ["general.architecture", kv.str("llama")],
  ["t.u8", kv.u8(255)], ["t.i8", kv.i8(-128)], ["t.u16", kv.u16(65535)], ["t.i16", kv.i16(-32768)],
  ["t.u32", kv.u32(4294967295)], ["t.i32", kv.i32(-2147483648)], ["t.f32", kv.f32(Math.fround(0.1))],
  ["t.f64", kv.f64(0.1)], ["t.u64", kv.u64(2n ** 64n - 1n)], ["t.i64", kv.i64(-(2n ** 63n))],
  ["t.bool", kv.bool(true)], ["t.str", kv.str("héllo ▁ 🦙")], ["t.empty", kv.str("")],
  ["a.u8", kv.u8Array([1, 2, 3])], ["a.i32", kv.i32Array([-1, 0, 7])], ["a.u32", kv.u32Array([1, 4294967295])],
  ["a.f32", kv.f32Array([0.5, -1.25])], ["a.str", kv.strArray(["a", "", "▁b", "\u0000x"])],
  ["a.bool", kv.boolArray([true, false])],
  ["a.i8", kv.array({ elementType: "INT8", values: Int8Array.from([-5, 5]) })],
  ["a.u16", kv.array({ elementType: "UINT16", values: Uint16Array.from([1, 65535]) })],
  ["a.i16", kv.array({ elementType: "INT16", values: Int16Array.from([-2, 2]) })],
  ["a.f64", kv.array({ elementType: "FLOAT64", values: Float64Array.from([1e300, -0]) })],
  ["a.u64", kv.array({ elementType: "UINT64", values: BigUint64Array.from([0n, 2n ** 64n - 1n]) })],
  ["a.i64", kv.array({ elementType: "INT64", values: BigInt64Array.from([-1n, 5n]) })],
  ["a.empty", kv.f32Array([])],
  ["a.nested", kv.array({
    elementType: "ARRAY",
    values: [
      { elementType: "INT32", values: Int32Array.from([1, 2]) },
      { elementType: "STRING", values: ["x", "yz"] },
      { elementType: "ARRAY", values: [{ elementType: "BOOL", values: [false] }] },
    ],
  })],
];

const ALL_DTYPES = Object.keys(DTYPES) as DType[];

test("write → read round trip: every value type, nested arrays, every tensor type", async () => {
  const tensors = ALL_DTYPES.map((d, i) => tensorOf(`t.${d}`, d, [3, DTYPES[d].blockElems * 2], i + 1));
  tensors.push(tensorOf("vec", "F32", [5], 99), tensorOf("cube", "F16", [2, 3, 4, 2], 98));
  const bytes = writeGguf({ metadata: ALL_KVS, tensors });
  const { header, tensors: back } = await loadGguf(bytesSource(bytes));
  assert.equal(header.version, 3);
  assert.equal(header.alignment, 32);
  assert.deepEqual([...header.metadata.entries()], ALL_KVS);
  assert.equal(header.dataOffset % 32, 0);
  let expectOffset = 0;
  for (const [i, t] of tensors.entries()) {
    const info = header.tensorInfos[i];
    assert.ok(info !== undefined);
    assert.equal(info.name, t.name);
    assert.equal(info.offset, expectOffset, `${t.name} offsets are consecutive and aligned`);
    expectOffset += Math.ceil(info.byteSize / 32) * 32;
    const got = back.get(t.name);
    assert.ok(got !== undefined);
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(got.data, t.data);
  }
  assert.equal(bytes.length, header.dataOffset + expectOffset);
});

test("typed metadata accessors", async () => {
  const { header } = await loadGguf(bytesSource(writeGguf({ metadata: ALL_KVS, tensors: [] })));
  const m = header.metadata;
  assert.equal(getNumber(m, "t.u32"), 4294967295);
  assert.equal(getNumber(m, "t.i16"), -32768);
  assert.equal(getNumber(m, "t.f64"), 0.1);
  assert.throws(() => getNumber(m, "t.i64"), /does not fit/);
  assert.equal(getNumber(m, "missing"), undefined);
  assert.throws(() => requireNumber(m, "missing"), (e: Error & { code?: string }) => e.code === "CONFIG");
  assert.throws(() => getNumber(m, "t.u64"), /does not fit/);
  assert.throws(() => getNumber(m, "t.str"), /expected a number, found STRING/);
  assert.equal(getString(m, "general.architecture"), "llama");
  assert.equal(getBool(m, "t.bool"), true);
  assert.deepEqual(getStringArray(m, "a.str"), ["a", "", "▁b", "\u0000x"]);
  assert.throws(() => getStringArray(m, "a.i32"), /expected an array of strings, found ARRAY of INT32/);
  assert.deepEqual(Array.from(getNumberArray(m, "a.i32") ?? []), [-1, 0, 7]);
  assert.deepEqual(Array.from(getNumberArray(m, "a.i64") ?? []), [-1, 5]);
});

test("custom alignment is written as general.alignment and honoured", async () => {
  const tensors = [tensorOf("a", "F32", [3], 1), tensorOf("b", "Q8_0", [1, 32], 2)];
  const bytes = writeGguf({ metadata: [["general.architecture", kv.str("x")]], tensors, alignment: 64, version: 2 });
  const header = await readGgufHeader(bytesSource(bytes));
  assert.equal(header.version, 2);
  assert.equal(header.alignment, 64);
  assert.equal(getNumber(header.metadata, "general.alignment"), 64);
  assert.equal(header.dataOffset % 64, 0);
  assert.deepEqual(header.tensorInfos.map((t) => t.offset), [0, 64]);
  assert.throws(() => writeGguf({ metadata: [], tensors: [], alignment: 48 }), /power of two/);
  assert.throws(() => writeGguf({ metadata: [["general.alignment", kv.u32(16)]], tensors: [], alignment: 64 }), /disagrees/);
  assert.throws(() => writeGguf({ metadata: [], tensors: [{ name: "x", dtype: "Q4_0", shape: [32], data: new Uint8Array(3) }] }), /needs 18 bytes, has 3/);
});

/** Wraps a source and records every read, to check the reader never pulls the whole file at once. */
function countingSource(inner: ByteSource): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    size: inner.size, description: inner.description, reads,
    read: (o, n) => { reads.push([o, n]); return inner.read(o, n); },
    close: () => inner.close(),
  };
}

test("header comes from a growing prefix; each tensor is one read; progress and abort work", async () => {
  const big = tensorOf("big", "F32", [3 * 1024 * 256], 5); // 3 MiB
  const meta: Array<[string, GgufKv]> = [["pad", kv.strArray(Array.from({ length: 30000 }, (_, i) => `token-${i}-xxxxxxxxxxxxxxxxxxxxxxxx`))]]; // ~1.4 MB header
  const bytes = writeGguf({ metadata: meta, tensors: [tensorOf("small", "F32", [4], 1), big] });
  const src = countingSource(bytesSource(bytes, "mem.gguf"));
  const header = await readGgufHeader(src);
  assert.deepEqual(src.reads.map(([, n]) => n), [1 << 20, 2 << 20]);
  src.reads.length = 0;
  const progress: number[] = [];
  const tensors = await readGgufTensors(src, header, { onProgress: (d) => progress.push(d) });
  assert.equal(src.reads.length, 2);
  assert.deepEqual(progress, [0, 16, 16 + big.data.length]);
  assert.deepEqual(tensors.get("big")?.data, big.data);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(readGgufTensors(src, header, { signal: ac.signal }), (e: Error & { code?: string }) => e.code === "ABORTED");
  const only = await readGgufTensors(src, header, { filter: (t) => t.name === "small" });
  assert.deepEqual([...only.keys()], ["small"]);
});

const VOCAB_DIR = resolve(process.cwd(), "../shared/testdata/llama-cpp-vocab");
const VOCABS: Array<[string, string, number, number]> = [
  ["bert-bge", "bert", 30522, 0], ["deepseek-coder", "gpt2", 32256, 31757], ["deepseek-llm", "gpt2", 102400, 99757],
  ["falcon", "gpt2", 65024, 64784], ["gpt-2", "gpt2", 50257, 50000], ["llama-spm", "llama", 32000, 0],
  ["mpt", "gpt2", 50432, 50009], ["phi-3", "llama", 32064, 0], ["refact", "gpt2", 49216, 48891],
  ["starcoder", "gpt2", 49152, 48872], ["gpt-neox", "gpt2", 50432, 50009], ["baichuan", "llama", 64000, 0],
];

test("llama.cpp vocab GGUFs (zero tensors, no padding) parse with the README's token counts", async (t) => {
  if (!existsSync(VOCAB_DIR)) return t.skip(`../shared absent: ${VOCAB_DIR}`);
  for (const [name, model, nTokens, nMerges] of VOCABS) {
    const bytes = new Uint8Array(readFileSync(resolve(VOCAB_DIR, `ggml-vocab-${name}.gguf`)));
    const { header, tensors } = await loadGguf(bytesSource(bytes, name));
    assert.equal(header.version, 3, name);
    assert.equal(tensors.size, 0, name);
    assert.equal(getString(header.metadata, "tokenizer.ggml.model"), model, name);
    assert.equal(getStringArray(header.metadata, "tokenizer.ggml.tokens")?.length, nTokens, name);
    assert.equal(getStringArray(header.metadata, "tokenizer.ggml.merges")?.length ?? 0, nMerges, name);
    const types = getNumberArray(header.metadata, "tokenizer.ggml.token_type");
    assert.equal(types?.length, nTokens, name);
  }
});
