/**
 * A traced pass through an encoder–decoder (T5): the encoder over the input (bidirectional self-attention),
 * then the decoder over its start token and the output tokens, forced (each position reads the true previous
 * tokens, as in training and as the decoder's cache holds them while generating): causal self-attention and
 * cross-attention over the encoded input, (decoder positions × input positions). With no output given, the
 * output is the model's own greedy answer (up to `maxOutput` tokens, until end of generation), found first in an
 * untraced session. Same records and tap names as traceForward, one ForwardTrace per stack.
 */

import { createSession, decoderStartId } from "../generate/session.js";
import type { Model } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { checkPrompt } from "./check.js";
import { topTokens } from "./distribution.js";
import { createTraceCollector } from "./trace-collector.js";
import { checkTraceOptions, DEFAULT_TRACE_TAPS, type ForwardTrace, type TraceForwardOptions } from "./trace-forward.js";

export interface Seq2seqTraceOptions extends Omit<TraceForwardOptions, "intervention" | "batchSize"> {
  /** The output tokens to force through the decoder (after its start token); default: the greedy answer. */
  readonly output?: readonly number[];
  /** Most tokens of the greedy answer when no output is given (default 16). */
  readonly maxOutput?: number;
}

export interface Seq2seqTrace {
  /** The encoder over the input; its maps are bidirectional; no logits. */
  readonly encoder: ForwardTrace;
  /** The decoder over [start, ...output]: causal self-attention maps, cross-attention maps, logits. */
  readonly decoder: ForwardTrace;
  /** The output tokens (forced or greedy), without the start token. */
  readonly output: readonly number[];
}

export function traceSeq2seq(model: Model, input: readonly number[], opts: Seq2seqTraceOptions = {}): Seq2seqTrace {
  const c = model.config;
  const encoderStack = model.transformer.encoderStack;
  if (c.seq2seq === undefined || encoderStack === undefined) {
    throw new PeelError("UNSUPPORTED", `traceSeq2seq: "${c.architecture}" is not an encoder–decoder; use traceForward`);
  }
  checkPrompt(c, input, "input");
  const taps = opts.taps ?? DEFAULT_TRACE_TAPS;
  const limits = checkTraceOptions(taps, opts);
  const sessionOpts = { flashAttention: opts.flashAttention ?? "off", kvType: opts.kvType ?? "F16" } as const;
  const start = decoderStartId(model);
  const output = opts.output !== undefined ? [...opts.output] : greedyAnswer(model, input, start, opts.maxOutput ?? 16, sessionOpts);
  const decoderIds = [start, ...output];
  checkPrompt(c, decoderIds, "decoder input");

  const enc = createTraceCollector(encoderStack.config, input.length, taps, limits, { causal: false });
  const dec = createTraceCollector(c, decoderIds.length, taps, limits, { causal: true, crossKeys: input.length });
  // a session's context bounds both the encoded input and the decoder's positions
  const session = createSession(model, { ...sessionOpts, contextLength: Math.max(input.length, decoderIds.length), batchSize: decoderIds.length });
  session.encode(input, { trace: enc.trace });
  const all = opts.allLogits === true;
  const out = session.evaluate(decoderIds, { trace: dec.trace, allLogits: all });
  const n = decoderIds.length;
  const e = enc.finish(), d = dec.finish();
  return {
    encoder: { stack: "encoder", ids: [...input], nTokens: input.length, taps: [...taps], embed: e.embed, layers: e.layers, logits: new Float32Array(0), allLogits: undefined },
    decoder: {
      stack: "decoder", ids: decoderIds, nTokens: n, taps: [...taps], embed: d.embed, layers: d.layers,
      logits: all ? out.slice((n - 1) * c.vocabSize) : out.slice(0, c.vocabSize), allLogits: all ? out : undefined,
    },
    output,
  };
}

/** The model's greedy answer to `input`: up to `max` tokens, stopping after an end-of-generation token. */
function greedyAnswer(model: Model, input: readonly number[], start: number, max: number,
  opts: { readonly flashAttention: "on" | "off"; readonly kvType: "F16" | "F32" }): number[] {
  if (!(Number.isInteger(max) && max >= 0)) throw new PeelError("INVALID_ARGUMENT", `traceSeq2seq: maxOutput must be an integer ≥ 0, got ${max}`);
  const limit = Math.min(max, model.config.contextLength - 1); // the decoder's positions: start + all but the last output
  const session = createSession(model, { ...opts, contextLength: Math.max(input.length, limit + 1) });
  session.encode(input);
  const out: number[] = [];
  let next = start;
  while (out.length < limit) {
    const id = topTokens(session.evaluate([next]), 1)[0]!.id;
    out.push(id);
    if (model.tokenizer.isEndOfGeneration(id)) break;
    next = id;
  }
  return out;
}
