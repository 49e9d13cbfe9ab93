/** Reads and writes Peel token files on disk (Node only); the format is in token-file.ts. */

import { readFile, writeFile } from "node:fs/promises";
import { PeelError } from "../../util/errors.js";
import { decodeTokenFile, encodeTokenFile, type TokenFile } from "./token-file.js";

export interface WriteTokenFileOptions {
  /** Replace `path` if it exists (default false: fail with INVALID_ARGUMENT). */
  readonly force?: boolean;
}

export async function writeTokenFile(path: string, tokens: Uint32Array, vocabSize: number, opts: WriteTokenFileOptions = {}): Promise<void> {
  const bytes = encodeTokenFile(tokens, vocabSize);
  try {
    // "wx" makes the existence check and the create one atomic step
    await writeFile(path, bytes, { flag: opts.force === true ? "w" : "wx" });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") {
      throw new PeelError("INVALID_ARGUMENT", `${path} already exists; pass force: true (--force) to replace it`, { cause: e });
    }
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
}

export async function readTokenFile(path: string): Promise<TokenFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : String(e);
    throw new PeelError("IO", `cannot read ${path}: ${why}`, { cause: e });
  }
  return decodeTokenFile(bytes, path);
}
