/**
 * Phi-3 as llama.cpp loads it: the Llama block with NeoX rotary, fused q/k/v (attn_qkv) and a fused
 * gate/up (ffn_up, gate rows first), q scaled by 1/√headDim after RoPE. llama.cpp runs Phi-3's sliding
 * window as full attention (it switches the window off with a warning), so Peel does too. Long-context
 * variants' "longrope" factor tensors are not supported yet. Data only.
 */

import { LLAMA } from "./llama.js";
import type { ArchitectureTable } from "./table.js";

export const PHI3: ArchitectureTable = {
  ...LLAMA,
  name: "phi3",
  models: "Phi-3 and Phi-3.5 mini (4k context), Phi-4 mini",
  normEps: { key: LLAMA.normEps.key, default: undefined },
  ropeStyle: "neox",
  gateUp: "fused",
  biases: { qkv: "optional", attnOut: "none", ffn: "none", norms: "none" },
  attnScale: { at: "query" },
};
