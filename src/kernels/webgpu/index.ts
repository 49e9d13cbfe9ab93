/**
 * The WebGPU backend: the Kernels interface with every kernel a WGSL compute shader, so the model (model/)
 * runs unchanged while its whole forward pass stays on the GPU.
 *
 * How a synchronous interface drives an asynchronous GPU (runtime.ts has the details): arrays from allocF32 and
 * allocKv are handles for GPU buffers; a kernel call only records a dispatch; nothing is read back between
 * kernels or layers. The CPU sees values only after `await readback(arrays)` (Kernels.readback), which the
 * session's evaluateAsync calls for the logits, the one place generation needs numbers; a trace's taps are
 * snapshots (copies recorded in order) filled at the same readback. Synchronous readers (session.evaluate,
 * interventions, onHidden) are refused on this backend rather than given stale host copies:
 * Kernels.deferred tells them.
 *
 * Weights are uploaded once, in their GGUF blocks, and decoded in the shaders (F32, F16, BF16, Q8_0, Q4_0,
 * Q5_0, Q4_K, Q5_K, Q6_K). Activations are rounded as llama.cpp's CPU backend rounds them before its dot products, so
 * results match the ts and wasm backends up to summation order. Not done here: training's backward kernels
 * (UNSUPPORTED), `shader-f16` (f16 is decoded from u32 words on every adapter; device.ts says why).
 */

import { checkShared, requireGgufLayout, type AttentionShape, type Kernels, type KvBuffer, type KvDType, type MatmulF32Layout, type RopeSpec, type WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { PeelError } from "../../util/errors.js";
import { activationRoundingFor } from "../ts/activation-rounding.js";
import { ropeAngles } from "../rope-angles.js";
import { geluF16Table } from "../ts/elementwise.js";
import { requestWebGpuDevice } from "./device.js";
import type { Gpu, GpuBuffer } from "./gpu-types.js";
import { createRuntime, type Bound, type Operand, type Runtime } from "./runtime.js";
import { ATTENTION_VARIANTS, attentionShader, storeKvShader } from "./shaders-attention.js";
import { embedShader, GPU_WEIGHT_TYPES, MATMUL_ROWS, MATMUL_TOKENS, matmulF32Shader, matmulShader, ROUND_MODES, roundActivationsShader } from "./shaders-matmul.js";
import { ELEMENTWISE_OPS, elementwiseShader, layerNormShader, rmsNormShader, ropeShader, softmaxShader } from "./shaders-rows.js";
import { params } from "./wgsl.js";

export interface WebGpuOptions {
  /** A WebGPU entry point (Dawn's `create([])` in Node); default the browser's navigator.gpu. */
  readonly gpu?: Gpu;
  /** Bytes of weights copied to the GPU so far, of the total the model announced (reserveWeights). */
  readonly onUpload?: (uploadedBytes: number, totalBytes: number) => void;
}

export interface WebGpuKernels extends Kernels {
  /** Where the adapter came from and what it is. */
  readonly adapter: string;
  readonly readback: (arrays: readonly Float32Array[]) => Promise<void>;
  readonly snapshot: (data: Float32Array, n: number) => Float32Array;
  /** Pushes a host-written array from allocF32 to the GPU (after the work recorded so far). */
  write(a: Float32Array): void;
}

const NAME = "webgpu";

/** The GPU buffer behind each weight matrix this backend prepared. */
const gpuWeights = new WeakMap<WeightMatrix, GpuBuffer>();

const read = (bound: Bound): Operand => ({ bound, write: false });
const written = (bound: Bound): Operand => ({ bound, write: true });

export async function createWebGpuKernels(opts: WebGpuOptions = {}): Promise<WebGpuKernels> {
  const info = await requestWebGpuDevice(opts.gpu);
  const rt = createRuntime(info.device, NAME);
  return buildKernels(rt, info.description, opts.onUpload);
}

/** The shape without its flash variant (exactOptionalPropertyTypes: the key must go, not be undefined). */
function standardShape(shape: AttentionShape): AttentionShape {
  const { flash: _, ...rest } = shape;
  return rest;
}

function buildKernels(rt: Runtime, adapter: string, onUpload: WebGpuOptions["onUpload"]): WebGpuKernels {
  let uploaded = 0, uploadTotal = 0;
  const uploadedData = new WeakMap<Uint8Array, GpuBuffer>();
  const gelu = geluF16Table();
  const dummy: Bound = { buffer: rt.createStorage(16, "a placeholder input"), offset: 0 };
  const dummyOut: Bound = { buffer: rt.createStorage(16, "a placeholder output"), offset: 0 };
  let roundScratch: { buffer: GpuBuffer; words: number } | undefined;
  const scratch = (words: number): Bound => {
    if (roundScratch === undefined || roundScratch.words < words) {
      if (roundScratch !== undefined) rt.retire(roundScratch.buffer); // recorded dispatches may still read it
      roundScratch = { buffer: rt.createStorage(words * 4, `rounded activations (${words} floats)`), words };
    }
    return { buffer: roundScratch.buffer, offset: 0 };
  };
  const run = (key: string, code: () => string, p: Uint32Array, ops: readonly Operand[], groups: number): void =>
    rt.dispatch(rt.pipeline(key, code), p, ops, groups);

  const weightBuffer = (w: WeightMatrix): GpuBuffer => {
    const b = gpuWeights.get(w);
    if (b === undefined) throw new PeelError("INVALID_ARGUMENT", `${NAME}: this weight matrix was not prepared by the webgpu backend (prepareWeight)`);
    return b;
  };
  const nb = (w: WeightMatrix): number => w.cols / DTYPES[w.dtype].blockElems;

  /** x as the weight type's dot products see it: the input itself (F32) or a rounded copy in scratch. */
  const rounded = (dtype: DType, x: Bound, n: number): Bound => {
    const mode = activationRoundingFor(dtype);
    if (mode === "none") return x;
    if (mode === "q8_1") throw new PeelError("UNSUPPORTED", `${NAME}: no Q8_1 activation path (Q4_1/Q5_1 weights)`);
    const out = scratch(n);
    const block = mode === "q8_0" ? 32 : mode === "q8_k" ? 256 : 1;
    run("round", roundActivationsShader, params([n, ROUND_MODES[mode], x.offset]), [read(x), written(out)], Math.ceil(n / block / 64));
    return out;
  };

  const matmulRounded = (out: Float32Array, w: WeightMatrix, xr: Bound, nTokens: number): void => {
    const o = rt.output(out);
    const rowGroups = Math.ceil(w.rows / MATMUL_ROWS);
    const groups = rowGroups * Math.ceil(nTokens / MATMUL_TOKENS);
    run(`matmul-${w.dtype}`, () => matmulShader(w.dtype), params([w.rows, w.cols, nTokens, xr.offset, o.offset, nb(w), rowGroups]),
      [read({ buffer: weightBuffer(w), offset: 0 }), read(xr), written(o)], groups);
  };

  const elementwise = (op: keyof typeof ELEMENTWISE_OPS, out: Float32Array, a: Float32Array, b: Float32Array | undefined, n: number,
    s = 0, s2 = 0, bMod = 0): void => {
    if (n === 0) return;
    const o = rt.output(out);
    const ab = rt.input(a);
    const inPlace = ab.buffer === o.buffer && ab.offset === o.offset;
    const bb = b === undefined ? { buffer: dummy.buffer, offset: 0 } : rt.input(b);
    const gt = rt.input(gelu);
    run("elementwise", elementwiseShader, params([n, ELEMENTWISE_OPS[op], ab.offset, bb.offset, o.offset, bMod, inPlace ? 1 : 0], [s, s2]),
      [read(inPlace ? gt : ab), read(bb), read(gt), written(o)], Math.ceil(n / 256));
  };

  const attentionRun = (out: Bound, probs: Bound | undefined, q: Float32Array, k: KvBuffer, v: KvBuffer, startPos: number, nTokens: number,
    shape: AttentionShape, variant: keyof typeof ATTENTION_VARIANTS): void => {
    const { nHeads, nKvHeads, headDim } = shape;
    const cap = shape.softcap ?? 0;
    const causal = shape.causal ?? true;
    const flash = variant !== "standard";
    const scale = flash && cap > 0 ? Math.fround(Math.fround(shape.scale) / Math.fround(cap)) : shape.scale;
    const bias = shape.positionBias;
    const qb = rt.input(q);
    const p = params([nTokens, nHeads, nHeads / nKvHeads, headDim, nKvHeads * headDim, startPos, shape.kvStart ?? 0, shape.window ?? 0,
      causal ? 1 : 0, shape.keys ?? startPos + nTokens, qb.offset, out.offset, k.dtype === "F16" ? 1 : 0, v.dtype === "F16" ? 1 : 0,
      ATTENTION_VARIANTS[variant], bias !== undefined ? 1 : 0, bias?.span ?? 0, probs !== undefined ? 1 : 0], [scale, cap, Math.fround(1 / cap)]);
    run("attention", attentionShader, p, [read(qb), read(rt.input(k.data)), read(rt.input(v.data)),
      read(bias !== undefined ? rt.input(bias.table) : dummy), written(out), written(probs ?? dummyOut)],
    nTokens * nHeads);
  };

  const trainingOnly = (what: string) => (): never => {
    throw new PeelError("UNSUPPORTED", `${NAME}: ${what} (a training kernel) is not implemented on WebGPU; train with the wasm or ts backend`);
  };

  const kernels: WebGpuKernels = {
    name: NAME,
    adapter,
    deferred: true,
    allocF32(n) {
      const a = new Float32Array(n);
      rt.register(a, rt.createStorage(n * 4, `an activation buffer of ${n} floats`));
      return a;
    },
    prepareWeight(dtype, rows, cols, data) {
      if (!GPU_WEIGHT_TYPES.includes(dtype)) {
        throw new PeelError("UNSUPPORTED", `${NAME}: no shader for ${dtype} weights; supported: ${GPU_WEIGHT_TYPES.join(", ")} (use the wasm backend, or --quantize to one of them)`);
      }
      // a tied head hands the embedding table's bytes over twice: one GPU copy serves both
      let buffer = uploadedData.get(data);
      if (buffer === undefined) {
        buffer = rt.createStorage(data.byteLength, `a ${dtype} weight matrix of (${rows}, ${cols})`);
        const padded = data.byteLength % 4 === 0 ? data : (() => {
          const c = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
          c.set(data);
          return c;
        })();
        rt.device.queue.writeBuffer(buffer, 0, padded);
        uploadedData.set(data, buffer);
        uploaded += data.byteLength;
        onUpload?.(uploaded, Math.max(uploaded, uploadTotal));
      }
      const w: WeightMatrix = { dtype, rows, cols, data };
      gpuWeights.set(w, buffer);
      return w;
    },
    reserveWeights(totalBytes) {
      uploadTotal = totalBytes;
      uploaded = 0;
    },
    allocKv(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer {
      if (dtype === "F16" && kvDim % 2 !== 0) throw new PeelError("UNSUPPORTED", `${NAME}: an F16 KV cache needs an even kvDim, got ${kvDim}; use kvType F32`);
      const data = dtype === "F16" ? new Uint16Array(seqLen * kvDim) : new Float32Array(seqLen * kvDim);
      rt.register(data, rt.createStorage(data.byteLength, `a KV cache layer of (${seqLen}, ${kvDim}) ${dtype}`));
      return { dtype, data, seqLen, kvDim };
    },
    matmul(out, w, x, nTokens) {
      requireGgufLayout(w, NAME);
      matmulRounded(out, w, rounded(w.dtype, rt.input(x), nTokens * w.cols), nTokens);
    },
    matmulShared(outs, ws, x, nTokens) {
      checkShared(NAME, outs, ws);
      const xb = rt.input(x);
      let last: { mode: string; xr: Bound } | undefined; // one rounding serves every matrix of the same activation type
      ws.forEach((w, i) => {
        const mode = activationRoundingFor(w.dtype);
        if (last?.mode !== mode) last = { mode, xr: rounded(w.dtype, xb, nTokens * w.cols) };
        requireGgufLayout(w, NAME);
        matmulRounded(outs[i] as Float32Array, w, last.xr, nTokens);
      });
    },
    matmulF32(out, w, x, rows, cols, nTokens, layout?: MatmulF32Layout) {
      const o = rt.output(out), wb = rt.input(w), xb = rt.input(x);
      run("matmulF32", matmulF32Shader, params([rows, cols, nTokens, layout?.wTransposed === true ? 1 : 0, layout?.xTransposed === true ? 1 : 0,
        wb.offset, xb.offset, o.offset]), [read(wb), read(xb), written(o)], Math.ceil(rows * nTokens / 64));
    },
    embedRows(out, table, ids, nTokens) {
      requireGgufLayout(table, NAME);
      const o = rt.output(out);
      const idArr = Int32Array.from({ length: nTokens }, (_, t) => ids[t] as number);
      const up = rt.upload(idArr);
      run(`embed-${table.dtype}`, () => embedShader(table.dtype), params([table.cols, nTokens, o.offset, nb(table), up.offset]),
        [read({ buffer: weightBuffer(table), offset: 0 }), read(up), written(o)], Math.ceil(nTokens * table.cols / 256));
    },
    rmsNorm(out, x, weight, eps, nTokens, dim) {
      const o = rt.output(out), xb = rt.input(x), wb = rt.input(weight);
      run("rmsNorm", rmsNormShader, params([dim, nTokens, xb.offset, o.offset, wb.offset], [eps]), [read(xb), read(wb), written(o)], nTokens);
    },
    layerNorm(out, x, weight, bias, eps, nTokens, dim) {
      const o = rt.output(out), xb = rt.input(x);
      run("layerNorm", layerNormShader, params([dim, nTokens, xb.offset, o.offset], [eps]), [read(xb), read(rt.input(weight)), read(rt.input(bias)), written(o)], nTokens);
    },
    rope(x, positions, nTokens, nHeads, headDim, spec: RopeSpec) {
      const half = spec.nRot / 2;
      const cs = new Float32Array(nTokens * half * 2); // cos and sin of the angles every backend shares (rope-angles.ts)
      const angles = new Float32Array(half); // f32 angles, as every backend rounds them
      for (let t = 0; t < nTokens; t++) {
        ropeAngles(angles, spec, positions[t] as number);
        for (let i = 0; i < half; i++) {
          cs[(t * half + i) * 2] = Math.cos(angles[i] as number);
          cs[(t * half + i) * 2 + 1] = Math.sin(angles[i] as number);
        }
      }
      const xb = rt.output(x), up = rt.upload(cs);
      run("rope", ropeShader, params([nTokens, nHeads, headDim, half, spec.style === "neox" ? 1 : 0, xb.offset, up.offset]),
        [written(xb), read(up)], Math.ceil(nTokens * nHeads * half / 64));
    },
    storeKv(dst, src, row, nTokens) {
      const n = nTokens * dst.kvDim;
      const d = rt.input(dst.data), s = rt.input(src);
      run("storeKv", storeKvShader, params([n, dst.dtype === "F16" ? 1 : 0, s.offset, row * dst.kvDim]), [read(s), written(d)], Math.ceil(n / 256));
    },
    attention(out, q, k, v, startPos, nTokens, shape, _scratch, probs) {
      if (shape.keyRanges !== undefined) {
        throw new PeelError("UNSUPPORTED", `${NAME}: attention over packed sequences (keyRanges: batched embeddings) is not implemented; embed with the wasm backend`);
      }
      const variant = shape.flash ?? "standard";
      const o = rt.output(out);
      if (variant === "standard") { attentionRun(o, probs === undefined ? undefined : rt.output(probs), q, k, v, startPos, nTokens, shape, variant); return; }
      attentionRun(o, undefined, q, k, v, startPos, nTokens, shape, variant);
      if (probs !== undefined) { // the tap shows the standard weights, as in the ts backend
        const tmp = rt.createStorage(out.byteLength, "attention output for the probs tap");
        rt.retire(tmp);
        attentionRun({ buffer: tmp, offset: 0 }, rt.output(probs), q, k, v, startPos, nTokens, standardShape(shape), "standard");
      }
    },
    copyKvRows(buf, from, to, rows) {
      if (rows <= 0) return;
      // WebGPU copies never overlap source and destination in one buffer: go through a scratch buffer
      const words = rows * buf.kvDim / (buf.dtype === "F16" ? 2 : 1);
      const b = rt.input(buf.data);
      const rowWords = buf.kvDim / (buf.dtype === "F16" ? 2 : 1);
      const tmp = rt.createStorage(words * 4, `a move of ${rows} KV cache rows`);
      rt.copy({ buffer: b.buffer, offset: from * rowWords }, { buffer: tmp, offset: 0 }, words);
      rt.copy({ buffer: tmp, offset: 0 }, { buffer: b.buffer, offset: to * rowWords }, words);
      rt.retire(tmp);
    },
    relu: (out, x, n) => elementwise("relu", out, x, undefined, n),
    swiglu: (out, gate, up, n) => elementwise("swiglu", out, gate, up, n),
    geglu: (out, gate, up, n) => elementwise("geglu", out, gate, up, n),
    scale: (x, s, n) => elementwise("scale", x, x, undefined, n, Math.fround(s)),
    softcap: (x, cap, n) => elementwise("softcap", x, x, undefined, n, Math.fround(1 / cap), Math.fround(cap)),
    geluRounded: (out, x, n) => elementwise("geluRounded", out, x, undefined, n),
    gelu: (out, x, n) => elementwise("gelu", out, x, undefined, n),
    addInPlace: (acc, x, n) => elementwise("add", acc, acc, x, n),
    addBias: (x, bias, nTokens, dim) => elementwise("add", x, x, bias, nTokens * dim, 0, 0, dim),
    softmax(x, n) {
      const xb = rt.output(x);
      run("softmax", softmaxShader, params([n, xb.offset]), [written(xb)], 1);
    },
    geluBackward: trainingOnly("geluBackward"),
    swigluBackward: trainingOnly("swigluBackward"),
    readback: (arrays) => rt.readback(arrays),
    snapshot: (data, n) => rt.snapshot(data, n),
    write: (a) => rt.write(a),
    async dispose() { rt.destroy(); },
  };
  return kernels;
}
