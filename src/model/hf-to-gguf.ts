/**
 * A Hugging Face checkpoint seen as the GGUF file llama.cpp's converter would write from it: config.json
 * becomes GGUF metadata (through architectures/hf.ts), HF tensor names become GGUF names, q/k rows of
 * Llama-family checkpoints are permuted from HF's rotate-half layout to GGUF llama's adjacent pairs, and
 * Gemma's norm gains get their + 1, and GPT-NeoX's per-head interleaved q/k/v rows are regrouped. Encoders
 * (BERT) get `attention.causal` false and the pooling their sentence-transformers files name (modules.json
 * → the Pooling module's config.json), as the converter writes them. T5 has two stacks of blocks and its own
 * config.json names (architectures/hf.ts `stacks`, `configKeys`).
 * Everything after that (config parsing, shape checks, binding) is the GGUF path's, so a checkpoint and its conversion run the same numbers. Browser-safe: parsed JSON and
 * tensors in, metadata and tensors out.
 */

import { kv } from "../formats/gguf/write.js";
import type { GgufKv } from "../formats/gguf/types.js";
import type { Tensor } from "../tensor/tensor.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../tensor/f16.js";
import { PeelError } from "../util/errors.js";
import { GGUF_KEYS, GGUF_POOLING } from "./architectures/gguf-names.js";
import { GGUF_ARCHITECTURES } from "./architectures/registry.js";
import type { ArchitectureTable } from "./architectures/table.js";
import {
  HF_ARCHITECTURES, HF_CONFIG_KEYS, HF_GLOBAL_TENSORS, HF_IGNORED_TENSOR, HF_LAYER_TENSORS, HF_REQUIRED_KEYS, type HfArchitecture,
} from "./architectures/hf.js";

type Json = Readonly<Record<string, unknown>>;

export interface HfModel {
  readonly modelType: string;
  readonly arch: HfArchitecture;
  readonly config: Json;
}

/** config.json → its architecture; UNSUPPORTED names the model_type and lists the supported ones. */
export function hfModel(config: unknown, file: string): HfModel {
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new PeelError("CONFIG", `${file}: expected a JSON object`);
  const c = config as Json;
  const modelType = c["model_type"];
  if (typeof modelType !== "string") throw new PeelError("CONFIG", `${file}: missing "model_type" (a string)`);
  const arch = Object.hasOwn(HF_ARCHITECTURES, modelType) ? HF_ARCHITECTURES[modelType] : undefined;
  if (arch === undefined) {
    throw new PeelError("UNSUPPORTED", `${file}: model_type "${modelType}" is not supported; supported: ${Object.keys(HF_ARCHITECTURES).join(", ")}`);
  }
  return { modelType, arch, config: c };
}

function number(c: Json, key: string, file: string): number | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new PeelError("CONFIG", `${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export interface HfMetadataExtras {
  /** An encoder's GGUF pooling_type (poolingTypeOf), from the folder's sentence-transformers files; none: no key. */
  readonly pooling?: number;
}

/** The GGUF metadata the converter writes for this config.json (model keys only; the tokenizer comes from tokenizer.json). */
export function hfMetadata(m: HfModel, file: string, extras: HfMetadataExtras = {}): Map<string, GgufKv> {
  const c = m.config;
  const arch = m.arch.gguf;
  const meta = new Map<string, GgufKv>([["general.architecture", kv.str(arch)]]);
  const k = (key: string) => `${arch}.${key}`;
  const own = m.arch.configKeys;
  for (const key of [...(own?.required ?? HF_REQUIRED_KEYS), ...(m.arch.requiredKeys ?? [])]) {
    if (number(c, key, file) === undefined) throw new PeelError("CONFIG", `${file}: missing required field "${key}"`);
  }
  const actKey = m.arch.hiddenActKey ?? "hidden_act";
  const act = c[actKey];
  const acts = m.arch.hiddenAct;
  if (acts !== undefined && act !== undefined && (typeof act !== "string" || !acts.includes(act))) {
    throw new PeelError("UNSUPPORTED", `${file}: "${actKey}" ${JSON.stringify(act)} is not supported for "${m.modelType}"; supported: ${acts.join(", ")}`);
  }
  // T5 without n_positions: the converter writes 512
  if (own !== undefined && number(c, "n_positions", file) === undefined) meta.set(k(GGUF_KEYS.contextLength), kv.u32(512));
  for (const [hf, gguf] of own?.map ?? HF_CONFIG_KEYS) {
    const v = number(c, hf, file);
    if (v === undefined) continue;
    // the converter writes sizes as u32 and the rest as f32
    if (Number.isInteger(v) && v >= 0 && !/eps|theta|freq|base|softcapping/.test(hf)) meta.set(k(gguf), kv.u32(v));
    else meta.set(k(gguf), kv.f32(Math.fround(v)));
  }
  const eps = number(c, "layer_norm_eps", file) ?? number(c, "layer_norm_epsilon", file);
  if (eps !== undefined) meta.set(k(GGUF_KEYS.layerNormEps), kv.f32(Math.fround(eps)));
  const heads = number(c, "num_attention_heads", file) ?? 0, dim = number(c, "hidden_size", file) ?? 0;
  const partial = number(c, "partial_rotary_factor", file);
  if (partial !== undefined && heads > 0) meta.set(k(GGUF_KEYS.ropeDims), kv.u32(Math.floor((partial * dim) / heads)));
  const pct = number(c, "rotary_pct", file); // GPT-NeoX: the fraction of each head that rotates
  if (pct !== undefined && heads > 0) meta.set(k(GGUF_KEYS.ropeDims), kv.u32(Math.floor(pct * Math.floor(dim / heads))));
  for (const [hf, gguf, fallback] of m.arch.boolKeys ?? []) {
    const v = c[hf] ?? fallback;
    if (typeof v !== "boolean") throw new PeelError("CONFIG", `${file}: "${hf}" must be true or false, got ${JSON.stringify(v)}`);
    meta.set(k(gguf), kv.bool(v));
  }
  ropeScaling(c, file, (key, v) => meta.set(k(key), v));
  slidingWindow(m, file, (key, v) => meta.set(k(key), v));
  if (m.arch.encoder !== undefined) {
    meta.set(k(GGUF_KEYS.causal), kv.bool(false));
    if (extras.pooling !== undefined) meta.set(k(GGUF_KEYS.poolingType), kv.u32(extras.pooling));
  }
  return meta;
}

/**
 * The folder of a sentence-transformers modules.json's Pooling module ("1_Pooling"), or undefined when there is
 * no such module (the converter then writes no pooling_type). Only a plain folder name inside the checkpoint.
 */
export function poolingModulePath(modules: unknown, file: string): string | undefined {
  if (!Array.isArray(modules)) throw new PeelError("CONFIG", `${file}: expected a list of modules`);
  for (const mod of modules as unknown[]) {
    const { type, path } = (typeof mod === "object" && mod !== null ? mod : {}) as Record<string, unknown>;
    if (typeof type !== "string" || !type.endsWith("Pooling")) continue;
    if (typeof path !== "string" || path === "" || path.split(/[\\/]/).some((p) => p === ".." || p === "") || path.startsWith("/")) {
      throw new PeelError("CONFIG", `${file}: the Pooling module's "path" must be a folder inside the checkpoint, got ${JSON.stringify(path)}`);
    }
    return path;
  }
  return undefined;
}

/** The converter's order: mean, then cls, then last token flags, then `pooling_mode`; anything else is refused. */
export function poolingTypeOf(pooling: unknown, file: string): number {
  const p = (typeof pooling === "object" && pooling !== null ? pooling : {}) as Json;
  const byName = { mean: "mean", cls: "cls", lasttoken: "last" } as const;
  const mode = p["pooling_mode"];
  const kind = p["pooling_mode_mean_tokens"] === true ? "mean" : p["pooling_mode_cls_token"] === true ? "cls" : p["pooling_mode_lasttoken"] === true ? "last"
    : typeof mode === "string" && Object.hasOwn(byName, mode) ? byName[mode as keyof typeof byName] : undefined;
  if (kind === undefined) {
    throw new PeelError("UNSUPPORTED", `${file}: no pooling mode Peel runs (pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_lasttoken, or pooling_mode mean, cls, lasttoken)`);
  }
  return Number(Object.entries(GGUF_POOLING).find(([, v]) => v === kind)![0]);
}

function ropeScaling(c: Json, file: string, set: (key: string, v: GgufKv) => void): void {
  const s = c["rope_scaling"];
  if (s === undefined || s === null) return;
  if (typeof s !== "object" || Array.isArray(s)) throw new PeelError("CONFIG", `${file}: "rope_scaling" must be an object or null`);
  const r = s as Json;
  const type = r["rope_type"] ?? r["type"];
  const factor = number(r, "factor", file);
  if (type === "default") return;
  if (typeof type !== "string" || factor === undefined) throw new PeelError("CONFIG", `${file}: "rope_scaling" needs "rope_type" and "factor"`);
  set(GGUF_KEYS.ropeScalingType, kv.str(type));
  set(GGUF_KEYS.ropeScalingFactor, kv.f32(Math.fround(factor)));
  if (type === "llama3") {
    const opt = (hf: string, gguf: string) => { const v = number(r, hf, file); if (v !== undefined) set(gguf, kv.f32(Math.fround(v))); };
    opt("low_freq_factor", GGUF_KEYS.ropeLowFreqFactor);
    opt("high_freq_factor", GGUF_KEYS.ropeHighFreqFactor);
    const orig = number(r, "original_max_position_embeddings", file);
    if (orig !== undefined) set(GGUF_KEYS.ropeOrigContext, kv.u32(orig));
  }
}

/** Gemma 2/3's window: `sliding_window`, and which layers slide from `layer_types` or `sliding_window_pattern`. */
function slidingWindow(m: HfModel, file: string, set: (key: string, v: GgufKv) => void): void {
  if (ggufTable(m).slidingWindow === undefined) return; // llama.cpp ignores the windows of architectures without a rule
  const c = m.config;
  const window = number(c, "sliding_window", file);
  const types = c["layer_types"];
  if (Array.isArray(types)) {
    if (!types.every((t) => t === "sliding_attention" || t === "full_attention")) {
      throw new PeelError("CONFIG", `${file}: "layer_types" must hold "sliding_attention" or "full_attention" per layer`);
    }
    if (!types.includes("sliding_attention") || window === undefined) return;
    set(GGUF_KEYS.slidingWindow, kv.u32(window));
    set(GGUF_KEYS.slidingWindowPattern, kv.boolArray(types.map((t) => t === "sliding_attention")));
    return;
  }
  const pattern = number(c, "sliding_window_pattern", file);
  if (window === undefined || pattern === 1) return;
  set(GGUF_KEYS.slidingWindow, kv.u32(window));
  if (pattern !== undefined) set(GGUF_KEYS.slidingWindowPattern, kv.u32(pattern));
}

function ggufTable(m: HfModel): ArchitectureTable {
  return GGUF_ARCHITECTURES[m.arch.gguf] as ArchitectureTable;
}

/**
 * Whether lm_head is left out of the GGUF: tied checkpoints may still carry it (the converter drops it), and
 * architectures whose head is always the embedding (Gemma 1/2) never read it.
 */
function dropsHead(m: HfModel): boolean {
  return m.config["tie_word_embeddings"] === true || ggufTable(m).tiedOutput === "always";
}

/** The GGUF name of an HF tensor, null for tensors the converter drops; CONFIG for names it does not know. */
export function ggufNameOf(m: HfModel, checkpointName: string, file: string): string | null {
  let hfName = checkpointName;
  if (m.arch.namePrefix !== undefined && hfName.startsWith(m.arch.namePrefix)) hfName = hfName.slice(m.arch.namePrefix.length);
  if (m.arch.gammaBeta === true) hfName = hfName.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
  if (HF_IGNORED_TENSOR.test(hfName) || m.arch.ignoredTensors?.test(hfName) === true) return null;
  const global = (m.arch.globalTensors ?? HF_GLOBAL_TENSORS)[hfName];
  if (global !== undefined) return global;
  const stacks = m.arch.stacks ?? [{ hf: m.arch.layerPrefix ?? "model.layers.", gguf: "blk.", tensors: m.arch.layerTensors }];
  for (const stack of stacks) {
    const match = hfName.startsWith(stack.hf) ? /^(\d+)\.(.+)$/.exec(hfName.slice(stack.hf.length)) : null;
    const suffix = match?.[2];
    const mapped = suffix === undefined ? undefined : stack.tensors[suffix] ?? (m.arch.stacks === undefined ? HF_LAYER_TENSORS[suffix] : undefined);
    if (match !== null && mapped !== undefined) return `${stack.gguf}${match[1]}.${mapped}`;
  }
  throw new PeelError("CONFIG", `${file}: tensor "${checkpointName}" is not part of a "${m.modelType}" checkpoint Peel can map to GGUF`);
}

/** Element i of a 1-D F32/F16/BF16 tensor's bytes, and its writer. */
function elementCodec(t: Tensor): { get(i: number): number; set(i: number, v: number): void } {
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case "F32": return { get: (i) => dv.getFloat32(4 * i, true), set: (i, v) => dv.setFloat32(4 * i, v, true) };
    case "F16": return { get: (i) => f16ToF32(dv.getUint16(2 * i, true)), set: (i, v) => dv.setUint16(2 * i, f32ToF16(v), true) };
    case "BF16": return { get: (i) => bf16ToF32(dv.getUint16(2 * i, true)), set: (i, v) => dv.setUint16(2 * i, f32ToBf16(v), true) };
    default: throw new PeelError("UNSUPPORTED", `tensor "${t.name}": dtype ${t.dtype} in a Hugging Face checkpoint; supported: F32, F16, BF16`);
  }
}

/** Gemma's gain w as 1 + w, computed in the tensor's own type (as the converter's torch add is). */
function plusOne(t: Tensor): Tensor {
  const out: Tensor = { ...t, data: t.data.slice() };
  const codec = elementCodec(out);
  const n = t.shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) codec.set(i, Math.fround(codec.get(i) + 1));
  return out;
}

/**
 * HF's q/k rows per head are [first halves of the pairs, second halves]; GGUF llama's are the pairs in
 * order: GGUF row h·hd + 2i + j is HF row h·hd + j·hd/2 + i (the converter's permute).
 */
function permuteRows(t: Tensor, nHeads: number): Tensor {
  const rows = t.shape[0] as number;
  const rowBytes = t.data.length / rows;
  const hd = rows / nHeads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new PeelError("CONFIG", `tensor "${t.name}": ${rows} rows do not split into ${nHeads} heads of an even size`);
  const out = new Uint8Array(t.data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const src = h * hd + j * (hd / 2) + i, dst = h * hd + 2 * i + j;
        out.set(t.data.subarray(src * rowBytes, (src + 1) * rowBytes), dst * rowBytes);
      }
    }
  }
  return { ...t, data: out };
}

/**
 * GPT-NeoX's fused q/k/v: HF row h·3·hd + j·hd + i (head h, part j of q/k/v, element i) becomes GGUF row
 * j·nHeads·hd + h·hd + i, all queries first, then keys, then values (the converter's reshape and concat).
 */
function deinterleaveQkv(t: Tensor, nHeads: number): Tensor {
  const rows = t.shape[0] as number;
  const rowBytes = t.data.length / rows;
  const hd = rows / (3 * nHeads);
  if (!Number.isInteger(hd)) throw new PeelError("CONFIG", `tensor "${t.name}": ${rows} rows do not split into ${nHeads} heads of q, k and v`);
  const out = new Uint8Array(t.data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < 3; j++) {
      const src = (h * 3 + j) * hd, dst = j * nHeads * hd + h * hd;
      out.set(t.data.subarray(src * rowBytes, (src + hd) * rowBytes), dst * rowBytes);
    }
  }
  return { ...t, data: out };
}

/** The tensors under their GGUF names, with the family's layout conventions applied. */
export function hfTensorsToGguf(m: HfModel, tensors: ReadonlyMap<string, Tensor>, file: string): Map<string, Tensor> {
  const heads = number(m.config, "num_attention_heads", file) ?? 0;
  const kvHeads = number(m.config, "num_key_value_heads", file) ?? heads;
  const out = new Map<string, Tensor>();
  for (const [hfName, t] of tensors) {
    const name = ggufNameOf(m, hfName, file);
    if (name === null) continue;
    let g: Tensor = { ...t, name };
    elementCodec(g); // refuses other dtypes, naming the tensor
    if (m.arch.permuteQk && /\.attn_q\.(weight|bias)$/.test(name)) g = permuteRows(g, heads);
    if (m.arch.permuteQk && /\.attn_k\.(weight|bias)$/.test(name)) g = permuteRows(g, kvHeads);
    if (m.arch.interleavedQkv && /\.attn_qkv\.(weight|bias)$/.test(name)) g = deinterleaveQkv(g, heads);
    if (m.arch.normOffset && name.endsWith("norm.weight")) g = plusOne(g);
    out.set(name, g);
  }
  if (dropsHead(m)) out.delete("output.weight");
  else if (m.config["tie_word_embeddings"] === false && !out.has("output.weight")) throw new PeelError("CONFIG", `${file}: "tie_word_embeddings" is false but there is no "lm_head.weight"`);
  return out;
}

/** Shapes under GGUF names (for describing a checkpoint from its headers alone), with the same drops. */
export function hfShapesToGguf(m: HfModel, infos: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>, file: string): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const t of infos) {
    const name = ggufNameOf(m, t.name, file);
    if (name !== null) out.set(name, t.shape);
  }
  if (dropsHead(m)) out.delete("output.weight");
  checkTokenTypes(m, out, file);
  return out;
}

/** An encoder's token-type table has config.json's row count (the converter writes it as token_type_count). */
function checkTokenTypes(m: HfModel, shapes: ReadonlyMap<string, readonly number[]>, file: string): void {
  const enc = m.arch.encoder;
  if (enc === undefined) return;
  const want = number(m.config, enc.tokenTypesKey, file);
  const rows = shapes.get(enc.tokenTypesTensor)?.[0];
  if (want !== undefined && rows !== undefined && rows !== want) {
    throw new PeelError("CONFIG", `${file}: "${enc.tokenTypesKey}" is ${want} but tensor "${enc.tokenTypesTensor}" has ${rows} rows`);
  }
}
