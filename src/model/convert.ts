/**
 * `peel convert`: a Hugging Face checkpoint folder to the GGUF file llama.cpp's converter would write: the
 * model metadata and tensors of hf-to-gguf.ts (names, q/k order, Gemma's + 1), the tokenizer as
 * `tokenizer.ggml.*` keys, and every 2-D weight stored as the asked type (1-D norms and biases stay F32,
 * and a matrix whose rows are not whole blocks of that type falls back to F16, as the converter does).
 * Returns the file's bytes; the CLI writes them next to the output and renames, so a failed or interrupted
 * conversion never leaves a half-written file.
 */

import { kv, writeGguf } from "../formats/gguf/write.js";
import type { GgufKv } from "../formats/gguf/types.js";
import type { DType } from "../tensor/dtype.js";
import { storeAs } from "./requantize.js";
import { ggufVocabFromHfJson } from "../tokenizer/hf/to-gguf.js";
import { PeelError } from "../util/errors.js";
import { readHfFolder, type FolderSource, type ReadHfOptions } from "./load-hf.js";

/** Output types and their `general.file_type` (llama.cpp's LLAMA_FTYPE numbers). */
export const CONVERT_TYPES = { f32: ["F32", 0], f16: ["F16", 1], bf16: ["BF16", 32], q8_0: ["Q8_0", 7], q4_0: ["Q4_0", 2], q4_1: ["Q4_1", 3], q5_0: ["Q5_0", 8], q5_1: ["Q5_1", 9] } as const satisfies Record<string, readonly [DType, number]>;
export type ConvertType = keyof typeof CONVERT_TYPES;

export async function convertHfFolder(folder: FolderSource, type: ConvertType, opts: ReadHfOptions = {}): Promise<Uint8Array> {
  const spec = CONVERT_TYPES[type];
  if (spec === undefined) throw new PeelError("INVALID_ARGUMENT", `convert: type must be one of ${Object.keys(CONVERT_TYPES).join(", ")}, got "${String(type)}"`);
  const [dtype, fileType] = spec;
  const c = await readHfFolder(folder, opts);
  const pre = c.hf.arch.bpePre;
  if (pre === undefined) {
    throw new PeelError("UNSUPPORTED", `${folder.description}: converting a "${c.hf.modelType}" checkpoint needs its SentencePiece tokenizer (tokenizer.model), which Peel does not convert yet; ` +
      `Peel runs the folder itself (--model ${folder.description})`);
  }
  const vocab = ggufVocabFromHfJson(c.tokenizerJson, c.tokenizerConfig, pre, c.description.config.vocabSize, `${folder.description}/tokenizer.json`);
  const name = c.description.info.name;
  const metadata: Array<[string, GgufKv]> = [
    ...[...c.metadata].slice(0, 1), // general.architecture first, as llama.cpp writes it
    ...(name !== undefined ? [["general.name", kv.str(name)] as [string, GgufKv]] : []),
    ["general.file_type", kv.u32(fileType)],
    ...[...c.metadata].slice(1),
    ...vocab,
  ];
  const tensors = [...c.tensors.values()].map((t) => storeAs(t, dtype));
  return writeGguf({ metadata, tensors });
}
