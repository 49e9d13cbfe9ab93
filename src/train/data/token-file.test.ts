// Token files: round trips at both widths (the header's exact bytes pinned), corrupt files refused with
// FORMAT naming the problem, and the Node helpers (no overwrite without force, IO errors).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PeelError, type PeelErrorCode } from "../../util/errors.js";
import { decodeTokenFile, encodeTokenFile, TOKEN_FILE_HEADER_BYTES } from "./token-file.js";
import { readTokenFile, writeTokenFile } from "./token-file.node.js";

const fails = (code: PeelErrorCode, re: RegExp) => (e: unknown): boolean => e instanceof PeelError && e.code === code && re.test(e.message);

test("header bytes are pinned; small vocabularies use 2 bytes per token", () => {
  const bytes = encodeTokenFile(Uint32Array.from([1, 258, 65535]), 65536);
  assert.deepEqual(Array.from(bytes.subarray(0, TOKEN_FILE_HEADER_BYTES)), [
    ...Array.from("PEELTOKS", (c) => c.charCodeAt(0)), 1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
  ]);
  assert.deepEqual(Array.from(bytes.subarray(TOKEN_FILE_HEADER_BYTES)), [1, 0, 2, 1, 255, 255]);
});

test("round trips at 2 and 4 bytes per token, and empty", () => {
  for (const [vocab, width] of [[300, 2], [65537, 4], [100_000, 4]] as const) {
    const tokens = Uint32Array.from({ length: 1000 }, (_, i) => (i * 7919) % vocab);
    const bytes = encodeTokenFile(tokens, vocab);
    assert.equal(bytes.length, TOKEN_FILE_HEADER_BYTES + 1000 * width);
    assert.deepEqual(decodeTokenFile(bytes, "x"), { vocabSize: vocab, tokens });
  }
  assert.deepEqual(decodeTokenFile(encodeTokenFile(new Uint32Array(0), 5), "x").tokens, new Uint32Array(0));
  // a view at an odd offset into a larger buffer decodes too
  const inner = encodeTokenFile(Uint32Array.from([4, 3]), 70000);
  const padded = new Uint8Array(inner.length + 1);
  padded.set(inner, 1);
  assert.deepEqual(Array.from(decodeTokenFile(padded.subarray(1), "x").tokens), [4, 3]);
});

test("encode refuses tokens outside the vocabulary and bad vocab sizes", () => {
  assert.throws(() => encodeTokenFile(Uint32Array.from([0, 5]), 5), fails("INVALID_ARGUMENT", /token 5 at position 1/));
  for (const v of [0, 1.5, 2 ** 32]) assert.throws(() => encodeTokenFile(new Uint32Array(0), v), fails("INVALID_ARGUMENT", /vocabSize/));
});

test("corrupt files are FORMAT errors naming the file and the problem", () => {
  const good = encodeTokenFile(Uint32Array.from([1, 2, 3]), 10);
  const edit = (f: (dv: DataView) => void): Uint8Array => {
    const b = good.slice();
    f(new DataView(b.buffer));
    return b;
  };
  assert.throws(() => decodeTokenFile(good.subarray(0, 10), "f.tok"), fails("FORMAT", /^f\.tok: truncated: 10 bytes/));
  assert.throws(() => decodeTokenFile(good.subarray(0, 4), "f"), fails("FORMAT", /truncated: 4 bytes/));
  assert.throws(() => decodeTokenFile(new Uint8Array(0), "f"), fails("FORMAT", /not a Peel token file/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setUint8(0, 0x51)), "f"), fails("FORMAT", /not a Peel token file/));
  assert.throws(() => decodeTokenFile(good.subarray(0, good.length - 1), "f"), fails("FORMAT", /truncated: the header says 3 tokens/));
  const longer = new Uint8Array(good.length + 2);
  longer.set(good);
  assert.throws(() => decodeTokenFile(longer, "f"), fails("FORMAT", /trailing bytes/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setUint32(16, 3, true)), "f"), fails("FORMAT", /bytesPerToken is 3/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setUint32(12, 0, true)), "f"), fails("FORMAT", /vocabSize is 0/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setUint32(12, 3, true)), "f"), fails("FORMAT", /token 3 at position 2 is not below vocabSize 3/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setBigUint64(20, 2n ** 60n, true)), "f"), fails("FORMAT", /safe integer/));
  assert.throws(() => decodeTokenFile(edit((dv) => dv.setUint32(8, 2, true)), "f"), fails("UNSUPPORTED", /version 2/));
});

test("writeTokenFile / readTokenFile: round trip, no overwrite without force, IO errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-tok-"));
  try {
    const path = join(dir, "a.tok");
    await writeTokenFile(path, Uint32Array.from([1, 2]), 3);
    assert.deepEqual(await readTokenFile(path), { vocabSize: 3, tokens: Uint32Array.from([1, 2]) });
    await assert.rejects(writeTokenFile(path, Uint32Array.from([0]), 3), fails("INVALID_ARGUMENT", /already exists/));
    assert.equal(readFileSync(path).length, TOKEN_FILE_HEADER_BYTES + 4, "the refused write left the file alone");
    await writeTokenFile(path, Uint32Array.from([0]), 3, { force: true });
    assert.deepEqual(Array.from((await readTokenFile(path)).tokens), [0]);
    await assert.rejects(readTokenFile(join(dir, "missing.tok")), fails("IO", /no such file/));
    await assert.rejects(writeTokenFile(join(dir, "no", "dir.tok"), new Uint32Array(0), 3), fails("IO", /cannot write/));
    writeFileSync(join(dir, "junk.tok"), "hello world, not tokens");
    await assert.rejects(readTokenFile(join(dir, "junk.tok")), fails("FORMAT", /junk\.tok: not a Peel token file/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
