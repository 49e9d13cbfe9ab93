/**
 * Streaming decode for pipelines whose decoders look at neighbouring tokens (Strip, Metaspace, WordPiece):
 * HF's DecodeStream algorithm — decode a short window of recent ids, emit what grew beyond the previous
 * window's text, and hold back while the text ends in an incomplete character (U+FFFD). Also the id check.
 */

import { PeelError } from "../../util/errors.js";
import type { DecodeStream } from "../types.js";

export function checkIdRange(id: number, size: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= size) {
    throw new PeelError("INVALID_ARGUMENT", `token id ${id} is outside the vocabulary (0..${size - 1})`);
  }
}

export function createPrefixDecodeStream(decode: (ids: number[]) => string, size: number): DecodeStream {
  let ids: number[] = [];
  let prefix = "";
  let prefixIndex = 0;
  return {
    push(id: number): string {
      checkIdRange(id, size);
      ids.push(id);
      const text = decode(ids);
      if (text.length <= prefix.length || text.endsWith("\uFFFD")) return "";
      const fresh = text.startsWith(prefix) ? text.slice(prefix.length) : text;
      const nextIndex = ids.length - prefixIndex;
      ids = ids.slice(prefixIndex);
      prefix = decode(ids);
      prefixIndex = nextIndex;
      return fresh;
    },
    flush(): string {
      const text = decode(ids);
      const rest = text.length > prefix.length && text.startsWith(prefix) ? text.slice(prefix.length) : "";
      ids = [];
      prefix = "";
      prefixIndex = 0;
      return rest;
    },
  };
}
