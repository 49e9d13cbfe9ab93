// One test per kind of bad GGUF input: each builds the corrupt bytes here and checks the PeelError code and
// that the message names what was expected and what was found.

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../byte-source.js";
import { ByteWriter } from "./byte-writer.js";
import { loadGguf } from "./read.js";
import { kv, writeGguf } from "./write.js";

interface RawTensor { name: string; dims: number[]; type: number; offset: number }

/** A GGUF file from raw parts; `kvs` entries are written by callbacks so tests can corrupt any field. */
function raw(opts: { version?: number; kvs?: Array<(w: ByteWriter) => void>; tensors?: RawTensor[]; nKv?: bigint; nTensors?: bigint; dataBytes?: number }): Uint8Array {
  const w = new ByteWriter();
  w.u32(0x46554747);
  w.u32(opts.version ?? 3);
  w.u64(opts.nTensors ?? BigInt(opts.tensors?.length ?? 0));
  w.u64(opts.nKv ?? BigInt(opts.kvs?.length ?? 0));
  for (const write of opts.kvs ?? []) write(w);
  for (const t of opts.tensors ?? []) {
    w.ggufString(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(t.offset);
  }
  w.zeros((32 - (w.length % 32)) % 32 + (opts.dataBytes ?? 0));
  return w.result().slice();
}

function strKv(key: string, value: string) {
  return (w: ByteWriter) => { w.ggufString(key); w.u32(8); w.ggufString(value); };
}

async function rejects(bytes: Uint8Array, code: string, re: RegExp): Promise<void> {
  await assert.rejects(loadGguf(bytesSource(bytes, "bad.gguf")), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.match(e.message, /bad\.gguf/);
    return true;
  });
}

const f32Tensor = (over: Partial<RawTensor> = {}): RawTensor => ({ name: "w", dims: [4], type: 0, offset: 0, ...over });

test("wrong magic, with a hint from sniffing", async () => {
  await rejects(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "FORMAT", /expected magic "GGUF", got "PK\\x03\\x04" — is this a zip/);
  const st = new Uint8Array(64);
  new DataView(st.buffer).setBigUint64(0, 40n, true);
  st[8] = 0x7b;
  await rejects(st, "FORMAT", /safetensors/);
  const l2c = new Uint8Array(64);
  [288, 768, 6, 6, 6, 32000, 256].forEach((v, i) => new DataView(l2c.buffer).setInt32(4 * i, v, true));
  await rejects(l2c, "FORMAT", /legacy llama2\.c/);
  const ak42 = new Uint8Array(64);
  new DataView(ak42.buffer).setUint32(0, 0x616b3432, true);
  await rejects(ak42, "FORMAT", /llama2\.c checkpoint/);
  await rejects(new Uint8Array([0x47, 0x47]), "FORMAT", /too small/);
});

test("unsupported versions: 1, 4, and big-endian files", async () => {
  await rejects(raw({ version: 1 }), "UNSUPPORTED", /version 1 is not supported/);
  await rejects(raw({ version: 4 }), "UNSUPPORTED", /version 4 is not supported; supported versions are 2 and 3/);
  await rejects(raw({ version: 0x03000000 }), "UNSUPPORTED", /big-endian/);
});

test("truncated header", async () => {
  const good = raw({ kvs: [strKv("general.name", "a fairly long model name")] });
  await rejects(good.subarray(0, 20), "FORMAT", /header truncated/);
  await rejects(good.subarray(0, 24 + 8 + 12 + 4 + 8 + 3), "FORMAT", /declares 24 bytes, but only 3 remain/);
});

test("absurd n_kv and n_tensors", async () => {
  await rejects(raw({ nKv: 10n ** 12n }), "FORMAT", /metadata count \(n_kv\) is 1000000000000, but a \d+-byte file can hold at most/);
  await rejects(raw({ nTensors: 2n ** 63n }), "FORMAT", /tensor count \(n_tensors\)/);
});

test("bad value type id, bool not 0/1, duplicate key, string past the end", async () => {
  await rejects(raw({ kvs: [(w) => { w.ggufString("k"); w.u32(13); w.u32(0); }] }), "FORMAT", /unknown GGUF value type id 13.*valid ids are 0\.\.12/);
  await rejects(raw({ kvs: [(w) => { w.ggufString("k"); w.u32(9); w.u32(77); w.u64(0); }] }), "FORMAT", /unknown GGUF value type id 77/);
  await rejects(raw({ kvs: [(w) => { w.ggufString("flag"); w.u32(7); w.u8(2); }] }), "FORMAT", /"flag": bool at offset \d+ must be 0 or 1, found 2/);
  await rejects(raw({ kvs: [(w) => { w.ggufString("a"); w.u32(9); w.u32(7); w.u64(2); w.u8(1); w.u8(9); }] }), "FORMAT", /\[1\]: bool .* found 9/);
  await rejects(raw({ kvs: [strKv("dup", "x"), strKv("dup", "y")] }), "FORMAT", /duplicate metadata key "dup"/);
  await rejects(raw({ kvs: [(w) => { w.ggufString("s"); w.u32(8); w.u64(10_000); }] }), "FORMAT", /declares 10000 bytes, but only \d+ remain/);
  await rejects(raw({ kvs: [(w) => { w.ggufString("arr"); w.u32(9); w.u32(6); w.u64(1n << 40n); }] }), "FORMAT", /declares 1099511627776 FLOAT32 elements/);
});

test("tensor infos: duplicate name, n_dims, unknown type, block multiple", async () => {
  await rejects(raw({ tensors: [f32Tensor(), f32Tensor({ offset: 32 })], dataBytes: 64 }), "FORMAT", /duplicate tensor name "w"/);
  await rejects(raw({ tensors: [f32Tensor({ dims: [] })] }), "FORMAT", /"w" has n_dims = 0; expected 1\.\.4/);
  await rejects(raw({ tensors: [f32Tensor({ dims: [1, 1, 1, 1, 1] })] }), "FORMAT", /n_dims = 5/);
  await rejects(raw({ tensors: [f32Tensor({ type: 16, dims: [256] })] }), "UNSUPPORTED", /"w" has type IQ2_XXS \(ggml id 16\).*supported types: F32, F16, Q4_0/);
  await rejects(raw({ tensors: [f32Tensor({ type: 99 })] }), "UNSUPPORTED", /unknown ggml type id 99; supported types:/);
  await rejects(raw({ tensors: [f32Tensor({ type: 4 })] }), "UNSUPPORTED", /removed/);
  await rejects(raw({ tensors: [f32Tensor({ type: 2, dims: [16, 2] })], dataBytes: 64 }), "FORMAT", /"w" \(Q4_0\) has ne\[0\] = 16, which is not a multiple of the block size 32/);
});

test("tensor placement: unaligned offset, data past the end of the file", async () => {
  await rejects(raw({ tensors: [f32Tensor({ offset: 8 })], dataBytes: 64 }), "FORMAT", /"w" offset 8 is not a multiple of the alignment 32/);
  await rejects(raw({ tensors: [f32Tensor({ dims: [64] })], dataBytes: 16 }), "FORMAT", /"w" \(F32, 256 bytes at data offset 0\) ends at byte \d+, past the end of the file/);
});

test("general.alignment must be a power of two", async () => {
  const align = (v: number) => (w: ByteWriter) => { w.ggufString("general.alignment"); w.u32(4); w.u32(v); };
  await rejects(raw({ kvs: [align(24)] }), "FORMAT", /general\.alignment must be a nonzero power-of-two integer, found 24/);
  await rejects(raw({ kvs: [align(0)] }), "FORMAT", /found 0/);
});

test("a zero-tensor file that ends right after its KVs loads (gguf-py style)", async () => {
  const w = new ByteWriter();
  w.u32(0x46554747); w.u32(3); w.u64(0); w.u64(1);
  strKv("tokenizer.ggml.model", "llama")(w);
  const { header, tensors } = await loadGguf(bytesSource(w.result().slice()));
  assert.equal(tensors.size, 0);
  assert.equal(header.metadata.size, 1);
  // and our own writer's padded zero-tensor output loads too
  const ours = await loadGguf(bytesSource(writeGguf({ metadata: [["a", kv.u32(1)]], tensors: [] })));
  assert.equal(ours.header.metadata.size, 1);
});
