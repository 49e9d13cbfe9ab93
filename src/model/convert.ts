/**
 * `peel convert`: a Hugging Face checkpoint folder to the GGUF file llama.cpp's converter would write: the
 * model metadata and tensors of hf-to-gguf.ts (names, q/k order, Gemma's + 1), the tokenizer as
 * `tokenizer.ggml.*` keys (tokenizer.model when the folder has one and the family is SentencePiece-style, as
 * the converter prefers it; else tokenizer.json, byte-level BPE, SentencePiece-style, or an encoder's WordPiece), and every 2-D weight stored as the asked type (1-D norms and biases stay F32,
 * and a matrix whose rows are not whole blocks of that type falls back to F16, as the converter does).
 * Returns the file's bytes; the CLI writes them next to the output and renames, so a failed or interrupted
 * conversion never leaves a half-written file.
 */

import { kv, writeGguf } from "../formats/gguf/write.js";
import type { GgufKv } from "../formats/gguf/types.js";
import type { DType } from "../tensor/dtype.js";
import { storeAs } from "./requantize.js";
import { ggufVocabFromHfJson, isByteLevelJson } from "../tokenizer/hf/to-gguf.js";
import { ggufVocabFromSpm, isSentencePieceJson } from "../tokenizer/hf/spm-to-gguf.js";
import { ggufVocabFromWordPiece, isWordPieceJson } from "../tokenizer/hf/wordpiece-to-gguf.js";
import { ggufVocabFromT5Spm } from "../tokenizer/hf/t5-to-gguf.js";
import { readSpmModelProto } from "../tokenizer/spm-model-proto.js";
import { PeelError } from "../util/errors.js";
import { readHfFolder, type FolderSource, type HfFolderContents, type ReadHfOptions } from "./load-hf.js";

/** Output types and their `general.file_type` (llama.cpp's LLAMA_FTYPE numbers). */
export const CONVERT_TYPES = { f32: ["F32", 0], f16: ["F16", 1], bf16: ["BF16", 32], q8_0: ["Q8_0", 7], q4_0: ["Q4_0", 2], q4_1: ["Q4_1", 3], q5_0: ["Q5_0", 8], q5_1: ["Q5_1", 9] } as const satisfies Record<string, readonly [DType, number]>;
export type ConvertType = keyof typeof CONVERT_TYPES;

export async function convertHfFolder(folder: FolderSource, type: ConvertType, opts: ReadHfOptions = {}): Promise<Uint8Array> {
  const spec = CONVERT_TYPES[type];
  if (spec === undefined) throw new PeelError("INVALID_ARGUMENT", `convert: type must be one of ${Object.keys(CONVERT_TYPES).join(", ")}, got "${String(type)}"`);
  const [dtype, fileType] = spec;
  const c = await readHfFolder(folder, opts);
  const vocab = await tokenizerMetadata(folder, c);
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

async function readBytes(folder: FolderSource, name: string): Promise<Uint8Array | undefined> {
  const src = await folder.open(name);
  if (src === undefined) return undefined;
  try {
    return await src.read(0, src.size);
  } finally {
    await src.close?.();
  }
}

async function readOptionalJson(folder: FolderSource, name: string): Promise<unknown> {
  const bytes = await readBytes(folder, name);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new PeelError("FORMAT", `${folder.description}/${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** The tokenizer keys: which source and which writer, by what the folder holds and what the family allows. */
async function tokenizerMetadata(folder: FolderSource, c: HfFolderContents): Promise<Array<[string, GgufKv]>> {
  const { arch, modelType, config } = c.hf;
  const vocabSize = c.description.config.vocabSize;
  const jsonFile = `${folder.description}/tokenizer.json`;
  const spm = arch.spm;
  if (arch.gguf === "t5") { // llama.cpp's converter reads T5's SentencePiece model file, whatever else the folder has
    const name = (await readBytes(folder, "spiece.model")) !== undefined ? "spiece.model" : "tokenizer.model";
    const bytes = await readBytes(folder, name);
    if (bytes === undefined) throw new PeelError("UNSUPPORTED", `${folder.description}: a T5 checkpoint converts with its SentencePiece model (spiece.model or tokenizer.model), and this folder has neither`);
    return ggufVocabFromT5Spm(readSpmModelProto(bytes, `${folder.description}/${name}`), config, vocabSize, `${folder.description}/${name}`);
  }
  if (spm !== undefined) {
    const modelBytes = await readBytes(folder, "tokenizer.model");
    if (modelBytes !== undefined || isSentencePieceJson(c.tokenizerJson)) {
      const file = modelBytes !== undefined ? `${folder.description}/tokenizer.model` : jsonFile;
      return ggufVocabFromSpm({
        proto: modelBytes !== undefined ? readSpmModelProto(modelBytes, file) : undefined,
        tokenizerJson: c.tokenizerJson, tokenizerConfig: c.tokenizerConfig, modelConfig: config,
        addedTokensJson: await readOptionalJson(folder, "added_tokens.json"), rules: spm, file,
      }, vocabSize);
    }
  }
  if (arch.bpePre !== undefined && isByteLevelJson(c.tokenizerJson)) {
    return ggufVocabFromHfJson(c.tokenizerJson, c.tokenizerConfig, config, arch.bpePre, vocabSize, jsonFile);
  }
  if (arch.encoder !== undefined && isWordPieceJson(c.tokenizerJson)) {
    return ggufVocabFromWordPiece(c.tokenizerJson, c.tokenizerConfig, config, vocabSize, jsonFile);
  }
  const model = typeof c.tokenizerJson === "object" && c.tokenizerJson !== null ? (c.tokenizerJson as { model?: { type?: unknown } }).model : undefined;
  const kinds = [arch.encoder !== undefined ? "WordPiece" : undefined, arch.bpePre !== undefined ? "byte-level BPE" : undefined, spm !== undefined ? "SentencePiece (tokenizer.model, or a Unigram or byte-fallback BPE tokenizer.json)" : undefined].filter((k) => k !== undefined);
  throw new PeelError("UNSUPPORTED", `${jsonFile}: a "${modelType}" checkpoint converts with a ${kinds.join(" or ")} tokenizer; ` +
    `this tokenizer.json's model.type is ${JSON.stringify(model?.type)}${model?.type === "BPE" ? " (neither byte-level nor with byte fallback)" : ""} and there is no usable tokenizer.model`);
}
