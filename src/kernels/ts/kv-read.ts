/** One element of a KV cache buffer as f32, whatever its storage type: what the reference attention kernels read. */

import type { KvBuffer } from "../kernels.js";
import { f16ToF32 } from "../../tensor/f16.js";

/** Element i of buf as f32. */
export function kvAt(buf: KvBuffer, i: number): number {
  const v = buf.data[i] as number;
  return buf.dtype === "F16" ? f16ToF32(v) : v;
}
