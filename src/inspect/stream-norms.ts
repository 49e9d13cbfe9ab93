/**
 * Euclidean norms per position of the residual stream (embeddings and after each layer) and of what each
 * sub-block adds to it (attn_out, ffn_out): how big the stream is and which sub-blocks write loudly where.
 * Reads a ForwardTrace; a norm is undefined where its tap was not traced.
 */

import type { ForwardTrace } from "./trace-forward.js";

export interface LayerNorms {
  readonly layer: number;
  /** (nTokens) each; ‖·‖₂ of the row at each position. */
  readonly resid: Float32Array | undefined;
  readonly attnOut: Float32Array | undefined;
  readonly ffnOut: Float32Array | undefined;
}

export interface StreamNorms {
  /** (nTokens) the stream entering layer 0. */
  readonly embed: Float32Array | undefined;
  readonly layers: readonly LayerNorms[];
}

/** (nTokens) ‖row‖₂ of rows (nTokens, width), summed in float64. */
export function rowNorms(rows: Float32Array, nTokens: number): Float32Array {
  const width = rows.length / nTokens;
  const out = new Float32Array(nTokens);
  for (let t = 0; t < nTokens; t++) {
    let s = 0;
    for (let i = t * width; i < (t + 1) * width; i++) s += (rows[i] as number) * (rows[i] as number);
    out[t] = Math.sqrt(s);
  }
  return out;
}

export function streamNorms(trace: ForwardTrace): StreamNorms {
  const n = trace.nTokens;
  const of = (rows: Float32Array | undefined) => (rows === undefined ? undefined : rowNorms(rows, n));
  return {
    embed: of(trace.embed),
    layers: trace.layers.map((l) => ({ layer: l.layer, resid: of(l.resid), attnOut: of(l.attnOut), ffnOut: of(l.ffnOut) })),
  };
}
