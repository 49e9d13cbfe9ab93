/**
 * UTF-8 helpers shared by the tokenizers: encode/decode that keep a leading U+FEFF (TextDecoder would
 * drop it, and some vocabularies hold it as a piece), lone-surrogate repair, and the GPT-2 byte<->unicode
 * alphabet used by byte-level BPE. No tokenization logic here.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes bytes; invalid sequences become U+FFFD; a leading BOM is kept. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A streaming decoder (holds an incomplete tail between calls). */
export function createUtf8StreamDecoder(): TextDecoder {
  return new TextDecoder("utf-8", { ignoreBOM: true });
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces unpaired surrogates by U+FFFD, as UTF-8 encoding of the text would. */
export function toWellFormed(text: string): string {
  return text.replace(loneSurrogate, "\uFFFD");
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

let byteToCharTable: string[] | undefined;
let charToByteTable: Map<string, number> | undefined;

/**
 * GPT-2's reversible byte -> printable character map: printable Latin-1 bytes map to themselves, the
 * other 68 bytes to U+0100.. in byte order (so space is "Ġ" U+0120 and newline "Ċ" U+010A).
 */
export function byteToUnicode(): readonly string[] {
  if (byteToCharTable) return byteToCharTable;
  const table: string[] = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + extra++);
  byteToCharTable = table;
  return table;
}

/** The inverse of `byteToUnicode`. */
export function unicodeToByte(): ReadonlyMap<string, number> {
  if (charToByteTable) return charToByteTable;
  const map = new Map<string, number>();
  byteToUnicode().forEach((c, b) => map.set(c, b));
  charToByteTable = map;
  return map;
}
