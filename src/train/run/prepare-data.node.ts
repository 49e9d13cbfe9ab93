/**
 * The data side of a training run, done once per output directory: read the text files (UTF-8, non-empty),
 * get a tokenizer (train a BPE of --vocab-size, or read --tokenizer), encode every file with Peel's tokenizer
 * (an end-of-text token between files); `savePreparedData` keeps tokenizer.json and tokens.bin in the run
 * directory so a resumed run reads exactly the same tokens.
 */

import { writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tokenizerFromHfJson } from "../../tokenizer/hf/load-tokenizer-json.js";
import { readTrainingFiles } from "../../tokenizer/train/files.node.js";
import { writeHfTokenizerJson } from "../../tokenizer/train/hf-json.js";
import { trainBpe, type BpeKind, type TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import type { Tokenizer } from "../../tokenizer/types.js";
import { PeelError } from "../../util/errors.js";
import { yieldToEventLoop } from "../../util/yield.js";
import { readTokenFile, writeTokenFile } from "../data/token-file.node.js";
import { trainedBpeFromHfJson } from "../data/tokenizer-json.js";

export const RUN_FILES = {
  tokenizer: "tokenizer.json",
  tokens: "tokens.bin",
  checkpoint: "checkpoint",
  log: "log.jsonl",
  curve: "loss.svg",
  gguf: "model.gguf",
} as const;

export interface PrepareDataOptions {
  readonly files: readonly string[];
  /** A tokenizer.json written by `peel tokenizer train`; when absent one is trained. */
  readonly tokenizerFile?: string;
  readonly vocabSize: number;
  readonly kind: BpeKind;
  readonly onPhase?: (message: string) => void;
  readonly onTokenizerProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface PreparedData {
  readonly trained: TrainedBpe;
  readonly tokenizer: Tokenizer;
  readonly tokens: Uint32Array;
  /** UTF-8 bytes of text read. */
  readonly textBytes: number;
}

/** A tokenizer.json written by the trainer, read back; unreadable or non-JSON text is `code`, saying `what`. */
function readTrainedBpe(path: string, code: "TOKENIZER" | "IO", what: string): TrainedBpe {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new PeelError(code, `${path}: ${what} (${(e as Error).message})`, { cause: e });
  }
  return trainedBpeFromHfJson(json, path);
}

export function tokenizerOf(trained: TrainedBpe): Tokenizer {
  return tokenizerFromHfJson(JSON.parse(writeHfTokenizerJson(trained)));
}

export async function prepareData(o: PrepareDataOptions): Promise<PreparedData> {
  const texts = readTrainingFiles(o.files);
  const textBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  let trained: TrainedBpe;
  if (o.tokenizerFile !== undefined) {
    trained = readTrainedBpe(o.tokenizerFile, "TOKENIZER", "cannot read a tokenizer.json");
  } else {
    o.onPhase?.(`training a ${o.vocabSize}-token ${o.kind} BPE tokenizer on ${(textBytes / 1e6).toFixed(1)} MB of text`);
    trained = await trainBpe({ texts, vocabSize: o.vocabSize, kind: o.kind, ...(o.onTokenizerProgress ? { onProgress: o.onTokenizerProgress } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  }
  if (o.tokenizerFile === undefined && trained.vocab.length < o.vocabSize) {
    o.onPhase?.(`note: the tokenizer has ${trained.vocab.length} tokens, not ${o.vocabSize}: pairs seen twice or more ran out (more text gives more)`);
  }
  const tokenizer = tokenizerOf(trained);
  o.onPhase?.(`encoding ${texts.length} file${texts.length === 1 ? "" : "s"} with the ${tokenizer.vocabSize}-token tokenizer`);
  const separator = tokenizer.eosId;
  const parts: number[][] = [];
  for (const text of texts) {
    // line by line: the encoder's cost stays linear and Ctrl-C is noticed between chunks
    const ids: number[] = [];
    const lines = text.split(/(?<=\n)/);
    for (let i = 0; i < lines.length; i++) {
      for (const id of tokenizer.encode(lines[i] as string, { addSpecial: false })) ids.push(id);
      if (i % 2000 === 1999) {
        await yieldToEventLoop();
        if (o.signal?.aborted) throw new PeelError("ABORTED", "train: interrupted while encoding the data");
      }
    }
    parts.push(ids);
  }
  const total = parts.reduce((n, p) => n + p.length, 0) + (separator !== undefined ? parts.length - 1 : 0);
  const tokens = new Uint32Array(total);
  let at = 0;
  parts.forEach((p, i) => {
    if (i > 0 && separator !== undefined) tokens[at++] = separator;
    tokens.set(p, at);
    at += p.length;
  });
  return { trained, tokenizer, tokens, textBytes };
}

/** Saves tokenizer.json and tokens.bin in the run directory (after the caller has checked the data is usable). */
export async function savePreparedData(outDir: string, data: PreparedData): Promise<void> {
  await writeFile(join(outDir, RUN_FILES.tokenizer), writeHfTokenizerJson(data.trained));
  await writeTokenFile(join(outDir, RUN_FILES.tokens), data.tokens, data.tokenizer.vocabSize, { force: true });
}

/** The tokenizer and tokens a run directory saved (for --resume). */
export async function loadPreparedData(outDir: string): Promise<Omit<PreparedData, "textBytes">> {
  const trained = readTrainedBpe(join(outDir, RUN_FILES.tokenizer), "IO", "cannot read the run's tokenizer");
  const tokenizer = tokenizerOf(trained);
  const file = await readTokenFile(join(outDir, RUN_FILES.tokens));
  if (file.vocabSize !== tokenizer.vocabSize) {
    throw new PeelError("FORMAT", `${outDir}: tokens.bin was encoded for ${file.vocabSize} tokens but tokenizer.json has ${tokenizer.vocabSize}; the files do not belong together`);
  }
  return { trained, tokenizer, tokens: file.tokens };
}
