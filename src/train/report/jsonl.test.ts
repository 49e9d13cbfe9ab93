// The JSONL log: one line per record, readable before close, append vs truncate, and errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PeelError } from "../../util/errors.js";
import { createJsonlLog } from "./jsonl.node.js";

const lines = (path: string): unknown[] => readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as unknown);

test("records are lines on disk as soon as write returns; append keeps them, otherwise the file restarts", () => {
  const dir = mkdtempSync(join(tmpdir(), "peel-jsonl-"));
  try {
    const path = join(dir, "log.jsonl");
    const log = createJsonlLog(path, { append: false });
    log.write({ step: 0, loss: 4.5 });
    log.write({ step: 1, loss: NaN, note: "line\nbreak" });
    assert.deepEqual(lines(path), [{ step: 0, loss: 4.5 }, { step: 1, loss: null, note: "line\nbreak" }]);
    log.close();
    log.close();
    assert.throws(() => log.write({}), PeelError);
    const again = createJsonlLog(path, { append: true });
    again.write({ step: 2 });
    again.close();
    assert.equal(lines(path).length, 3);
    const fresh = createJsonlLog(path, { append: false });
    fresh.write({ step: 0 });
    fresh.close();
    assert.deepEqual(lines(path), [{ step: 0 }]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const log2 = createJsonlLog(path, { append: true });
    assert.throws(() => log2.write(cyclic), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
    log2.close();
    assert.throws(() => createJsonlLog(join(dir, "missing", "x.jsonl"), { append: true }), (e: unknown) => e instanceof PeelError && e.code === "IO");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
