/**
 * Reads SentencePiece's model file (`tokenizer.model`, `spiece.model`, a serialized ModelProto) far enough to
 * convert it or tokenize with it: every piece with its score and type, the trainer's model type (unigram,
 * BPE, ...), its byte_fallback flag and the normalizer (precompiled charsmap, dummy prefix, whitespace rules).
 * Field numbers are those of sentencepiece_model.proto: ModelProto.pieces = 1 (piece 1, score 2, type 3),
 * trainer_spec = 2 (model_type 3, byte_fallback 35), normalizer_spec = 3 (precompiled_charsmap 2,
 * add_dummy_prefix 3, remove_extra_whitespaces 4, escape_whitespaces 5). It does not run the model.
 * Browser-safe (bytes in).
 */

import { PeelError } from "../util/errors.js";
import { TokenType, type TokenTypeValue } from "./types.js";

export interface SpmModelPiece {
  readonly piece: string;
  readonly score: number;
  readonly type: TokenTypeValue;
}

export interface SpmModelProto {
  readonly pieces: readonly SpmModelPiece[];
  /** TrainerSpec.model_type: "unigram" (1, the default), "bpe" (2), "word" (3), "char" (4). */
  readonly modelType: "unigram" | "bpe" | "word" | "char";
  readonly byteFallback: boolean;
  /** NormalizerSpec (field 3), with the proto's defaults where a field is absent. */
  readonly normalizer: SpmNormalizerSpec;
}

export interface SpmNormalizerSpec {
  /** precompiled_charsmap (2): charsmap.ts's format; empty for identity normalizers. */
  readonly charsmap: Uint8Array;
  /** add_dummy_prefix (3, default true). */
  readonly addDummyPrefix: boolean;
  /** remove_extra_whitespaces (4, default true). */
  readonly removeExtraWhitespaces: boolean;
  /** escape_whitespaces (5, default true). */
  readonly escapeWhitespaces: boolean;
}

const MODEL_TYPES = ["unigram", "bpe", "word", "char"] as const;

type Field = { readonly num: number; readonly wire: number; readonly int: number; readonly bytes: Uint8Array };

/** The fields of one message; FORMAT (naming `file`) when the bytes are not protobuf. */
function fields(buf: Uint8Array, file: string, what: string): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const fail = (why: string) => new PeelError("FORMAT", `${file}: not a SentencePiece model (${what}: ${why} at byte ${pos}) — expected the tokenizer.model protobuf a SentencePiece trainer writes`);
  const varint = (): number => {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw fail("truncated varint");
      const b = buf[pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw fail("varint longer than 10 bytes");
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > buf.length) throw fail(`a field of ${n} bytes runs past the end`);
    const v = buf.subarray(pos, pos + n);
    pos += n;
    return v;
  };
  const none = new Uint8Array(0);
  while (pos < buf.length) {
    const key = varint();
    const num = Math.floor(key / 8), wire = key % 8;
    if (num === 0) throw fail("field number 0");
    switch (wire) {
      case 0: out.push({ num, wire, int: varint(), bytes: none }); break;
      case 1: out.push({ num, wire, int: 0, bytes: take(8) }); break;
      case 2: out.push({ num, wire, int: 0, bytes: take(varint()) }); break;
      case 5: out.push({ num, wire, int: 0, bytes: take(4) }); break;
      default: throw fail(`wire type ${wire}`);
    }
  }
  return out;
}

// ignoreBOM: a piece may be U+FEFF itself, which a default decoder would strip
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });
const TYPES: ReadonlySet<number> = new Set(Object.values(TokenType));

function piece(bytes: Uint8Array, index: number, file: string): SpmModelPiece {
  let text: string | undefined;
  let score = 0;
  let type: TokenTypeValue = TokenType.normal; // the proto's default
  for (const f of fields(bytes, file, `piece ${index}`)) {
    if (f.num === 1 && f.wire === 2) text = UTF8.decode(f.bytes);
    else if (f.num === 2 && f.wire === 5) score = new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
    else if (f.num === 3 && f.wire === 0) {
      if (!TYPES.has(f.int)) throw new PeelError("FORMAT", `${file}: piece ${index} has type ${f.int}; SentencePiece's types are 1-6 (normal, unknown, control, user-defined, unused, byte)`);
      type = f.int as TokenTypeValue;
    }
  }
  if (text === undefined) throw new PeelError("FORMAT", `${file}: piece ${index} has no text (field 1)`);
  return { piece: text, score, type };
}

/** Parses a tokenizer.model; `file` names it in errors. */
export function readSpmModelProto(bytes: Uint8Array, file: string): SpmModelProto {
  const pieces: SpmModelPiece[] = [];
  let modelType: SpmModelProto["modelType"] = "unigram";
  let byteFallback = false;
  const normalizer: { -readonly [K in keyof SpmNormalizerSpec]: SpmNormalizerSpec[K] } = { charsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  for (const f of fields(bytes, file, "ModelProto")) {
    if (f.num === 1 && f.wire === 2) pieces.push(piece(f.bytes, pieces.length, file));
    else if (f.num === 2 && f.wire === 2) {
      for (const t of fields(f.bytes, file, "trainer_spec")) {
        if (t.num === 3 && t.wire === 0) {
          const m = MODEL_TYPES[t.int - 1];
          if (m === undefined) throw new PeelError("FORMAT", `${file}: trainer_spec.model_type is ${t.int}; expected 1-4 (unigram, bpe, word, char)`);
          modelType = m;
        } else if (t.num === 35 && t.wire === 0) byteFallback = t.int !== 0;
      }
    } else if (f.num === 3 && f.wire === 2) {
      for (const n of fields(f.bytes, file, "normalizer_spec")) {
        if (n.num === 2 && n.wire === 2) normalizer.charsmap = n.bytes;
        else if (n.num === 3 && n.wire === 0) normalizer.addDummyPrefix = n.int !== 0;
        else if (n.num === 4 && n.wire === 0) normalizer.removeExtraWhitespaces = n.int !== 0;
        else if (n.num === 5 && n.wire === 0) normalizer.escapeWhitespaces = n.int !== 0;
      }
    }
  }
  if (pieces.length === 0) throw new PeelError("FORMAT", `${file}: not a SentencePiece model (no pieces; expected the tokenizer.model protobuf a SentencePiece trainer writes)`);
  return { pieces, modelType, byteFallback, normalizer };
}
