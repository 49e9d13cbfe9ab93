/**
 * A session: one conversation's KV cache and run state over a loaded model, and the tokens already in it.
 * `evaluate` appends tokens (splitting long inputs into batch-sized chunks: batched prefill) and returns
 * the logits of the last one, or of every one for scoring. Reusing a session continues the same context;
 * `rewind` drops tokens from the end (a server slot keeps the prefix a new prompt shares with the last one),
 * and the cache is never reallocated, so one session can serve any number of requests. An encoder–decoder's
 * session also holds its encoded input (`encode`): the decoder's tokens are then the session's tokens.
 * `evaluateAsync` is the same for every backend, including one that computes asynchronously (webgpu,
 * Kernels.deferred): it awaits the backend's readback of the logits and of a trace's taps after each chunk.
 */

import { FLASH_TILE_QUERIES, type FlashVariant, type KvDType } from "../kernels/kernels.js";
import type { Model } from "../model/model.js";
import { forward } from "../model/forward.js";
import { applyNorm } from "../model/norm.js";
import { createKvCache, type KvCache } from "../model/kv-cache.js";
import { createRunState, type RunState } from "../model/run-state.js";
import { createEncoderState, encodeInput } from "../model/encode.js";
import type { Intervention } from "../model/intervention.js";
import type { TapName, Trace } from "../model/trace.js";
import { PeelError } from "../util/errors.js";

export interface SessionOptions {
  /** Context window of this session (default and maximum: the model's trained context length). */
  readonly contextLength?: number;
  /** KV cache storage: "F16" (default, as llama.cpp) or "F32". */
  readonly kvType?: KvDType;
  /** Tokens per forward call during prefill (default 64). */
  readonly batchSize?: number;
  /**
   * Flash attention: "on" (default, as llama.cpp's default on CPU) reproduces llama.cpp's flash kernels'
   * rounding, "off" its standard attention graph. Both give the same result up to rounding (see
   * kernels.ts FlashVariant); pick the one the engine you compare against runs.
   */
  readonly flashAttention?: FlashAttention;
}

export type FlashAttention = "on" | "off";

/** Tokens in one llama.cpp micro-batch (n_ubatch's default): a longer input runs as several. */
export const LLAMA_UBATCH = 512;

export interface Session {
  readonly model: Model;
  readonly contextLength: number;
  /** Most tokens one forward call processes; longer inputs are split into chunks of this size. */
  readonly batchSize: number;
  /** Tokens evaluated so far, in order. */
  readonly tokens: readonly number[];
  readonly flashAttention: FlashAttention;
  /**
   * Appends tokens to the context and returns logits: (vocabSize) for the last token as a view that the
   * next call overwrites, or with allLogits a new (tokens.length, vocabSize) array.
   */
  evaluate(tokens: readonly number[], opts?: EvaluateOptions): Float32Array;
  /**
   * `evaluate` for every backend, asynchronous kernels included (webgpu): awaits the backend's readback of the
   * logits (Kernels.readback); on the CPU backends it is evaluate. A trace gets its taps after each chunk is
   * read back; onHidden and interventions need a CPU backend.
   */
  evaluateAsync(tokens: readonly number[], opts?: EvaluateOptions): Promise<Float32Array>;
  /** Forgets every token (the cache is reused, not reallocated). */
  reset(): void;
  /**
   * Whether `rewind(n)` can keep the first n tokens: always on full-attention layers; a sliding-window layer
   * must still hold the window before position n (rows that fell out of it are gone).
   */
  canRewind(n: number): boolean;
  /** Keeps the first n tokens and forgets the rest (their cache rows are overwritten later); INVALID_ARGUMENT when canRewind(n) is false. */
  rewind(n: number): void;
  /**
   * Encoder–decoder models (T5): runs `input` through the encoder and keeps its cross-attention keys and
   * values with the session; the decoder starts over (no tokens), to be fed `decoderStartId(model)` first.
   * UNSUPPORTED for other models.
   */
  encode(input: readonly number[], opts?: { readonly trace?: Trace }): void;
  /** The input last encoded (encoder–decoder models); empty before the first encode. */
  readonly encoded: readonly number[];
}

/** The first decoder token of an encoder–decoder: the file's decoder start token, else BOS (llama.cpp's fallback). */
export function decoderStartId(model: Model): number {
  const id = model.config.seq2seq?.decoderStartId ?? model.tokenizer.bosId;
  if (id === undefined) throw new PeelError("CONFIG", `model: "${model.config.architecture}" names no decoder start token and its tokenizer no BOS to start the decoder with`);
  return id;
}

export interface EvaluateOptions {
  readonly allLogits?: boolean;
  readonly trace?: Trace;
  /** Edits to the forward pass (model/intervention.ts), for the inspector's ablations and patching. */
  readonly intervention?: Intervention;
  /**
   * Size of the llama.cpp micro-batch these tokens belong to, when a caller feeds one prompt in several calls
   * (generate does, to stay abortable). Default: the input is its own batch, split into micro-batches of
   * LLAMA_UBATCH. With flash attention on it picks llama.cpp's kernel: tiled for ≥ 64 queries, vec below.
   */
  readonly microBatch?: number;
  /**
   * Receives the last layer's hidden states after the model's final norm, (nTokens, dim) per forward chunk
   * with the position of its first token (a view, valid during the call), as llama.cpp's embeddings read
   * them. No logits are computed then (evaluate returns an empty array).
   */
  readonly onHidden?: (hidden: Float32Array, nTokens: number, startPos: number) => void;
}

/** The flash kernel llama.cpp runs for a micro-batch of n queries, or undefined with flash attention off. */
export function flashVariant(mode: FlashAttention, n: number): FlashVariant | undefined {
  return mode === "off" ? undefined : n >= FLASH_TILE_QUERIES ? "tiled" : "vec";
}

export function createSession(model: Model, opts: SessionOptions = {}): Session {
  const c = model.config;
  const contextLength = opts.contextLength ?? c.contextLength;
  if (!Number.isInteger(contextLength) || contextLength < 1 || contextLength > c.contextLength) {
    throw new PeelError("INVALID_ARGUMENT", `session: contextLength must be an integer in 1..${c.contextLength} (the model's context), got ${contextLength}`);
  }
  const batch = opts.batchSize ?? 64;
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096) {
    throw new PeelError("INVALID_ARGUMENT", `session: batchSize must be an integer in 1..4096, got ${batch}`);
  }
  const flashAttention = opts.flashAttention ?? "on";
  if (flashAttention !== "on" && flashAttention !== "off") {
    throw new PeelError("INVALID_ARGUMENT", `session: flashAttention must be "on" or "off", got ${JSON.stringify(flashAttention)}`);
  }
  const k = model.transformer.kernels;
  const cache: KvCache = createKvCache(k, c, contextLength, opts.kvType ?? "F16", batch);
  const state: RunState = createRunState(k, c, batch, contextLength);
  const tokens: number[] = [];
  const encoded: number[] = [];
  const encoder = model.transformer.encoderStack !== undefined ? createEncoderState(model.transformer, contextLength) : undefined;

  /** A trace whose taps are the backend's snapshots, handed to the caller's trace once read back, in order. */
  const deferredTrace = (trace: Trace): { trace: Trace; deliver: () => void } => {
    const queued: [TapName, number, number, readonly number[], Float32Array][] = [];
    const snapshot = k.snapshot;
    return {
      trace: {
        wants: (name) => trace.wants(name),
        record(name, layer, startPos, shape, data) {
          const n = shape.reduce((a, b) => a * b, 1);
          queued.push([name, layer, startPos, shape, snapshot !== undefined ? snapshot(data, n) : data.slice(0, n)]);
        },
      },
      deliver: () => { for (const q of queued.splice(0)) trace.record(...q); },
    };
  };

  interface Chunk { readonly tokens: readonly number[]; readonly start: number; readonly isLast: boolean }

  /** Checks an evaluate call and splits its input into batch-sized chunks; `out` for allLogits. */
  const startEvaluate = (input: readonly number[], evalOpts: EvaluateOptions): { chunks: Chunk[]; out: Float32Array | undefined } => {
    if (input.length === 0) throw new PeelError("INVALID_ARGUMENT", "session: evaluate needs at least one token");
    if (encoder !== undefined && encoded.length === 0) {
      throw new PeelError("INVALID_ARGUMENT", `session: "${c.architecture}" is an encoder–decoder model: encode() an input before evaluating decoder tokens`);
    }
    // check every id before the first chunk runs, so a bad id late in a long input leaves the session unchanged
    checkTokenIds(input, c.vocabSize);
    if (tokens.length + input.length > contextLength) {
      throw new PeelError("CONTEXT_OVERFLOW",
        `the context holds ${contextLength} tokens; ${tokens.length} are used and ${input.length} more were given (${tokens.length + input.length} > ${contextLength}). Shorten the prompt or lower the token budget.`);
    }
    if (evalOpts.onHidden !== undefined && model.transformer.weights.outputNorm === undefined) {
      throw new PeelError("UNSUPPORTED", `session: "${c.architecture}" has no final norm to read hidden states after`);
    }
    const all = evalOpts.allLogits === true && evalOpts.onHidden === undefined;
    const chunks: Chunk[] = [];
    for (let start = 0; start < input.length; start += batch) {
      chunks.push({ tokens: input.length <= batch ? input : input.slice(start, start + batch), start, isLast: start + batch >= input.length });
    }
    return { chunks, out: all ? new Float32Array(input.length * c.vocabSize) : undefined };
  };

  /** Runs one chunk through the model and appends its tokens; returns its logits view (empty when none are asked for). */
  const evaluateChunk = (input: readonly number[], chunk: Chunk, evalOpts: EvaluateOptions, all: boolean): Float32Array => {
    const onHidden = evalOpts.onHidden;
    const outputNorm = model.transformer.weights.outputNorm;
    const { tokens: part, start, isLast } = chunk;
    // the llama.cpp micro-batch of this chunk's first token (whole when batch divides LLAMA_UBATCH, as 64 does)
    const ubatch = evalOpts.microBatch ?? Math.min(LLAMA_UBATCH, input.length - start + (start % LLAMA_UBATCH));
    let logits = forward(model.transformer, state, cache, part, tokens.length,
      { logits: onHidden !== undefined ? "none" : all ? "all" : isLast ? "last" : "none", trace: evalOpts.trace, intervention: evalOpts.intervention, flash: flashVariant(flashAttention, ubatch) });
    if (onHidden !== undefined && outputNorm !== undefined) {
      const rows = part.length * c.dim;
      applyNorm(model.transformer, state.xb.subarray(0, rows), state.x.subarray(0, rows), outputNorm, part.length, c.dim);
      onHidden(state.xb.subarray(0, rows), part.length, tokens.length);
      logits = state.logits.subarray(0, 0);
    }
    for (const id of part) tokens.push(id);
    return logits;
  };

  const evaluate = (input: readonly number[], evalOpts: EvaluateOptions = {}): Float32Array => {
    if (k.deferred === true) {
      throw new PeelError("UNSUPPORTED", `session: the ${k.name} backend computes asynchronously; use evaluateAsync (generate does) to read its logits`);
    }
    const { chunks, out } = startEvaluate(input, evalOpts);
    let last = state.logits;
    for (const chunk of chunks) {
      const logits = evaluateChunk(input, chunk, evalOpts, out !== undefined);
      if (out !== undefined) out.set(logits, chunk.start * c.vocabSize);
      else last = logits;
    }
    return out ?? last;
  };

  return {
    model,
    contextLength,
    batchSize: batch,
    flashAttention,
    tokens,
    encoded,
    encode(input, encOpts = {}) {
      if (encoder === undefined) throw new PeelError("UNSUPPORTED", `session: "${c.architecture}" is not an encoder–decoder model; encode() is for T5-style models (evaluate() feeds a decoder)`);
      checkTokenIds(input, c.vocabSize);
      encoded.length = 0;
      tokens.length = 0;
      encodeInput(model.transformer, encoder, cache, input, encOpts.trace);
      for (const id of input) encoded.push(id);
    },
    evaluate,
    async evaluateAsync(input, evalOpts = {}) {
      if (k.readback === undefined) return evaluate(input, evalOpts);
      if (evalOpts.onHidden !== undefined || evalOpts.intervention !== undefined) {
        throw new PeelError("UNSUPPORTED", `session: hidden-state callbacks and interventions read or write activations on the CPU mid-pass; the ${k.name} backend keeps them on the GPU (use the wasm backend for them)`);
      }
      const taps = evalOpts.trace !== undefined ? deferredTrace(evalOpts.trace) : undefined;
      const opts = taps !== undefined ? { ...evalOpts, trace: taps.trace } : evalOpts;
      const { chunks, out } = startEvaluate(input, opts);
      let last = state.logits;
      for (const chunk of chunks) {
        const logits = evaluateChunk(input, chunk, opts, out !== undefined);
        // the only waits: for the logits the caller reads, and for the taps a trace asked for
        if (out !== undefined || chunk.isLast) await k.readback([logits]);
        else if (taps !== undefined) await k.readback([]);
        taps?.deliver();
        if (out !== undefined) out.set(logits, chunk.start * c.vocabSize);
        else last = logits;
      }
      return out ?? last;
    },
    reset() {
      tokens.length = 0;
    },
    canRewind(n) {
      if (!Number.isInteger(n) || n < 0 || n > tokens.length) return false;
      // a fresh sequence (position 0) starts every layer over; otherwise a sliding layer needs rows from n − window + 1
      return n === 0 || cache.layers.every((l) => l.window === 0 || Math.max(0, n - l.window + 1) >= l.start);
    },
    rewind(n) {
      if (!this.canRewind(n)) {
        throw new PeelError("INVALID_ARGUMENT", `session: cannot rewind to ${n} tokens (it holds ${tokens.length}${n <= tokens.length ? "; a sliding-window layer no longer holds the positions before it" : ""}); reset() and evaluate again`);
      }
      tokens.length = n;
    },
  };
}

/** Throws INVALID_ARGUMENT naming the first id that is not an integer in 0..vocabSize-1. */
export function checkTokenIds(ids: readonly number[], vocabSize: number): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new PeelError("INVALID_ARGUMENT", `token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
    }
  }
}
