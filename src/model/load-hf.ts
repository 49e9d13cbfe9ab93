/**
 * Hugging Face checkpoint folders: config.json, model.safetensors or shards listed in
 * model.safetensors.index.json, tokenizer.json (+ tokenizer_config.json). The folder is read through a
 * `FolderSource` (files by name), so this runs in a browser as well as in Node (load.node.ts opens
 * directories). Tensors are read one at a time from each shard's header offsets, never a whole file; the
 * checkpoint is then mapped onto the GGUF names and conventions (hf-to-gguf.ts) and bound like a GGUF model.
 * The tokenizer is tokenizer.json's, cut to config.json's vocab_size as the converter cuts it: added tokens
 * beyond the embedding table (Gemma 3's `<image_soft_token>`) are left out; a T5 folder without tokenizer.json
 * uses its spiece.model (as T5Tokenizer: "</s>" appended). An encoder's pooling comes from the
 * sentence-transformers files when the folder has them (modules.json → its Pooling module's config.json).
 * Tensors the converter drops are never read, so their dtype does not matter (BERT's I64 position_ids).
 */

import type { ByteSource } from "../formats/byte-source.js";
import { readSafetensorsHeader, readSafetensorsTensors } from "../formats/safetensors/read.js";
import { isPeelSafetensorsDType, PEEL_SAFETENSORS_DTYPES, type SafetensorsHeader } from "../formats/safetensors/types.js";
import type { TensorSummary } from "./model.js";
import type { Tensor } from "../tensor/tensor.js";
import type { GgufKv } from "../formats/gguf/types.js";
import { tokenizerFromHfJson } from "../tokenizer/hf/load-tokenizer-json.js";
import { tokenizerFromSpmModel } from "../tokenizer/load-spm-model.js";
import { PeelError } from "../util/errors.js";
import { configFromGguf } from "./config-from-gguf.js";
import type { ModelDescription } from "./model.js";
import {
  ggufNameOf, hfModel, hfMetadata, hfShapesToGguf, hfTensorsToGguf, poolingModulePath, poolingTypeOf, type HfMetadataExtras, type HfModel,
} from "./hf-to-gguf.js";
import { checkSeq2SeqShapes } from "./seq2seq-weights.js";
import { checkTensorShapes } from "./weights.js";

/** Files of a folder by name; `open` returns undefined for a file that is not there. */
export interface FolderSource {
  readonly description: string;
  open(name: string): Promise<ByteSource | undefined>;
}

async function readText(folder: FolderSource, name: string): Promise<string | undefined> {
  const src = await folder.open(name);
  if (src === undefined) return undefined;
  try {
    return new TextDecoder().decode(await src.read(0, src.size));
  } finally {
    await src.close?.();
  }
}

async function readJson(folder: FolderSource, name: string, required: boolean): Promise<unknown> {
  const text = await readText(folder, name);
  if (text === undefined) {
    if (required && name === "config.json") {
      throw new PeelError("IO", `${folder.description}: a directory without config.json; a model is a GGUF file, a llama2.c checkpoint, or a Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)`);
    }
    if (required) throw new PeelError("IO", `${folder.description}: no ${name} (a Hugging Face checkpoint folder has config.json, *.safetensors and tokenizer.json)`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PeelError("FORMAT", `${folder.description}/${name}: not valid JSON (${(e as Error).message})`);
  }
}

/** Shard file names: model.safetensors, or the files model.safetensors.index.json's weight_map names. */
async function shardNames(folder: FolderSource): Promise<{ names: string[]; weightMap: Map<string, string> | undefined }> {
  const index = await readJson(folder, "model.safetensors.index.json", false);
  if (index === undefined) return { names: ["model.safetensors"], weightMap: undefined };
  const map = (index as { weight_map?: unknown }).weight_map;
  if (typeof map !== "object" || map === null) throw new PeelError("FORMAT", `${folder.description}/model.safetensors.index.json: missing "weight_map"`);
  const weightMap = new Map<string, string>();
  for (const [tensor, file] of Object.entries(map)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\")) {
      throw new PeelError("FORMAT", `${folder.description}/model.safetensors.index.json: weight_map["${tensor}"] must be a file name in the folder`);
    }
    weightMap.set(tensor, file);
  }
  return { names: [...new Set(weightMap.values())].sort(), weightMap };
}

interface Shard { readonly name: string; readonly source: ByteSource; readonly header: SafetensorsHeader }

async function openShards(folder: FolderSource): Promise<Shard[]> {
  const { names, weightMap } = await shardNames(folder);
  const shards: Shard[] = [];
  try {
    for (const name of names) {
      const source = await folder.open(name);
      if (source === undefined) {
        throw new PeelError("IO", `${folder.description}: missing ${name}${weightMap !== undefined ? " (listed in model.safetensors.index.json)" : " (or model.safetensors.index.json for a sharded checkpoint)"}`);
      }
      shards.push({ name, source, header: await readSafetensorsHeader(source) });
    }
    if (weightMap !== undefined) {
      for (const [tensor, file] of weightMap) {
        const shard = shards.find((s) => s.name === file)!;
        if (!shard.header.tensors.some((t) => t.name === tensor)) {
          throw new PeelError("FORMAT", `${folder.description}/${file}: has no tensor "${tensor}", which model.safetensors.index.json places there`);
        }
      }
    }
    return shards;
  } catch (e) {
    for (const s of shards) await s.source.close?.();
    throw e;
  }
}

interface Parts {
  readonly model: HfModel;
  readonly description: ModelDescription;
  readonly metadata: Map<string, GgufKv>;
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
}

async function describeParts(folder: FolderSource, shards: readonly Shard[], configJson: unknown): Promise<Parts> {
  const configFile = `${folder.description}/config.json`;
  const model = hfModel(configJson, configFile);
  const infos = shards.flatMap((s) => s.header.tensors);
  // a dropped tensor of a type Peel has no name for (BERT's I64 position_ids) is left out of the table
  const summaries: TensorSummary[] = infos.flatMap((t) => {
    if (!isPeelSafetensorsDType(t.dtype)) {
      if (ggufNameOf(model, t.name, configFile) === null) return [];
      throw new PeelError("UNSUPPORTED", `${folder.description}: tensor "${t.name}" has dtype ${t.dtype}; supported: ${PEEL_SAFETENSORS_DTYPES.join(", ")}`);
    }
    return [{ name: t.name, shape: t.shape, dtype: t.dtype, bytes: t.byteSize }];
  });
  const shapes = hfShapesToGguf(model, infos, configFile);
  const metadata = hfMetadata(model, configFile, await encoderExtras(folder, model));
  const config = configFromGguf(metadata, shapes);
  try {
    (config.seq2seq !== undefined ? checkSeq2SeqShapes : checkTensorShapes)(config, shapes);
  } catch (e) {
    if (!(e instanceof PeelError)) throw e;
    // the checks speak GGUF names: add the checkpoint's own name of each tensor they mention
    const hfName = new Map(infos.flatMap((t) => { const g = ggufNameOf(model, t.name, configFile); return g === null ? [] : [[g, t.name] as const]; }));
    const message = e.message.replace(/tensor "([^"]+)"/g, (m, g: string) => (hfName.has(g) ? `${m} (HF "${hfName.get(g)}")` : m));
    throw new PeelError(e.code, `${folder.description}: ${message}`, { cause: e });
  }
  const tokenizerConfig = await readJson(folder, "tokenizer_config.json", false);
  // T5 folders may carry only SentencePiece's spiece.model (T5Tokenizer, which appends "</s>")
  const spiece = config.seq2seq !== undefined && (await readText(folder, "tokenizer.json")) === undefined ? await folder.open("spiece.model") : undefined;
  let tokenizer, tokenizerJson: unknown;
  if (spiece !== undefined) {
    try {
      const eos = model.config["eos_token_id"];
      tokenizer = tokenizerFromSpmModel(await spiece.read(0, spiece.size), `${folder.description}/spiece.model`,
        { addEos: true, ...(typeof eos === "number" ? { eosId: eos } : {}) });
    } finally {
      await spiece.close?.();
    }
  } else {
    tokenizerJson = await readJson(folder, "tokenizer.json", true);
    // added tokens past the embedding table are dropped, as llama.cpp's converter does (Gemma 3's image token)
    tokenizer = tokenizerFromHfJson(tokenizerJson, tokenizerConfig, { vocabSize: config.vocabSize, file: `${folder.description}/tokenizer.json` });
  }
  const description: ModelDescription = {
    config,
    tokenizer,
    info: {
      format: "hf",
      source: folder.description,
      name: typeof model.config["_name_or_path"] === "string" ? model.config["_name_or_path"] : undefined,
      details: { modelType: model.modelType, shards: shards.length },
      tensors: summaries,
      chatTemplates: hfChatTemplates(tokenizerConfig),
    },
  };
  return { model, description, metadata, tokenizerJson, tokenizerConfig };
}

/** An encoder's pooling from modules.json and its Pooling module's config.json (none for decoders or without the files). */
async function encoderExtras(folder: FolderSource, model: HfModel): Promise<HfMetadataExtras> {
  if (model.arch.encoder === undefined) return {};
  const modules = await readJson(folder, "modules.json", false);
  if (modules === undefined) return {};
  const path = poolingModulePath(modules, `${folder.description}/modules.json`);
  if (path === undefined) return {};
  const name = `${path}/config.json`;
  const pooling = await readJson(folder, name, true);
  return { pooling: poolingTypeOf(pooling, `${folder.description}/${name}`) };
}

/** tokenizer_config.json's `chat_template`: a string ("default"), or a list of {name, template}. */
function hfChatTemplates(tokenizerConfig: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof tokenizerConfig !== "object" || tokenizerConfig === null) return out;
  const value: unknown = (tokenizerConfig as Record<string, unknown>)["chat_template"];
  if (typeof value === "string") out["default"] = value;
  else if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (typeof item !== "object" || item === null) continue;
      const { name, template } = item as Record<string, unknown>;
      if (typeof name === "string" && typeof template === "string") out[name] = template;
    }
  }
  return out;
}

/** Config, tokenizer and tensor table of a checkpoint folder, from its JSON files and safetensors headers. */
export async function describeHfFolder(folder: FolderSource): Promise<ModelDescription> {
  const configJson = await readJson(folder, "config.json", true); // first: a folder without one is not a checkpoint
  const shards = await openShards(folder);
  try {
    return (await describeParts(folder, shards, configJson)).description;
  } finally {
    for (const s of shards) await s.source.close?.();
  }
}

export interface ReadHfOptions {
  readonly onProgress?: (loadedBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
}

export interface HfFolderContents {
  readonly description: ModelDescription;
  /** GGUF-named tensors in their checkpoint types, with the converter's layout conventions applied. */
  readonly tensors: Map<string, Tensor>;
  /** The model metadata a GGUF of this checkpoint carries (no tokenizer keys). */
  readonly metadata: Map<string, GgufKv>;
  readonly hf: HfModel;
  /** Parsed tokenizer.json and tokenizer_config.json (undefined when absent). */
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
}

/** The description and the GGUF-named tensors of a checkpoint folder, ready for createModel. */
export async function readHfFolder(folder: FolderSource, opts: ReadHfOptions = {}): Promise<HfFolderContents> {
  const configJson = await readJson(folder, "config.json", true);
  const shards = await openShards(folder);
  try {
    const parts = await describeParts(folder, shards, configJson); // fails on a bad config before reading gigabytes
    const configFile = `${folder.description}/config.json`;
    const total = shards.reduce((a, s) => a + s.header.tensors.reduce((b, t) => b + t.byteSize, 0), 0);
    let before = 0;
    const hfTensors = new Map<string, Tensor>();
    for (const s of shards) {
      const { tensors } = await readSafetensorsTensors(s.source, s.header, {
        filter: (t) => ggufNameOf(parts.model, t.name, configFile) !== null, // what the converter drops is never read
        onProgress: (done) => opts.onProgress?.(before + done, total),
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      });
      for (const [name, t] of tensors) hfTensors.set(name, t);
      before += s.header.tensors.reduce((b, t) => b + t.byteSize, 0);
    }
    const { model, ...rest } = parts;
    return { ...rest, tensors: hfTensorsToGguf(model, hfTensors, `${folder.description}/config.json`), hf: model };
  } finally {
    for (const s of shards) await s.source.close?.();
  }
}
