/**
 * Peel's token file, so a corpus is tokenized once and training reads ids directly. Layout (little-endian):
 *   "PEELTOKS" (8 bytes) | u32 version = 1 | u32 vocabSize | u32 bytesPerToken (2 or 4) | u64 count | tokens
 * Two bytes per token whenever the vocabulary fits, halving the file for small vocabularies.
 */

import { PeelError, u64ToNumber } from "../../util/errors.js";

const MAGIC = "PEELTOKS";
const VERSION = 1;
/** Bytes before the first token. */
export const TOKEN_FILE_HEADER_BYTES = 28;

export interface TokenFile {
  readonly vocabSize: number;
  readonly tokens: Uint32Array;
}

/** Encodes `tokens`; INVALID_ARGUMENT if vocabSize is not an integer in 1..2^32-1 or a token is ≥ vocabSize. */
export function encodeTokenFile(tokens: Uint32Array, vocabSize: number): Uint8Array {
  if (!(Number.isInteger(vocabSize) && vocabSize >= 1 && vocabSize <= 0xffffffff)) {
    throw new PeelError("INVALID_ARGUMENT", `token file: vocabSize must be an integer in 1..2^32-1, got ${vocabSize}`);
  }
  const bad = tokens.findIndex((t) => t >= vocabSize);
  if (bad >= 0) throw new PeelError("INVALID_ARGUMENT", `token file: token ${tokens[bad]} at position ${bad} is not below vocabSize ${vocabSize}`);
  const width = vocabSize <= 0x10000 ? 2 : 4;
  const out = new Uint8Array(TOKEN_FILE_HEADER_BYTES + tokens.length * width);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  dv.setUint32(8, VERSION, true);
  dv.setUint32(12, vocabSize, true);
  dv.setUint32(16, width, true);
  dv.setBigUint64(20, BigInt(tokens.length), true);
  const at = TOKEN_FILE_HEADER_BYTES;
  if (width === 2) tokens.forEach((t, i) => dv.setUint16(at + 2 * i, t, true));
  else tokens.forEach((t, i) => dv.setUint32(at + 4 * i, t, true));
  return out;
}

/** Decodes a token file; FORMAT for bad magic, wrong size, an unknown token width or a token ≥ vocabSize. */
export function decodeTokenFile(bytes: Uint8Array, description: string): TokenFile {
  const fail = (msg: string): PeelError => new PeelError("FORMAT", `${description}: ${msg}`);
  // magic first, so a short file of another kind is named as such rather than as truncated
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (!MAGIC.startsWith(magic) || magic === "") throw fail(`not a Peel token file (starts with ${JSON.stringify(magic)}, expected "${MAGIC}")`);
  if (bytes.length < TOKEN_FILE_HEADER_BYTES) throw fail(`truncated: ${bytes.length} bytes, a token file header needs ${TOKEN_FILE_HEADER_BYTES}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) throw new PeelError("UNSUPPORTED", `${description}: token file version ${version}; this Peel reads version ${VERSION}`);
  const vocabSize = dv.getUint32(12, true), width = dv.getUint32(16, true);
  if (vocabSize === 0) throw fail("vocabSize is 0");
  if (width !== 2 && width !== 4) throw fail(`bytesPerToken is ${width}, expected 2 or 4`);
  const count = u64ToNumber(dv.getBigUint64(20, true), `${description}: token count`);
  const expected = TOKEN_FILE_HEADER_BYTES + count * width;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? "truncated" : "trailing bytes";
    throw fail(`${what}: the header says ${count} tokens of ${width} bytes (${expected} bytes in all), the file has ${bytes.length}`);
  }
  const tokens = readTokens(dv, count, width);
  const bad = tokens.findIndex((t) => t >= vocabSize);
  if (bad >= 0) throw fail(`token ${tokens[bad]} at position ${bad} is not below vocabSize ${vocabSize}`);
  return { vocabSize, tokens };
}

function readTokens(dv: DataView, count: number, width: 2 | 4): Uint32Array {
  const out = new Uint32Array(count);
  const at = TOKEN_FILE_HEADER_BYTES;
  if (width === 2) for (let i = 0; i < count; i++) out[i] = dv.getUint16(at + 2 * i, true);
  else for (let i = 0; i < count; i++) out[i] = dv.getUint32(at + 4 * i, true);
  return out;
}
