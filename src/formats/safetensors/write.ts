/**
 * Encodes tensors as a safetensors file in memory: the 8-byte little-endian header length, the JSON header
 * padded with spaces to a multiple of 8 bytes (so the data buffer starts 8-aligned), then the tensors'
 * bytes back to back in the order given. Only F32/F16/BF16 are writable (the quantized Peel dtypes have no
 * safetensors equivalent). Writing to disk is in write.node.ts.
 */

import { tensorByteSize, type Tensor } from "../../tensor/tensor.js";
import { PeelError } from "../../util/errors.js";
import { METADATA_KEY } from "./header.js";
import { PEEL_SAFETENSORS_DTYPES, isPeelSafetensorsDType } from "./types.js";

export interface SafetensorsWriteSpec {
  readonly tensors: readonly Tensor[];
  /** Written as "__metadata__" when given (even if empty). */
  readonly metadata?: Readonly<Record<string, string>>;
}

function checkTensor(t: Tensor, seen: Set<string>): void {
  const fail = (code: "INVALID_ARGUMENT" | "UNSUPPORTED", m: string) => new PeelError(code, `safetensors write: tensor "${t.name}": ${m}`);
  if (t.name === METADATA_KEY) throw fail("INVALID_ARGUMENT", `the name "${METADATA_KEY}" is reserved for metadata`);
  if (seen.has(t.name)) throw fail("INVALID_ARGUMENT", "the name is used by more than one tensor");
  seen.add(t.name);
  if (!isPeelSafetensorsDType(t.dtype)) {
    throw fail("UNSUPPORTED", `dtype ${t.dtype} cannot be stored in safetensors; use one of ${PEEL_SAFETENSORS_DTYPES.join(", ")}`);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail("INVALID_ARGUMENT", `shape [${t.shape.join(", ")}] must hold non-negative integers`);
  }
  const want = tensorByteSize(t.dtype, t.shape);
  if (t.data.length !== want) throw fail("INVALID_ARGUMENT", `has ${t.data.length} bytes but shape [${t.shape.join(", ")}] x ${t.dtype} needs ${want}`);
}

function headerJson(spec: SafetensorsWriteSpec): string {
  const parts: string[] = [];
  if (spec.metadata !== undefined) {
    for (const [k, v] of Object.entries(spec.metadata)) {
      if (typeof v !== "string") throw new PeelError("INVALID_ARGUMENT", `safetensors write: metadata value for "${k}" must be a string`);
    }
    const entries = Object.entries(spec.metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${entries.join(",")}}`);
  }
  let offset = 0;
  for (const t of spec.tensors) {
    const end = offset + t.data.length;
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    offset = end;
  }
  return `{${parts.join(",")}}`;
}

export function writeSafetensors(spec: SafetensorsWriteSpec): Uint8Array {
  const seen = new Set<string>();
  for (const t of spec.tensors) checkTensor(t, seen);
  const json = new TextEncoder().encode(headerJson(spec));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const dataSize = spec.tensors.reduce((s, t) => s + t.data.length, 0);
  const out = new Uint8Array(8 + headerLength + dataSize);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of spec.tensors) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}
