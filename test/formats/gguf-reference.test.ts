// Our GGUF writer's output read by an outside parser: node-llama-cpp's readGgufFileInfo (a devDependency).
// Checks metadata, dims (GGUF order, innermost first), ggml type ids and aligned data offsets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quantize } from "../../src/formats/gguf/quant/index.js";
import { writeGgufFile } from "../../src/formats/gguf/write.node.js";
import { kv } from "../../src/formats/gguf/write.js";

test("node-llama-cpp reads a GGUF written by Peel", async (t) => {
  let readGgufFileInfo: typeof import("node-llama-cpp").readGgufFileInfo;
  try {
    ({ readGgufFileInfo } = await import("node-llama-cpp"));
  } catch (e) {
    return t.skip(`node-llama-cpp unavailable: ${String(e)}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "peel-gguf-ref-"));
  try {
    const path = join(dir, "m.gguf");
    await writeGgufFile(path, {
      metadata: [
        ["general.architecture", kv.str("llama")], ["llama.block_count", kv.u32(1)], ["x.f32s", kv.f32Array([1, 2])],
        ["x.strs", kv.strArray(["a", "▁b"])], ["x.u64", kv.u64(5n)], ["x.flag", kv.bool(true)],
      ],
      tensors: [
        { name: "a", dtype: "F32", shape: [3], data: new Uint8Array(12) },
        { name: "b", dtype: "Q4_0", shape: [2, 64], data: quantize("Q4_0", new Float32Array(128).fill(1)) },
        { name: "c", dtype: "Q6_K", shape: [1, 256], data: new Uint8Array(210) },
      ],
      alignment: 64,
    });
    const info = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal(info.version, 3);
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(meta.general?.architecture, "llama");
    assert.equal(meta.general?.alignment, 64);
    assert.deepEqual(meta.x?.strs, ["a", "▁b"]);
    assert.equal(meta.x?.flag, true);
    const tensors = (info.fullTensorInfo ?? []).map((ti) => [ti.name, ti.dimensions.map(Number), ti.ggmlType, Number(ti.offset)]);
    assert.deepEqual(tensors, [["a", [3], 0, 0], ["b", [64, 2], 2, 64], ["c", [256, 1], 14, 192]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
