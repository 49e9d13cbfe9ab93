import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeGguf } from "../../formats/gguf/write.js";
import { trainBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import { PRESETS } from "../model/config.js";
import { createParams, initParams } from "../model/params.js";
import { exportLlamaGguf } from "./gguf.js";
import { writeLlamaGgufFile } from "./gguf.node.js";

const dir = mkdtempSync(join(tmpdir(), "peel-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("writeLlamaGgufFile writes the exported bytes, refuses to replace a file unless force, and names the path", async () => {
  const tok = await trainBpe({ texts: ["the theme then thee"], vocabSize: 262 });
  const params = createParams({ vocabSize: tok.vocab.length, dim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, hiddenDim: 64, contextLength: 16, ...PRESETS.llama });
  initParams(params, 1);
  const opts = { name: "file-test", dtype: "Q8_0" } as const;
  const path = join(dir, "model.gguf");
  const size = await writeLlamaGgufFile(path, params, tok, opts);
  const want = writeGguf(exportLlamaGguf(params, tok, opts));
  assert.equal(size, want.length);
  assert.deepEqual(new Uint8Array(readFileSync(path)), want);

  writeFileSync(path, "keep me");
  await assert.rejects(writeLlamaGgufFile(path, params, tok, opts),
    (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(path) && /already exists.*force/.test(e.message));
  assert.equal(readFileSync(path, "utf8"), "keep me");
  await writeLlamaGgufFile(path, params, tok, { ...opts, force: true });
  assert.equal(statSync(path).size, want.length);

  await assert.rejects(writeLlamaGgufFile(join(dir, "no-such-dir", "m.gguf"), params, tok, opts),
    (e: unknown) => e instanceof PeelError && e.code === "IO" && e.message.includes("no-such-dir"));
});
