/** Writes a safetensors file to disk (Node only), refusing to replace an existing file unless asked; the encoding is in write.ts. */

import { writeFile } from "node:fs/promises";
import { PeelError } from "../../util/errors.js";
import { writeSafetensors, type SafetensorsWriteSpec } from "./write.js";

export interface WriteSafetensorsFileOptions {
  /** Replace `path` if it exists (default false: fail with INVALID_ARGUMENT). */
  readonly overwrite?: boolean;
}

export async function writeSafetensorsFile(path: string, spec: SafetensorsWriteSpec, opts: WriteSafetensorsFileOptions = {}): Promise<void> {
  const bytes = writeSafetensors(spec);
  try {
    // "wx" makes the existence check and the create one atomic step.
    await writeFile(path, bytes, { flag: opts.overwrite === true ? "w" : "wx" });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") {
      throw new PeelError("INVALID_ARGUMENT", `${path} already exists; pass overwrite: true to replace it`, { cause: e });
    }
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
}
