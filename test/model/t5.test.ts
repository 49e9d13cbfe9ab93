/**
 * T5 beyond the llama.cpp parity suite: the relative-position buckets computed by hand, the encoder–decoder
 * session's contract (encode before decoding, the cross-attention keys kept per input, a decoder-only model
 * refuses encode), and bad files and inputs failing with typed errors that name the problem (a missing
 * decoder tensor, a bias table of the wrong shape, no decoder at all, a broken charsmap, an over-long input).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf, kv } from "../../src/formats/gguf/write.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { relativeBucket } from "../../src/model/relative-position.js";
import { createSession, decoderStartId } from "../../src/generate/session.js";
import { generate } from "../../src/generate/generate.js";
import { parseCharsmap } from "../../src/tokenizer/charsmap.js";
import { PeelError } from "../../src/util/errors.js";
import { createTrace } from "../../src/model/trace.js";
import { traceForward } from "../../src/inspect/trace-forward.js";
import { randomT5Metadata, randomT5Tensors, type RandomT5Spec } from "../fixtures/random-t5.js";
import { albertSpmModel, albertT5Vocab, readSpmNormalizer } from "../fixtures/t5-vocab.js";
import { metaWith, rejectsLoad } from "../fixtures/bad-gguf.js";
import { randomLlamaGguf } from "../fixtures/random-llama.js";
import { peelArgv } from "../fixtures/peel-cli.js";

const vocab = albertT5Vocab();
const spec: RandomT5Spec = { dim: 32, hiddenDim: 64, encoderLayers: 2, decoderLayers: 2, nHeads: 4, headDim: 8, relBuckets: 32,
  contextLength: 64, weightType: "F32", seed: 3, flan: true, decoderStartId: 0, vocab };

const peelError = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof PeelError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

test("relative buckets by hand: exact near the query, log-spaced further out, saturating at 128", () => {
  // bidirectional, 32 buckets: 16 per direction, 8 exact; keys after the query (d > 0) use buckets 16..31
  assert.deepEqual([0, -1, -7, 1, 7].map((d) => relativeBucket(d, 32, true, 128)), [0, 1, 7, 17, 23]);
  // d = -8: 8 + floor(log(8/8) · 8 / log(16)) = 8; d = -16: 8 + floor(log 2 · 8 / log 16) = 10; d = -64: 8 + 6 = 14
  assert.deepEqual([-8, -16, -64, -127, -128, -1000].map((d) => relativeBucket(d, 32, true, 128)), [8, 10, 14, 15, 15, 15]);
  assert.equal(relativeBucket(1000, 32, true, 128), 31);
  // causal, 32 buckets: 16 exact; a later key (d > 0) counts as distance 0; d = -32: 16 + floor(log 2 · 16 / log 8) = 21
  assert.deepEqual([0, 5, -5, -15, -16, -32, -200].map((d) => relativeBucket(d, 32, false, 128)), [0, 0, 5, 15, 16, 21, 31]);
});

test("an encoder–decoder session: encode first, keys kept per input, generate() decodes from the start token", async () => {
  const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomT5Metadata(spec), tensors: randomT5Tensors(spec) }), "t5"), { backend: "ts" });
  const session = createSession(model, { flashAttention: "off" });
  assert.throws(() => session.evaluate([0]), peelError("INVALID_ARGUMENT", /encode\(\) an input/));
  const input = model.tokenize("translate English to German: the house is small.");
  session.encode(input);
  assert.deepEqual(session.encoded, input);
  const first = session.evaluate([decoderStartId(model)]).slice();
  const second = session.evaluate([42]).slice();
  session.encode(input); // the same input again: the decoder starts over and sees the same keys
  assert.deepEqual(session.tokens, []);
  assert.deepEqual([...session.evaluate([decoderStartId(model)])], [...first]);
  assert.deepEqual([...session.evaluate([42])], [...second]);
  session.encode(model.tokenize("something else entirely"));
  assert.notDeepEqual([...session.evaluate([decoderStartId(model)])], [...first], "another input, other logits");
  const gen = generate(model, "translate English to German: the house is small.", { maxTokens: 5, stopAtEog: false, flashAttention: "off" });
  for await (const _ of gen) { /* drain */ }
  assert.equal(gen.tokens.length, 5);
  assert.deepEqual(gen.promptTokens, input);
  assert.throws(() => session.encode(Array.from({ length: 65 }, () => 7)), peelError("CONTEXT_OVERFLOW", /65 tokens but the encoder holds 64/));
  // the taps: the encoder's blocks through encode's trace (bidirectional weights), the decoder's cross-attention
  const encTrace = createTrace(["attn_weights", "output_norm"]);
  session.encode(input, { trace: encTrace });
  const w0 = encTrace.records.find((r) => r.name === "attn_weights" && r.layer === 0)!;
  assert.deepEqual(w0.shape, [input.length, 4, input.length]);
  assert.ok(w0.data[1]! > 0, "the first token attends to the second: bidirectional");
  assert.deepEqual(encTrace.records.find((r) => r.name === "output_norm")!.shape, [input.length, 32]);
  const decTrace = createTrace(["attn_weights", "cross_weights", "cross_out"]);
  session.evaluate([decoderStartId(model), 42], { trace: decTrace });
  const cw = decTrace.records.filter((r) => r.name === "cross_weights");
  assert.equal(cw.length, 2);
  assert.deepEqual(cw[0]!.shape, [2, 4, input.length]);
  const rowSum = cw[0]!.data.subarray(0, input.length).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(rowSum - 1) < 1e-5, `cross-attention weights sum to 1, got ${rowSum}`);
  assert.throws(() => traceForward(model, input), peelError("UNSUPPORTED", /encoder–decoder/));
  await model.dispose();
});

test("a decoder-only model refuses encode()", async () => {
  const model = await loadModelFromSource(bytesSource(randomLlamaGguf({ dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 4, vocabSize: 300, contextLength: 32, weightType: "F32", seed: 1 } as Parameters<typeof randomLlamaGguf>[0]), "llama"), { backend: "ts" });
  assert.throws(() => createSession(model).encode([1, 2]), peelError("UNSUPPORTED", /not an encoder–decoder model/));
  await model.dispose();
});

test("bad T5 files fail at load, naming the tensor or key", async () => {
  const meta = randomT5Metadata(spec);
  const tensors = randomT5Tensors(spec);
  const without = (name: string) => writeGguf({ metadata: meta, tensors: tensors.filter((t) => t.name !== name) });
  await rejectsLoad(without("dec.blk.1.cross_attn_k.weight"), "CONFIG", /missing required tensor "dec\.blk\.1\.cross_attn_k\.weight"/);
  await rejectsLoad(without("enc.blk.0.attn_rel_b.weight"), "CONFIG", /missing required tensor "enc\.blk\.0\.attn_rel_b\.weight" \(expected shape \[32, 4\]\)/);
  const badBias = tensors.map((t) => (t.name === "dec.blk.0.attn_rel_b.weight" ? { ...t, shape: [4, 32] } : t));
  await rejectsLoad(writeGguf({ metadata: meta, tensors: badBias }), "CONFIG", /"dec\.blk\.0\.attn_rel_b\.weight" has shape \[4, 32\], expected \[32, 4\]/);
  const encoderOnly = tensors.filter((t) => !t.name.startsWith("dec.") && t.name !== "output.weight");
  await rejectsLoad(writeGguf({ metadata: meta, tensors: encoderOnly }), "CONFIG", /has no decoder/);
  await rejectsLoad(writeGguf({ metadata: meta.filter(([k]) => k !== "t5.attention.relative_buckets_count"), tensors }), "CONFIG", /t5\.attention\.relative_buckets_count/);
  const stray = [...tensors, { ...tensors.find((t) => t.name === "enc.blk.0.attn_norm.weight")!, name: "enc.blk.0.attn_norm_2.weight" }];
  await rejectsLoad(writeGguf({ metadata: meta, tensors: stray }), "CONFIG", /"enc\.blk\.0\.attn_norm_2\.weight" is not part of a "t5" model/);
});

test("precompiled charsmap: NFKC replacements by longest prefix; damaged maps are TOKENIZER errors", async () => {
  const bytes = readSpmNormalizer(albertSpmModel()).charsmap;
  const cm = parseCharsmap(bytes);
  const norm = (s: string) => { const r = cm.normalizePrefix(new TextEncoder().encode(s), 0); return r && [new TextDecoder().decode(r.out), r.consumed]; };
  assert.deepEqual(norm("①x"), ["1", 3]);
  assert.deepEqual(norm("ﬁne"), ["fi", 3]);
  assert.deepEqual(norm("Ｔ"), ["T", 3]);
  assert.deepEqual(norm("e\u0301"), ["é", 3]); // the longest prefix: e + combining acute
  assert.equal(norm("abc"), undefined);
  assert.throws(() => parseCharsmap(bytes.subarray(0, 3)), peelError("TOKENIZER", /too short/));
  assert.throws(() => parseCharsmap(bytes.subarray(0, 1000)), peelError("TOKENIZER", /the trie is said to take \d+ bytes, but 996 follow/));
  const trieBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const truncated = parseCharsmap(bytes.subarray(0, 4 + trieBytes + 500)); // only the first 500 bytes of strings
  assert.throws(() => truncated.normalizePrefix(new TextEncoder().encode("①"), 0), peelError("TOKENIZER", /replacement offset \d+ is past/));
  const meta = metaWith(randomT5Metadata(spec), "tokenizer.ggml.precompiled_charsmap", kv.u8Array([1, 0, 0, 0, 9]));
  await rejectsLoad(writeGguf({ metadata: meta, tensors: randomT5Tensors(spec) }), "TOKENIZER", /precompiled charsmap: the trie is said to take 1 bytes/);
});

test("peel generate and peel info on a T5 file (the CLI spawned as a user runs it)", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { execFileSync } = await import("node:child_process");
  const dir = mkdtempSync(join(tmpdir(), "peel-t5-cli-"));
  try {
    const path = join(dir, "t5.gguf");
    writeFileSync(path, writeGguf({ metadata: randomT5Metadata(spec), tensors: randomT5Tensors(spec) }));
    const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
    const run = (...args: string[]) => execFileSync(process.execPath, [...peelArgv(), ...args], { encoding: "utf8" });
    const out = JSON.parse(run("generate", "--model", path, "--prompt", "translate English to German: the house.", "--max-tokens", "4", "--temperature", "0", "--json")) as { tokens: number[]; prompt_tokens: number[] };
    const model = await loadModelFromSource(bytesSource(writeGguf({ metadata: randomT5Metadata(spec), tensors: randomT5Tensors(spec) }), "t5"), { backend: "ts" });
    const gen = generate(model, "translate English to German: the house.", { maxTokens: 4, temperature: 0 });
    for await (const _ of gen) { /* drain */ }
    assert.deepEqual(out.prompt_tokens, gen.promptTokens);
    assert.deepEqual(out.tokens, gen.tokens, "the CLI's greedy tokens are the library's");
    await model.dispose();
    const info = run("info", "--model", path);
    assert.match(info, /kind\s+encoder–decoder \(2-block encoder/);
    assert.match(info, /relative-position bias per head \(32 buckets/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
