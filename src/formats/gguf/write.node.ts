/** Writes a GGUF file to disk (Node only); the encoding itself is in write.ts. */

import { writeFile } from "node:fs/promises";
import { PeelError } from "../../util/errors.js";
import { writeGguf, type GgufWriteSpec } from "./write.js";

export async function writeGgufFile(path: string, spec: GgufWriteSpec): Promise<void> {
  const bytes = writeGguf(spec);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
}
