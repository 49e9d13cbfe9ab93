/** Writes GGUF files to disk (Node only): whole, or streamed tensor by tensor; the encoding itself is in write.ts. */

import { open, writeFile } from "node:fs/promises";
import { PeelError } from "../../util/errors.js";
import { ggufLayout, writeGguf, type GgufTensorDesc, type GgufWriteSpec } from "./write.js";

export async function writeGgufFile(path: string, spec: GgufWriteSpec): Promise<void> {
  const bytes = writeGguf(spec);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
}

/**
 * Writes a GGUF file whose tensor bytes come from `data(i)` (tensor i's, asked in order, once): only one
 * tensor is in memory at a time, so files larger than memory (or than one buffer) can be written.
 */
export async function writeGgufFileStreaming(path: string, metadata: GgufWriteSpec["metadata"], tensors: readonly GgufTensorDesc[],
  data: (i: number) => Uint8Array | Promise<Uint8Array>, opts: Pick<GgufWriteSpec, "alignment" | "version"> = {}): Promise<void> {
  const { header, offsets, sizes, dataBytes } = ggufLayout(metadata, tensors, opts);
  let fh;
  try {
    fh = await open(path, "w");
  } catch (e) {
    throw new PeelError("IO", `cannot write ${path}: ${String(e)}`, { cause: e });
  }
  try {
    await fh.write(header, 0, header.length, 0);
    for (let i = 0; i < tensors.length; i++) {
      const bytes = await data(i);
      if (bytes.length !== sizes[i]) {
        throw new PeelError("INVALID_ARGUMENT", `GGUF write: tensor "${tensors[i]?.name}" needs ${sizes[i]} bytes, got ${bytes.length}`);
      }
      await fh.write(bytes, 0, bytes.length, header.length + (offsets[i] as number));
    }
    await fh.truncate(header.length + dataBytes); // the last tensor's padding (earlier gaps read as zeros)
  } finally {
    await fh.close();
  }
}
