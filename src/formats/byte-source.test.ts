// Byte sources: in-memory views, file-backed positional reads, and the "truncated" / IO errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesSource } from "./byte-source.js";
import { openFileSource } from "./byte-source.node.js";
import { loadGguf } from "./gguf/read.js";
import { writeGgufFile } from "./gguf/write.node.js";
import { kv } from "./gguf/write.js";

const truncated = (e: Error & { code?: string }) =>
  e.code === "FORMAT" && /truncated: wanted 4 bytes at offset 8, but only 2 are available \(size 10\)/.test(e.message);

test("bytesSource returns views and refuses reads past the end", async () => {
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i);
  const s = bytesSource(bytes, "mem");
  const v = await s.read(2, 3);
  assert.deepEqual(Array.from(v), [2, 3, 4]);
  assert.equal(v.buffer, bytes.buffer);
  await assert.rejects(s.read(8, 4), (e: Error & { code?: string }) => truncated(e) && e.message.startsWith("mem:"));
  await s.close();
});

test("openFileSource reads at offsets, reports truncation and missing files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-bs-"));
  try {
    const path = join(dir, "f.bin");
    writeFileSync(path, Uint8Array.from({ length: 10 }, (_, i) => 10 + i));
    const s = await openFileSource(path);
    assert.equal(s.size, 10);
    assert.equal(s.description, path);
    assert.deepEqual(Array.from(await s.read(7, 3)), [17, 18, 19]);
    assert.equal((await s.read(0, 0)).length, 0);
    await assert.rejects(s.read(8, 4), truncated);
    await s.close();
    await assert.rejects(openFileSource(join(dir, "nope.gguf")), (e: Error & { code?: string }) => e.code === "IO" && /no such file/.test(e.message));
    // A GGUF written to disk and read back through the file source.
    const g = join(dir, "m.gguf");
    await writeGgufFile(g, { metadata: [["general.architecture", kv.str("llama")]], tensors: [{ name: "x", dtype: "F32", shape: [2], data: new Uint8Array(8).fill(1) }] });
    const fs = await openFileSource(g);
    const { tensors } = await loadGguf(fs);
    assert.deepEqual(Array.from(tensors.get("x")?.data ?? []), [1, 1, 1, 1, 1, 1, 1, 1]);
    await fs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
