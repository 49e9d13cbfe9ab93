/**
 * tiktoken rank files (`.tiktoken`): one token a line, `<base64 of the token's bytes> <rank>`; the rank is
 * both the token id and its merge priority (lower merges first). Parsed strictly: broken base64, a line
 * that is not two fields, a duplicate token or a duplicate rank is a TOKENIZER error naming the line.
 * Tokens are kept as "binary strings" (one char per byte, U+0000..U+00FF), which are cheap map keys.
 * No file access and no encoding here (see load.node.ts and tokenizer.ts).
 */

import { PeelError } from "../../util/errors.js";

export interface TiktokenRanks {
  /** Token bytes as binary strings, indexed by rank; undefined for a rank no token has. */
  readonly tokens: readonly (string | undefined)[];
  /** Binary string of the token's bytes -> rank. */
  readonly rankOf: ReadonlyMap<string, number>;
  /** One more than the highest rank. */
  readonly rankCount: number;
}

/** Ranks above this are refused (they index arrays). */
const MAX_RANK = 1 << 24;

const B64 = new Int16Array(128).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) => { B64[c.charCodeAt(0)] = i; });

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d;

/** Decodes standard base64 (padding required, as Python's b64decode) from data[s..e); undefined when malformed. */
function base64ToBinary(data: Uint8Array, s: number, e: number, codes: number[]): string | undefined {
  const len = e - s;
  if (len === 0 || len % 4 !== 0) return undefined;
  let pad = 0;
  if (data[e - 1] === 0x3d) pad = data[e - 2] === 0x3d ? 2 : 1;
  codes.length = 0;
  for (let i = s; i < e; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = data[i + k] as number;
      const inPad = i + 4 === e && k >= 4 - pad;
      const d = inPad ? 0 : c < 128 ? (B64[c] as number) : -1;
      if (d < 0) return undefined;
      v = (v << 6) | d;
    }
    codes.push(v >>> 16);
    if (!(i + 4 === e && pad === 2)) codes.push((v >>> 8) & 255);
    if (!(i + 4 === e && pad >= 1)) codes.push(v & 255);
  }
  let out = "";
  for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode(...codes.slice(i, i + 8192));
  return out;
}

/** Parses a rank file's contents (bytes, or text that is ASCII as every valid file is). */
export function parseTiktokenRanks(contents: string | Uint8Array, source = "tiktoken rank file"): TiktokenRanks {
  const data = typeof contents === "string" ? new TextEncoder().encode(contents) : contents;
  const tokens: (string | undefined)[] = [];
  const rankOf = new Map<string, number>();
  const codes: number[] = [];
  const fail = (line: number, what: string): never => {
    throw new PeelError("TOKENIZER", `${source}: line ${line}: ${what}; expected "<base64 token> <rank>"`);
  };
  let line = 0;
  for (let pos = 0; pos < data.length; ) {
    line++;
    let end = data.indexOf(0x0a, pos);
    if (end < 0) end = data.length;
    let s = pos;
    pos = end + 1;
    while (s < end && isBlank(data[s] as number)) s++;
    if (s === end) continue; // blank line
    let e = s;
    while (e < end && !isBlank(data[e] as number)) e++;
    let r = e;
    while (r < end && isBlank(data[r] as number)) r++;
    let rank = 0;
    let digits = 0;
    for (; r < end && (data[r] as number) >= 0x30 && (data[r] as number) <= 0x39; r++, digits++) rank = rank * 10 + ((data[r] as number) - 0x30);
    while (r < end && isBlank(data[r] as number)) r++;
    if (digits === 0 || r !== end) fail(line, "the rank is missing or not a non-negative integer, or the line has more than two fields");
    if (rank >= MAX_RANK) fail(line, `rank ${rank} is too large (at most ${MAX_RANK - 1})`);
    const token = base64ToBinary(data, s, e, codes);
    if (token === undefined) fail(line, `${JSON.stringify(new TextDecoder().decode(data.subarray(s, e)))} is not valid base64`);
    const t = token as string;
    const before = rankOf.get(t);
    if (before !== undefined) fail(line, `the token ${JSON.stringify(t)} already has rank ${before}; every token must appear once`);
    if (tokens[rank] !== undefined) fail(line, `rank ${rank} is already taken by another token; every rank must appear once`);
    rankOf.set(t, rank);
    tokens[rank] = t;
  }
  if (rankOf.size === 0) throw new PeelError("TOKENIZER", `${source}: holds no tokens`);
  return { tokens, rankOf, rankCount: tokens.length };
}

/** The bytes of a binary string. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
