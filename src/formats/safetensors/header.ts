/**
 * Parses and validates a safetensors JSON header (the bytes after the 8-byte length prefix) into typed
 * records. Enforces what the reference implementation enforces: known dtypes, integer shapes and offsets,
 * byte length = product(shape) x dtype size, and tensors that tile the data buffer from 0 to its end with
 * no gap or overlap (in offset order, which need not be header order). It also rejects duplicate tensor
 * names, which JSON.parse would otherwise hide. It does not read tensor data (read.ts).
 */

import { PeelError } from "../../util/errors.js";
import { topLevelKeys } from "./json-keys.js";
import {
  SAFETENSORS_DTYPE_SIZES, isSafetensorsDType,
  type SafetensorsHeader, type SafetensorsTensorInfo,
} from "./types.js";

export const METADATA_KEY = "__metadata__";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function decodeJson(bytes: Uint8Array, fail: (m: string) => PeelError): { text: string; value: unknown } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("the header is not valid UTF-8");
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (e) {
    throw fail(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function parseMetadata(value: unknown, fail: (m: string) => PeelError): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw fail(`"${METADATA_KEY}" must be an object of strings, got ${kindOf(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw fail(`"${METADATA_KEY}" value for key "${k}" must be a string, got ${kindOf(v)}`);
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataSize: number, description: string): SafetensorsTensorInfo {
  const fail = (code: "FORMAT" | "UNSUPPORTED", m: string) => new PeelError(code, `${description}: safetensors tensor "${name}": ${m}`);
  if (!isRecord(value)) throw fail("FORMAT", `entry must be an object with dtype, shape and data_offsets, got ${kindOf(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string") throw fail("FORMAT", `"dtype" must be a string, got ${kindOf(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail("FORMAT", `"shape" must be an array of non-negative integers, got ${JSON.stringify(shape) ?? "nothing"}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw fail("FORMAT", `"data_offsets" must be [begin, end] non-negative integers, got ${JSON.stringify(offsets) ?? "nothing"}`);
  }
  if (!isSafetensorsDType(dtype)) {
    throw fail("UNSUPPORTED", `unknown dtype "${dtype}"; supported safetensors dtypes: ${Object.keys(SAFETENSORS_DTYPE_SIZES).join(", ")}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fail("FORMAT", `data_offsets end ${end} is before begin ${begin}`);
  if (end > dataSize) throw fail("FORMAT", `data_offsets [${begin}, ${end}] run past the end of the ${dataSize}-byte data buffer; the file is truncated or corrupt`);
  const elems = (shape as number[]).reduce((p, d) => p * d, 1);
  const want = elems * SAFETENSORS_DTYPE_SIZES[dtype];
  if (!Number.isSafeInteger(want)) throw fail("FORMAT", `shape [${shape.join(", ")}] is too large`);
  if (end - begin !== want) {
    throw fail("FORMAT", `holds ${end - begin} bytes but shape [${shape.join(", ")}] x ${dtype} (${SAFETENSORS_DTYPE_SIZES[dtype]} bytes) needs ${want}`);
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end], byteSize: end - begin };
}

/** Checks that the tensors, sorted by offset, cover [0, dataSize) exactly once. */
function checkLayout(tensors: readonly SafetensorsTensorInfo[], dataSize: number, fail: (m: string) => PeelError): void {
  const sorted = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous = "";
  for (const t of sorted) {
    const [begin, end] = t.dataOffsets;
    if (begin < covered) {
      throw fail(`tensor "${t.name}" (bytes ${begin}..${end}) overlaps tensor "${previous}" which ends at ${covered}`);
    }
    if (begin > covered) {
      throw fail(`gap of ${begin - covered} unused bytes (${covered}..${begin}) before tensor "${t.name}"; tensors must cover the data buffer contiguously`);
    }
    covered = end;
    previous = t.name;
  }
  if (covered !== dataSize) {
    throw fail(`${dataSize - covered} bytes after the last tensor ends at ${covered} are not part of any tensor (data buffer is ${dataSize} bytes)`);
  }
}

/**
 * Parses the header JSON (`json` = the N header bytes, trailing space padding allowed); `fileSize` is the
 * whole file's size (the data buffer is everything after the header).
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number, description: string): SafetensorsHeader {
  const fail = (m: string) => new PeelError("FORMAT", `${description}: safetensors: ${m}`);
  const dataOffset = 8 + json.length;
  const dataSize = fileSize - dataOffset;
  const { text, value } = decodeJson(json, fail);
  if (!isRecord(value)) throw fail(`the header must be a JSON object, got ${kindOf(value)}`);
  // Keys come from the text (not Object.keys) to keep file order even for integer-like names.
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw fail(`key "${key}" appears more than once in the header`);
    seen.add(key);
  }
  const metadata = parseMetadata(value[METADATA_KEY], fail);
  const tensors: SafetensorsTensorInfo[] = [];
  for (const name of keys) {
    if (name !== METADATA_KEY) tensors.push(parseEntry(name, value[name], dataSize, description));
  }
  checkLayout(tensors, dataSize, fail);
  return { metadata, tensors, dataOffset };
}
