// Safetensors reader/writer: a hand-made file, write -> read round trips, one test per kind of bad input,
// and a reference check. Neither the Python `safetensors` package nor torch is installed here (and PyPI is
// unreachable), so the reference check compares the writer with files built byte by byte from the spec, in
// the exact layouts the reference implementation's own serializer emits (key order dtype/shape/data_offsets,
// no spaces, "__metadata__" first, space padding to 8 bytes).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "../byte-source.js";
import { openFileSource } from "../byte-source.node.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../tensor/f16.js";
import type { Tensor } from "../../tensor/tensor.js";
import { readSafetensors, readSafetensorsHeader } from "./read.js";
import { writeSafetensors } from "./write.js";
import { writeSafetensorsFile } from "./write.node.js";

const enc = new TextEncoder();

/** A file from a header text (written as is, N = its byte length) and a data buffer. */
function file(header: string, data: Uint8Array | number[] = []): Uint8Array {
  const json = enc.encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function u16Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Uint16Array(values).buffer);
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  `{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;

async function rejects(bytes: Uint8Array, code: string, re: RegExp, opts = {}): Promise<void> {
  await assert.rejects(readSafetensors(bytesSource(bytes, "bad.safetensors"), opts), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.match(e.message, /bad\.safetensors/);
    return true;
  });
}

test("reads a hand-made file (metadata, padding, header order differing from offset order)", async () => {
  const header = `{"__metadata__":{"format":"pt","note":"héllo"},"b":${entry("F16", [1, 2], 8, 12)},"a":${entry("F32", [2], 0, 8)}}`;
  const padded = header + " ".repeat((8 - (enc.encode(header).length % 8)) % 8);
  // a = [1.5, -2] as F32 LE, then b = [1, -0.5] as F16 LE (0x3c00, 0xb800).
  const data = [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x3c, 0x00, 0xb8];
  const bytes = file(padded, data);
  const { header: h, tensors, raw } = await readSafetensors(bytesSource(bytes));
  assert.deepEqual(h.metadata, { format: "pt", note: "héllo" });
  assert.equal(h.dataOffset, 8 + enc.encode(padded).length);
  assert.equal(h.dataOffset % 8, 0);
  assert.deepEqual(h.tensors.map((t) => t.name), ["b", "a"]);
  assert.equal(raw.size, 0);
  const a = tensors.get("a");
  assert.ok(a);
  assert.equal(a.dtype, "F32");
  assert.deepEqual(a.shape, [2]);
  assert.deepEqual([...new Float32Array(a.data.slice().buffer)], [1.5, -2]);
  const b = tensors.get("b");
  assert.ok(b);
  assert.equal(b.dtype, "F16");
  assert.deepEqual(b.shape, [1, 2]);
  assert.deepEqual([...new Uint16Array(b.data.slice().buffer)].map(f16ToF32), [1, -0.5]);
});

test("reads an empty file ({} only) and zero-element tensors", async () => {
  const r = await readSafetensors(bytesSource(file("{}      ")));
  assert.equal(r.tensors.size, 0);
  assert.deepEqual(r.header.metadata, {});
  const z = await readSafetensors(bytesSource(file(`{"z":${entry("F32", [0, 3], 0, 0)},"w":${entry("BF16", [1], 0, 2)}}`, [0x80, 0x3f])));
  assert.deepEqual(z.tensors.get("z")?.shape, [0, 3]);
  assert.equal(z.tensors.get("w")?.data.length, 2);
});

test("write -> read round trip of F32/F16/BF16 with metadata, preserving order", async () => {
  const vals = [0.1, -3.25, 1e-3, 65504, 7, -0.0];
  const tensors: Tensor[] = [
    { name: "10", dtype: "BF16", shape: [3], data: u16Bytes(vals.slice(0, 3).map(f32ToBf16)) },
    { name: "model.w", dtype: "F32", shape: [2, 3], data: f32Bytes(vals) },
    { name: "2", dtype: "F16", shape: [3, 1], data: u16Bytes(vals.slice(3).map(f32ToF16)) },
  ];
  const metadata = { format: "pt", "quoted \"key\"": "line\nbreak", __proto__x: "" };
  const bytes = writeSafetensors({ tensors, metadata });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const r = await readSafetensors(bytesSource(bytes));
  assert.deepEqual(r.header.metadata, metadata);
  assert.deepEqual(r.header.tensors.map((t) => t.name), ["10", "model.w", "2"]);
  for (const t of tensors) {
    const got = r.tensors.get(t.name);
    assert.ok(got, t.name);
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(got.data, t.data);
  }
  // Expected bf16 values computed independently with Python (round-to-nearest-even on the f32 bits).
  const bf = r.tensors.get("10");
  assert.ok(bf);
  assert.deepEqual([...new Uint16Array(bf.data.slice().buffer)].map(bf16ToF32), [0.10009765625, -3.25, 0.00099945068359375]);
  const plain = writeSafetensors({ tensors: [] });
  assert.deepEqual((await readSafetensors(bytesSource(plain))).header.metadata, {});
});

test("reference layouts: writer output equals files built byte by byte from the spec", () => {
  const data = f32Bytes([0, 1, 2, 3, 4, 5]);
  // One F32 tensor [1,2,3]: the header is exactly 64 bytes, so no padding.
  const h1 = `{"attn.0":${entry("F32", [1, 2, 3], 0, 24)}}`;
  assert.equal(enc.encode(h1).length, 64);
  assert.deepEqual(writeSafetensors({ tensors: [{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], data }] }), file(h1, data));
  // A shorter name makes 65 bytes: padded with 7 spaces to 72.
  const h2 = `{"attn0":${entry("F32", [1, 1, 2, 3], 0, 24)}}`;
  assert.deepEqual(writeSafetensors({ tensors: [{ name: "attn0", dtype: "F32", shape: [1, 1, 2, 3], data }] }), file(`${h2}       `, data));
  // No tensors: "{}" padded to 8; with metadata: 40 bytes.
  assert.deepEqual(writeSafetensors({ tensors: [] }), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]));
  const h3 = `{"__metadata__":{"framework":"pt"}}`;
  assert.deepEqual(writeSafetensors({ tensors: [], metadata: { framework: "pt" } }), file(`${h3}     `));
  assert.equal(8 + enc.encode(h3).length + 5, 48);
});

test("bad length prefix: too small, absurd, past the end", async () => {
  await rejects(new Uint8Array([1, 2, 3]), "FORMAT", /too small/);
  const huge = file("{}");
  new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
  await rejects(huge, "FORMAT", /exceeds the 100000000-byte limit/);
  const all = file("{}");
  new DataView(all.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
  await rejects(all, "FORMAT", /exceeds/);
  const past = file("{}");
  new DataView(past.buffer).setBigUint64(0, 3n, true);
  await rejects(past, "FORMAT", /runs past the end of the 10-byte file/);
});

test("bad header text: invalid UTF-8, not JSON, not an object", async () => {
  const badUtf8 = file("{}");
  badUtf8[9] = 0xff;
  await rejects(badUtf8, "FORMAT", /not valid UTF-8/);
  await rejects(file(`{"a":`), "FORMAT", /not valid JSON/);
  await rejects(file(`[1,2]`), "FORMAT", /must be a JSON object, got an array/);
  await rejects(file(`null`), "FORMAT", /must be a JSON object, got null/);
});

test("bad tensor entries name the tensor and the field", async () => {
  await rejects(file(`{"w":3}`), "FORMAT", /tensor "w": entry must be an object.*got a number/);
  await rejects(file(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, [0, 0, 0, 0]), "FORMAT", /tensor "w": "dtype" must be a string, got a undefined/);
  await rejects(file(`{"w":{"dtype":"F32","shape":"2","data_offsets":[0,4]}}`), "FORMAT", /tensor "w": "shape" must be an array of non-negative integers, got "2"/);
  await rejects(file(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`), "FORMAT", /"shape" must be/);
  await rejects(file(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`), "FORMAT", /"shape" must be/);
  await rejects(file(`{"w":{"dtype":"F32","shape":[1]}}`), "FORMAT", /tensor "w": "data_offsets" must be \[begin, end\].*got nothing/);
  await rejects(file(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`), "FORMAT", /"data_offsets" must be/);
  await rejects(file(`{"w":${entry("F32", [1], 4, 0)}}`, [0, 0, 0, 0]), "FORMAT", /tensor "w": data_offsets end 0 is before begin 4/);
  await rejects(file(`{"w":${entry("F32", [2], 0, 8)}}`, [0, 0, 0, 0]), "FORMAT", /tensor "w": data_offsets \[0, 8\] run past the end of the 4-byte data buffer/);
  await rejects(file(`{"w":${entry("F32", [2], 0, 4)}}`, [0, 0, 0, 0]), "FORMAT", /tensor "w": holds 4 bytes but shape \[2\] x F32 \(4 bytes\) needs 8/);
});

test("unknown dtype is UNSUPPORTED and lists the supported ones", async () => {
  await rejects(file(`{"w":${entry("F4", [2], 0, 1)}}`, [0]), "UNSUPPORTED", /tensor "w": unknown dtype "F4"; supported safetensors dtypes: BOOL, U8, .*BF16.*F64/);
});

test("layout: overlap, gap, trailing bytes, missing start", async () => {
  const eight = new Array<number>(8).fill(0);
  await rejects(file(`{"a":${entry("F32", [2], 0, 8)},"b":${entry("F32", [1], 4, 8)}}`, eight), "FORMAT", /tensor "b" \(bytes 4\.\.8\) overlaps tensor "a" which ends at 8/);
  await rejects(file(`{"a":${entry("F32", [1], 0, 4)},"b":${entry("U8", [2], 6, 8)}}`, eight), "FORMAT", /gap of 2 unused bytes \(4\.\.6\) before tensor "b"/);
  await rejects(file(`{"b":${entry("F32", [1], 4, 8)}}`, eight), "FORMAT", /gap of 4 unused bytes \(0\.\.4\) before tensor "b"/);
  await rejects(file(`{"a":${entry("F32", [1], 0, 4)}}`, eight), "FORMAT", /4 bytes after the last tensor ends at 4 are not part of any tensor/);
});

test("duplicate names and bad metadata", async () => {
  const four = [0, 0, 0, 0];
  await rejects(file(`{"w":${entry("F32", [1], 0, 4)},"w":${entry("F32", [1], 0, 4)}}`, four), "FORMAT", /key "w" appears more than once/);
  await rejects(file(`{"w\\u0041":${entry("F32", [1], 0, 4)}, "wA" :${entry("F32", [1], 0, 4)}}`, four), "FORMAT", /key "wA" appears more than once/);
  await rejects(file(`{"__metadata__":{"a":"x"},"__metadata__":{"a":"y"}}`), "FORMAT", /key "__metadata__" appears more than once/);
  await rejects(file(`{"__metadata__":{"epoch":3}}`), "FORMAT", /"__metadata__" value for key "epoch" must be a string, got a number/);
  await rejects(file(`{"__metadata__":["a"]}`), "FORMAT", /"__metadata__" must be an object of strings, got an array/);
  // Nested objects with the same keys in different tensors are not duplicates.
  const ok = await readSafetensors(bytesSource(file(`{"a":${entry("F32", [1], 0, 4)},"b":${entry("F32", [1], 4, 8)}}`, [...four, ...four])));
  assert.equal(ok.tensors.size, 2);
});

test("non-Peel dtypes: UNSUPPORTED by default, bytes with raw: true, skippable with filter", async () => {
  const bytes = file(`{"ids":${entry("I64", [2], 0, 16)},"w":${entry("F32", [1], 16, 20)}}`, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f]);
  await rejects(bytes, "UNSUPPORTED", /tensor "ids" has dtype I64; Peel computes with F32, F16, BF16 only/);
  const raw = await readSafetensors(bytesSource(bytes), { raw: true });
  assert.deepEqual(raw.raw.get("ids")?.data, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(raw.raw.get("ids")?.dtype, "I64");
  assert.deepEqual([...raw.tensors.keys()], ["w"]);
  const filtered = await readSafetensors(bytesSource(bytes), { filter: (t) => t.dtype !== "I64" });
  assert.deepEqual([...filtered.tensors.keys()], ["w"]);
  assert.equal((await readSafetensorsHeader(bytesSource(bytes))).tensors[0]?.byteSize, 16);
});

test("progress and abort", async () => {
  const bytes = writeSafetensors({ tensors: [
    { name: "a", dtype: "F32", shape: [2], data: f32Bytes([1, 2]) },
    { name: "b", dtype: "F32", shape: [1], data: f32Bytes([3]) },
  ] });
  const seen: Array<[number, number]> = [];
  await readSafetensors(bytesSource(bytes), { onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen, [[0, 12], [8, 12], [12, 12]]);
  const ac = new AbortController();
  ac.abort();
  await rejects(Uint8Array.from(bytes), "ABORTED", /aborted/, { signal: ac.signal });
});

test("writer refuses bad tensors", () => {
  const w = (t: Tensor[]) => () => writeSafetensors({ tensors: t });
  const f = f32Bytes([1]);
  assert.throws(w([{ name: "q", dtype: "Q8_0", shape: [32], data: new Uint8Array(34) }]), { code: "UNSUPPORTED", message: /tensor "q": dtype Q8_0 cannot be stored/ });
  assert.throws(w([{ name: "w", dtype: "F32", shape: [2], data: f }]), { code: "INVALID_ARGUMENT", message: /tensor "w": has 4 bytes but shape \[2\] x F32 needs 8/ });
  assert.throws(w([{ name: "w", dtype: "F32", shape: [1], data: f }, { name: "w", dtype: "F32", shape: [1], data: f }]), { code: "INVALID_ARGUMENT", message: /tensor "w": the name is used by more than one/ });
  assert.throws(w([{ name: "__metadata__", dtype: "F32", shape: [1], data: f }]), { code: "INVALID_ARGUMENT", message: /reserved/ });
});

test("writeSafetensorsFile refuses to overwrite unless asked", async () => {
  const dir = await mkdtemp(join(tmpdir(), "peel-st-"));
  try {
    const path = join(dir, "m.safetensors");
    const spec = { tensors: [{ name: "w", dtype: "F32" as const, shape: [2], data: f32Bytes([1, 2]) }], metadata: { a: "b" } };
    await writeFile(path, "keep");
    await assert.rejects(writeSafetensorsFile(path, spec), (e: Error & { code?: string }) => {
      assert.equal(e.code, "INVALID_ARGUMENT");
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
    assert.equal(await readFile(path, "utf8"), "keep");
    await writeSafetensorsFile(path, spec, { overwrite: true });
    const src = await openFileSource(path);
    try {
      const r = await readSafetensors(src);
      assert.deepEqual(r.header.metadata, { a: "b" });
      assert.deepEqual(r.tensors.get("w")?.data, f32Bytes([1, 2]));
    } finally {
      await src.close();
    }
    await assert.rejects(writeSafetensorsFile(join(dir, "no/such/dir.st"), spec), { code: "IO" });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
