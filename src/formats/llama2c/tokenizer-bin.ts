/**
 * Reads and writes llama2.c's `tokenizer.bin`: int32 max_token_length, then per token an f32 score, an
 * int32 byte length and the bytes. Pieces are kept both as raw bytes and UTF-8 decoded (lossy for the
 * few byte-fallback pieces that are not valid UTF-8). No tokenization here (tokenizer/ does that).
 */

import { PeelError } from "../../util/errors.js";

export interface Llama2cVocab {
  /** UTF-8 decoded pieces (invalid sequences become U+FFFD). */
  readonly pieces: string[];
  /** The exact bytes of each piece. */
  readonly pieceBytes: Uint8Array[];
  readonly scores: Float32Array;
  readonly maxTokenLength: number;
}

const utf8Decode = new TextDecoder("utf-8", { ignoreBOM: true }); // a leading U+FEFF is a piece, not a byte-order mark
const utf8Encode = new TextEncoder();

/**
 * Parses tokenizer.bin. With `vocabSize`, exactly that many tokens are read (trailing bytes are ignored,
 * as run.c does); without it, tokens are read until the end of the bytes.
 */
export function readLlama2cTokenizer(bytes: Uint8Array, vocabSize?: number, description = "tokenizer.bin"): Llama2cVocab {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => { throw new PeelError("FORMAT", `${description}: ${msg}`); };
  if (bytes.length < 4) fail(`truncated: ${bytes.length} bytes, expected at least the 4-byte max_token_length`);
  const maxTokenLength = dv.getInt32(0, true);
  if (maxTokenLength < 0) fail(`max_token_length is negative (${maxTokenLength}); not a llama2.c tokenizer.bin`);
  const pieces: string[] = [];
  const pieceBytes: Uint8Array[] = [];
  const scores: number[] = [];
  let pos = 4;
  while (vocabSize === undefined ? pos < bytes.length : pieces.length < vocabSize) {
    const i = pieces.length;
    if (pos + 8 > bytes.length) {
      fail(`truncated at token ${i}${vocabSize !== undefined ? ` of ${vocabSize}` : ""}: needs an 8-byte score and length at offset ${pos}, ${bytes.length - pos} bytes left`);
    }
    scores.push(dv.getFloat32(pos, true));
    const len = dv.getInt32(pos + 4, true);
    pos += 8;
    if (len < 0 || pos + len > bytes.length) {
      fail(`token ${i} declares ${len} bytes at offset ${pos}, but ${bytes.length - pos} remain; the file is truncated or corrupt`);
    }
    const raw = Uint8Array.prototype.slice.call(bytes, pos, pos + len); // a copy, also for Node Buffers
    pieceBytes.push(raw);
    pieces.push(utf8Decode.decode(raw));
    pos += len;
  }
  return { pieces, pieceBytes, scores: Float32Array.from(scores), maxTokenLength };
}

export interface Llama2cVocabSpec {
  /** Either the pieces as text or as raw bytes (raw bytes win when both are given). */
  readonly pieces?: readonly string[];
  readonly pieceBytes?: readonly Uint8Array[];
  readonly scores: ArrayLike<number>;
  /** Default: the longest piece in bytes. */
  readonly maxTokenLength?: number;
}

export function writeLlama2cTokenizer(spec: Llama2cVocabSpec): Uint8Array {
  const raw = spec.pieceBytes ?? spec.pieces?.map((p) => utf8Encode.encode(p));
  if (raw === undefined) throw new PeelError("INVALID_ARGUMENT", "tokenizer.bin write: give pieces or pieceBytes");
  if (raw.length !== spec.scores.length) {
    throw new PeelError("INVALID_ARGUMENT", `tokenizer.bin write: ${raw.length} pieces but ${spec.scores.length} scores`);
  }
  const maxLen = spec.maxTokenLength ?? raw.reduce((m, b) => Math.max(m, b.length), 0);
  const out = new Uint8Array(4 + raw.reduce((s, b) => s + 8 + b.length, 0));
  const dv = new DataView(out.buffer);
  dv.setInt32(0, maxLen, true);
  let pos = 4;
  raw.forEach((b, i) => {
    dv.setFloat32(pos, spec.scores[i] as number, true);
    dv.setInt32(pos + 4, b.length, true);
    out.set(b, pos + 8);
    pos += 8 + b.length;
  });
  return out;
}
