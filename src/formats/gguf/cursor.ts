/**
 * A read cursor over a prefix of a GGUF file, used while parsing the header. When a read would run past
 * the prefix but not past the file, it throws `NeedMoreBytes` so the caller can fetch a longer prefix and
 * parse again; past the end of the file it throws PeelError FORMAT. It knows nothing of GGUF semantics.
 */

import { PeelError, u64ToNumber } from "../../util/errors.js";

/** Internal signal: the prefix is too short; `needed` bytes from the start would suffice for this read. */
export class NeedMoreBytes extends Error {
  readonly needed: number;
  constructor(needed: number) {
    super(`need ${needed} bytes of header`);
    this.needed = needed;
  }
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true }); // keep a leading U+FEFF (a real LLaMA piece); non-fatal: invalid sequences become U+FFFD rather than failing a load

export class GgufCursor {
  pos = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly fileSize: number,
    readonly description: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Makes sure `n` more bytes are readable at `pos`; `what` names the field for the error message. */
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end <= this.bytes.length) return;
    if (end > this.fileSize) {
      throw new PeelError(
        "FORMAT",
        `${this.description}: GGUF header truncated: reading ${what} needs ${n} bytes at offset ${this.pos}, ` +
          `but the file has ${Math.max(0, this.fileSize - this.pos)} left (size ${this.fileSize})`,
      );
    }
    throw new NeedMoreBytes(end);
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++] as number;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit a JS number exactly (counts, lengths, dims, offsets). */
  u64n(what: string): number {
    return u64ToNumber(this.u64(what), `${this.description}: ${what}`);
  }

  /** Copies `n` bytes out into a fresh, aligned buffer. */
  copy(n: number, what: string): Uint8Array {
    this.need(n, what);
    // Uint8Array slice even when bytes is a Node Buffer (whose slice is a view): callers need an aligned copy
    const out = Uint8Array.prototype.slice.call(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes. */
  str(what: string): string {
    const at = this.pos;
    const len = this.u64n(`length of ${what}`);
    if (len > this.remaining()) {
      throw new PeelError(
        "FORMAT",
        `${this.description}: ${what} at offset ${at} declares ${len} bytes, but only ${this.remaining()} remain in the file ` +
          `(size ${this.fileSize}); the file is corrupt`,
      );
    }
    this.need(len, what);
    const s = decodeUtf8(this.bytes, this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

/** UTF-8 decode with an ASCII fast path (most vocabulary entries are short ASCII strings). */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      if (b >= 0x80) return utf8.decode(bytes.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8.decode(bytes.subarray(start, end));
}
