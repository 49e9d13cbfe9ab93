/**
 * Decodes one GGUF metadata value (scalar or array, arrays possibly nested) at a cursor.
 * Numeric arrays become typed arrays copied out of the file; bools are checked to be 0/1.
 * It does not interpret keys (metadata.ts does that).
 */

import { PeelError } from "../../util/errors.js";
import type { GgufCursor } from "./cursor.js";
import { GGUF_VALUE_TYPES, ggufValueTypeFromId, type GgufArray, type GgufKv, type GgufValueType } from "./types.js";

/** Smallest encoded size of one element of each type (strings: an 8-byte length; arrays: type + count). */
const MIN_SIZE: Readonly<Record<GgufValueType, number>> = {
  UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FLOAT32: 4, BOOL: 1,
  STRING: 8, ARRAY: 12, UINT64: 8, INT64: 8, FLOAT64: 8,
};

export function readValueType(c: GgufCursor, what: string): GgufValueType {
  const at = c.pos;
  const id = c.u32(`value type of ${what}`);
  const type = ggufValueTypeFromId(id);
  if (type === undefined) {
    throw new PeelError(
      "FORMAT",
      `${c.description}: ${what}: unknown GGUF value type id ${id} at offset ${at}; ` +
        `valid ids are 0..12 (${GGUF_VALUE_TYPES.join(", ")}); the file is corrupt`,
    );
  }
  return type;
}

function readBool(c: GgufCursor, what: string): boolean {
  const at = c.pos;
  const b = c.u8(what);
  if (b > 1) {
    throw new PeelError("FORMAT", `${c.description}: ${what}: bool at offset ${at} must be 0 or 1, found ${b}; the file is corrupt`);
  }
  return b === 1;
}

export function readValue(c: GgufCursor, type: GgufValueType, what: string): GgufKv {
  switch (type) {
    case "UINT8": return { type, value: c.u8(what) };
    case "INT8": return { type, value: (c.u8(what) << 24) >> 24 };
    case "UINT16": return { type, value: c.u16(what) };
    case "INT16": return { type, value: (c.u16(what) << 16) >> 16 };
    case "UINT32": return { type, value: c.u32(what) };
    case "INT32": return { type, value: c.u32(what) | 0 };
    case "FLOAT32": return { type, value: c.f32(what) };
    case "BOOL": return { type, value: readBool(c, what) };
    case "STRING": return { type, value: c.str(what) };
    case "ARRAY": return { type, value: readArray(c, what) };
    case "UINT64": return { type, value: c.u64(what) };
    case "INT64": return { type, value: c.i64(what) };
    case "FLOAT64": return { type, value: c.f64(what) };
  }
}

export function readArray(c: GgufCursor, what: string): GgufArray {
  const elementType = readValueType(c, `element type of ${what}`);
  const at = c.pos;
  const count = c.u64n(`element count of ${what}`);
  if (count * MIN_SIZE[elementType] > c.remaining()) {
    throw new PeelError(
      "FORMAT",
      `${c.description}: ${what}: array at offset ${at} declares ${count} ${elementType} elements, which cannot fit in the ` +
        `${c.remaining()} bytes left in the file; the file is corrupt`,
    );
  }
  switch (elementType) {
    case "UINT8": return { elementType, values: c.copy(count, what) };
    case "INT8": return { elementType, values: new Int8Array(c.copy(count, what).buffer) };
    case "UINT16": return { elementType, values: new Uint16Array(c.copy(count * 2, what).buffer) };
    case "INT16": return { elementType, values: new Int16Array(c.copy(count * 2, what).buffer) };
    case "UINT32": return { elementType, values: new Uint32Array(c.copy(count * 4, what).buffer) };
    case "INT32": return { elementType, values: new Int32Array(c.copy(count * 4, what).buffer) };
    case "FLOAT32": return { elementType, values: new Float32Array(c.copy(count * 4, what).buffer) };
    case "FLOAT64": return { elementType, values: new Float64Array(c.copy(count * 8, what).buffer) };
    case "UINT64": return { elementType, values: new BigUint64Array(c.copy(count * 8, what).buffer) };
    case "INT64": return { elementType, values: new BigInt64Array(c.copy(count * 8, what).buffer) };
    case "BOOL": {
      const values: boolean[] = new Array<boolean>(count);
      for (let i = 0; i < count; i++) values[i] = readBool(c, `${what}[${i}]`);
      return { elementType, values };
    }
    case "STRING": {
      const values: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) values[i] = c.str(`${what}[${i}]`);
      return { elementType, values };
    }
    case "ARRAY": {
      const values: GgufArray[] = new Array<GgufArray>(count);
      for (let i = 0; i < count; i++) values[i] = readArray(c, `${what}[${i}]`);
      return { elementType, values };
    }
  }
}
