/**
 * Training text from files (Node only): each file must be readable, non-empty UTF-8 text; a byte order
 * mark is dropped. `trainBpeFiles` is `trainBpe` over such files. It does not write anything.
 */

import { readFileSync, statSync } from "node:fs";
import { PeelError } from "../../util/errors.js";
import { trainBpe, type TrainBpeOptions, type TrainedBpe } from "./train-bpe.js";

/** Offset of the first byte that breaks UTF-8, or -1 when the bytes are valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) { i++; continue; }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) return i;
    const b1 = bytes[i + 1] ?? 0;
    // Overlong forms, surrogates and values above U+10FFFF are invalid (the second byte's range tells).
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

/** Reads training files as text; throws PeelError (IO, FORMAT) naming the file on any problem. */
export function readTrainingFiles(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new PeelError("INVALID_ARGUMENT", "BPE training: no data files given");
  return paths.map((path) => {
    let bytes: Uint8Array;
    try {
      if (statSync(path).isDirectory()) throw new PeelError("IO", `${path}: is a directory; expected a text file`);
      bytes = readFileSync(path);
    } catch (e) {
      if (e instanceof PeelError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new PeelError("IO", `${path}: cannot read the data file (${code === "ENOENT" ? "no such file" : code ?? String(e)})`);
    }
    if (bytes.length === 0) throw new PeelError("FORMAT", `${path}: the data file is empty; expected UTF-8 text`);
    const bad = firstInvalidUtf8(bytes);
    if (bad >= 0) {
      throw new PeelError("FORMAT", `${path}: not UTF-8 text (invalid byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, "0")} at offset ${bad}); convert it first, e.g. iconv -t UTF-8`);
    }
    const text = new TextDecoder("utf-8").decode(bytes);
    if (text.trim().length === 0) throw new PeelError("FORMAT", `${path}: the data file holds only whitespace; expected text to learn from`);
    return text;
  });
}

export interface TrainBpeFilesOptions extends Omit<TrainBpeOptions, "texts"> {
  readonly files: readonly string[];
}

export function trainBpeFiles(opts: TrainBpeFilesOptions): Promise<TrainedBpe> {
  const { files, ...rest } = opts;
  return trainBpe({ ...rest, texts: readTrainingFiles(files) });
}
