/** Writes an exported GGUF (llama or gpt2) to disk (Node only), refusing to replace a file unless `force`; the export itself is gguf.ts. */

import { writeFile } from "node:fs/promises";
import { writeGguf } from "../../formats/gguf/write.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import type { ModelParams } from "../model/params.js";
import type { GgufExportOptions } from "./gguf.js";
import { exportGguf } from "./export-gguf.js";

export interface GgufFileExportOptions extends GgufExportOptions {
  /** Replace `path` if it exists (default false: fail with INVALID_ARGUMENT). */
  readonly force?: boolean;
}

/** Exports `params` with `tokenizer` (see exportGguf: llama or gpt2) and writes the GGUF file; returns its size in bytes. */
export async function writeGgufFile(path: string, params: ModelParams, tokenizer: TrainedBpe, opts: GgufFileExportOptions): Promise<number> {
  const bytes = writeGguf(exportGguf(params, tokenizer, opts));
  try {
    // "wx" makes the existence check and the create one atomic step.
    await writeFile(path, bytes, { flag: opts.force === true ? "w" : "wx" });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") {
      throw new PeelError("INVALID_ARGUMENT", `${path} already exists; pass force to replace it`, { cause: e });
    }
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
  return bytes.length;
}

/** The earlier name of writeGgufFile (it wrote llama files only). */
export const writeLlamaGgufFile = writeGgufFile;
