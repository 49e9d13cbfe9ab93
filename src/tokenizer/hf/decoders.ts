/**
 * Hugging Face decoders, parsed from tokenizer.json: each maps the list of token strings to a new list
 * (HF's decode_chain) and the tokenizer joins the result. ByteLevel, Metaspace, ByteFallback, Fuse,
 * Strip, Replace, WordPiece, BPEDecoder, CTC and Sequence. Also `tokenLevelBytes`, the bytes one token
 * stands for on its own (for streaming and `tokenBytes`), which ignores position-dependent steps.
 */

import { unicodeToByte, utf8Decode, utf8Encode } from "../utf8.js";
import { matchRanges } from "./aligned.js";
import { arr, bool, int, obj, opt, pattern, str, typeOf, type JsonObject } from "./json.js";
import { compileOnig, literalRegex } from "./regex.js";

export type DecodeStep = (tokens: string[]) => string[];

/** A parsed decoder: the chain, and the per-token byte rendering. */
export interface HfDecoder {
  readonly chain: DecodeStep;
  /** Bytes of one token alone; undefined means "the token's UTF-8 text". */
  readonly tokenBytes: (token: string) => Uint8Array;
}

const TYPES = ["ByteLevel", "Metaspace", "ByteFallback", "Fuse", "Strip", "Replace", "WordPiece", "BPEDecoder", "CTC", "Sequence"] as const;

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function parseDecoder(v: unknown, path = "decoder"): HfDecoder | undefined {
  if (v === null || v === undefined) return undefined;
  const o = obj(v, path);
  const type = typeOf(o, path, "decoder", TYPES);
  switch (type) {
    case "ByteLevel": return { chain: (t) => [utf8Decode(Uint8Array.from(t.flatMap((x) => Array.from(byteLevelBytes(x)))))], tokenBytes: byteLevelBytes };
    case "Metaspace": return metaspace(o, path);
    case "ByteFallback": return { chain: byteFallback, tokenBytes: (t) => { const m = BYTE_TOKEN.exec(t); return m ? Uint8Array.of(parseInt(m[1] as string, 16)) : utf8Encode(t); } };
    case "Fuse": return { chain: (t) => [t.join("")], tokenBytes: utf8Encode };
    case "Strip": return strip(o, path);
    case "Replace": return replace(o, path);
    case "WordPiece": return wordPiece(o, path);
    case "BPEDecoder": {
      const suffix = opt(o["suffix"], "</w>", str, `${path}.suffix`);
      return { chain: (t) => t.map((x, i) => x.replaceAll(suffix, i === t.length - 1 ? "" : " ")), tokenBytes: (t) => utf8Encode(t.replaceAll(suffix, " ")) };
    }
    case "CTC": return ctc(o, path);
    case "Sequence": {
      const steps = arr(o["decoders"], `${path}.decoders`).map((d, i) => parseDecoder(d, `${path}.decoders[${i}]`)).filter((d): d is HfDecoder => d !== undefined);
      return {
        chain: (t) => steps.reduce((x, d) => d.chain(x), t),
        tokenBytes: (t) => sequenceTokenBytes(steps, t),
      };
    }
  }
}

/** Per-token bytes through a sequence: string steps apply in order; the first byte-producing step decides. */
function sequenceTokenBytes(steps: readonly HfDecoder[], token: string): Uint8Array {
  let t = token;
  for (const d of steps) {
    const bytes = d.tokenBytes(t);
    const asText = utf8Decode(bytes);
    if (utf8Encode(asText).length !== bytes.length || !sameBytes(utf8Encode(asText), bytes)) return bytes; // raw bytes: stop here
    t = asText;
  }
  return utf8Encode(t);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A token in GPT-2's byte alphabet back to bytes; a token with any other character stays its UTF-8. */
export function byteLevelBytes(token: string): Uint8Array {
  const map = unicodeToByte();
  const out = new Uint8Array(token.length);
  let n = 0;
  for (const ch of token) {
    const b = map.get(ch);
    if (b === undefined) return utf8Encode(token);
    out[n++] = b;
  }
  return out.subarray(0, n);
}

function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Uint8Array.from(pending);
    const text = utf8Decode(bytes);
    // HF: bytes that are not valid UTF-8 become one U+FFFD each
    if (text.includes("\uFFFD") && !sameBytes(utf8Encode(text), bytes)) for (let i = 0; i < pending.length; i++) out.push("\uFFFD");
    else out.push(text);
    pending = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 ? BYTE_TOKEN.exec(t) : null;
    if (m) { pending.push(parseInt(m[1] as string, 16)); continue; }
    flush();
    out.push(t);
  }
  flush();
  return out;
}

function metaspace(o: JsonObject, path: string): HfDecoder {
  const rep = str(o["replacement"] ?? "\u2581", `${path}.replacement`);
  const scheme = o["prepend_scheme"] !== undefined && o["prepend_scheme"] !== null ? str(o["prepend_scheme"], `${path}.prepend_scheme`) : o["add_prefix_space"] === false ? "never" : "always";
  return {
    chain: (tokens) => tokens.map((t, i) => (i === 0 && scheme !== "never" ? t.replaceAll(rep, "") : t.replaceAll(rep, " "))),
    tokenBytes: (t) => utf8Encode(t.replaceAll(rep, " ")),
  };
}

function strip(o: JsonObject, path: string): HfDecoder {
  const content = str(o["content"], `${path}.content`);
  const start = int(o["start"] ?? 0, `${path}.start`);
  const stop = int(o["stop"] ?? 0, `${path}.stop`);
  return {
    chain: (tokens) => tokens.map((t) => {
      const chars = [...t];
      let s = 0;
      while (s < start && s < chars.length && chars[s] === content) s++;
      let e = chars.length;
      for (let i = 0; i < stop && e > s && chars[e - 1] === content; i++) e--;
      return chars.slice(s, e).join("");
    }),
    tokenBytes: utf8Encode,
  };
}

function replace(o: JsonObject, path: string): HfDecoder {
  const p = pattern(o["pattern"], `${path}.pattern`);
  const content = str(o["content"], `${path}.content`);
  const re = p.kind === "string" ? literalRegex(p.value) : compileOnig(p.value);
  const apply = (t: string): string => {
    let out = "";
    let last = 0;
    for (const [s, e] of matchRanges(t, re)) { out += t.slice(last, s) + content; last = e; }
    return out + t.slice(last);
  };
  return { chain: (tokens) => tokens.map(apply), tokenBytes: (t) => utf8Encode(apply(t)) };
}

export function wordPieceCleanup(s: string): string {
  return s.replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",").replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" do not", " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

function wordPiece(o: JsonObject, path: string): HfDecoder {
  const prefix = opt(o["prefix"], "##", str, `${path}.prefix`);
  const cleanup = opt(o["cleanup"], true, bool, `${path}.cleanup`);
  return {
    chain: (tokens) => tokens.map((t, i) => {
      let x = i === 0 ? t : t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
      if (cleanup) x = wordPieceCleanup(x);
      return x;
    }),
    tokenBytes: (t) => utf8Encode(t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`),
  };
}

function ctc(o: JsonObject, path: string): HfDecoder {
  const pad = opt(o["pad_token"], "<pad>", str, `${path}.pad_token`);
  const delim = opt(o["word_delimiter_token"], "|", str, `${path}.word_delimiter_token`);
  const cleanup = opt(o["cleanup"], true, bool, `${path}.cleanup`);
  return {
    chain: (tokens) => tokens.filter((t, i) => i === 0 || t !== tokens[i - 1]).filter((t) => t !== pad)
      .map((t) => { const x = t.replaceAll(delim, " "); return cleanup ? wordPieceCleanup(x).replaceAll(delim, " ") : x; }),
    tokenBytes: utf8Encode,
  };
}
