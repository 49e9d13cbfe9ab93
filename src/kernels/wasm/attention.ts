/**
 * The wasm backend's attention wrapper: stages q, finds the cache rows in wasm memory and runs the module's
 * attention kernel (causal or bidirectional, packed sequences, T5's position bias), split across the pool by
 * runs of heads when the call is big enough. The probability tap goes through the TS reference, which forms
 * the standard path's weights; so do flash calls whose head size the one-row kernel cannot take.
 */

import type { Kernels } from "../kernels.js";
import { attention as referenceAttention } from "../ts/attention.js";
import { OP } from "./pool-protocol.js";
import { MIN_PARALLEL_MACS, type Staging } from "./staging.js";

export function createAttentionKernel(st: Staging): Kernels["attention"] {
  const { ex, scratch, threads, input, output, kvPtr } = st;
  return (out, q, k, v, startPos, nTokens, shape, scratchRow, probs) => {
    const { nHeads, nKvHeads, headDim, scale } = shape;
    const cap = shape.softcap ?? 0, window = shape.window ?? 0, kvStart = shape.kvStart ?? 0;
    const flash = shape.flash === "vec" ? 1 : shape.flash === "tiled" ? 2 : 0;
    const causal = shape.causal === false ? 0 : 1;
    const bias = shape.positionBias;
    // the kernel's f16 sum takes eight lanes at a time; llama.cpp has no flash kernel with a score bias
    if ((flash === 1 && headDim % 8 !== 0) || (bias !== undefined && flash !== 0)) {
      referenceAttention(out, q, k, v, startPos, nTokens, shape, scratchRow, probs);
      return;
    }
    // cross-attention (shape.keys): the bidirectional kernel sees rows 0..start + nTokens − 1 and reads
    // startPos for nothing else, so a start of keys − nTokens (negative when the queries outnumber the keys)
    // makes every query see exactly the keys
    const start = causal === 0 && shape.keys !== undefined ? shape.keys - nTokens : startPos;
    const n = nTokens * nHeads * headDim;
    const qp = input(q, n, "in-q");
    const ranges = causal === 0 && shape.keyRanges !== undefined ? st.inputI32(shape.keyRanges, 2 * nTokens, "in-ranges") : 0;
    const bp = bias === undefined ? 0 : input(bias.table, nHeads * (2 * bias.span + 1), "in-bias");
    const span = bias?.span ?? 0;
    const flags = (k.dtype === "F16" ? 1 : 0) | (v.dtype === "F16" ? 2 : 0);
    // the kernel finds position p at row p of the address it is given: with a cache that starts at position
    // kvStart, that is kvStart rows before the buffer (wrapping as u32); only rows ≥ kvStart are ever read
    const kp = kvPtr(k) - kvStart * k.kvDim * (k.dtype === "F16" ? 2 : 4);
    const vp = kvPtr(v) - kvStart * v.kvDim * (v.dtype === "F16" ? 2 : 4);
    // cost in multiply-add equivalents: q·k and p·v per cached position, plus ~64 for the exp and bookkeeping
    // (which dominate for small heads: 260K-class models have headDim 8)
    const work = nTokens * (window > 0 && causal === 1 ? Math.min(window, start + nTokens) : start + nTokens) * nHeads * (2 * headDim + 64);
    const pool = st.pool();
    const serial = pool === undefined || nHeads < 2 || work < MIN_PARALLEL_MACS;
    // each thread takes one run of heads: the kernel walks the cache rows once for all the heads it is given
    const heads = serial ? nHeads : Math.ceil(nHeads / threads);
    const stride = Math.ceil((ex.attentionScratchFloats(headDim, start + nTokens, heads) * 4 + 16) / 64) * 64;
    const sp = scratch.get("attention", stride * (serial ? 1 : threads));
    const split = serial ? undefined : pool;
    output(out, n, "out", false, (op) => {
      if (split === undefined) {
        ex.attention(op, qp, kp, vp, flags, start, nTokens, nHeads, nKvHeads, headDim, scale, sp, 0, nHeads, cap, window, flash, causal, ranges, bp, span);
        return;
      }
      split.run(OP.attention, nHeads, heads, (a) => {
        a[0] = op; a[1] = qp; a[2] = kp; a[3] = vp; a[4] = flags; a[5] = start; a[6] = nTokens;
        a[7] = nHeads; a[8] = nKvHeads; a[9] = headDim; a[10] = scale; a[11] = sp; a[12] = stride; a[13] = cap; a[14] = window; a[15] = flash; a[16] = causal;
        a[17] = ranges; a[18] = bp; a[19] = span;
      });
    });
    if (probs) { // the tap's slow path: the standard weights, which flash attention never forms
      const { flash: _, ...standard } = shape;
      referenceAttention(new Float32Array(n), q, k, v, startPos, nTokens, standard, scratchRow, probs);
    }
  };
}
