/**
 * WGSL for the KV cache and attention. The cache lives on the GPU as u32 words: f32 values, or f16 halves
 * packed two to a word (kvDim must be even). storeKv converts and writes rows. Attention is one workgroup
 * of 64 threads per (query token, head), each thread owning up to 4 of the head's output dimensions:
 *  - standard (variant 0): pass 1 finds the maximum and the sum of e^(s − max) over the visible keys, pass 2
 *    recomputes each chunk of 64 scores, normalizes them (rounded to f16 against an f16 cache, as llama.cpp's
 *    non-flash graph does) and accumulates the values; it can also write the probs tap;
 *  - flash "vec" (1) and "tiled" (2), the numerics of ts/attention-flash.ts: tiles of 64 keys aligned to
 *    position 0; "vec" walks the tile key by key with the value sum rounded to f16 after every key (f16
 *    values), "tiled" updates the maximum once per tile and keeps f32 sums.
 * Scores are recomputed rather than stored, so no (nTokens, nHeads, keys) buffer is needed. Not done: split-KV
 * for long contexts (one workgroup walks all keys of its row), and subgroup operations.
 */

import { shader } from "./wgsl.js";

export function storeKvShader(): string {
  return shader({
    ints: ["n", "f16", "srcOff", "dstOff"],
    bindings: [{ name: "S", type: "f32" }, { name: "D", type: "u32", write: true }],
    wg: 256,
    body: `
  let i = g * 256u + lid;
  if (P.f16 == 0u) { if (i < P.n) { D[P.dstOff + i] = bitcast<u32>(S[P.srcOff + i]); } return; }
  if (2u * i >= P.n) { return; }
  D[P.dstOff / 2u + i] = f2h(S[P.srcOff + 2u * i]) | (f2h(S[P.srcOff + 2u * i + 1u]) << 16u);`,
  });
}

export const ATTENTION_VARIANTS = { standard: 0, vec: 1, tiled: 2 } as const;

export function attentionShader(): string {
  return shader({
    ints: ["nTokens", "nHeads", "group", "headDim", "kvDim", "startPos", "kvStart", "window", "causal", "keys", "qOff", "oOff",
      "kF16", "vF16", "variant", "hasBias", "span", "hasProbs"],
    floats: ["scale", "cap", "invCap"],
    bindings: [{ name: "Q", type: "f32" }, { name: "K", type: "u32" }, { name: "V", type: "u32" }, { name: "BIAS", type: "f32" },
      { name: "O", type: "f32", write: true }, { name: "PR", type: "f32", write: true }],
    wg: 64,
    decls: `
var<workgroup> sc: array<f32, 64>;
var<workgroup> red: array<f32, 64>;
fn kvAt(f16: u32, isK: bool, e: u32) -> f32 {
  var w: u32;
  if (isK) { w = K[select(e, e >> 1u, f16 == 1u)]; } else { w = V[select(e, e >> 1u, f16 == 1u)]; }
  if (f16 == 1u) { return h2f((w >> ((e & 1u) * 16u)) & 0xffffu); }
  return bitcast<f32>(w);
}
fn score(qBase: u32, kvOff: u32, j: u32, h: u32, pos: u32, roundQ: bool) -> f32 {
  let kb = (j - P.kvStart) * P.kvDim + kvOff;
  var dot = 0.0;
  for (var d = 0u; d < P.headDim; d++) {
    let q = Q[qBase + d];
    dot += select(q, rf16(q), roundQ) * kvAt(P.kF16, true, kb + d);
  }
  if (P.variant != 0u) { // flash: s · (scale / cap), then cap · tanh
    let s = dot * P.scale;
    return select(s, P.cap * tanhs(s), P.cap > 0.0);
  }
  var raw = dot;
  if (P.cap > 0.0) { raw = tanhs(raw * P.invCap) * P.cap; }
  if (P.hasBias == 1u) {
    let rel = clamp(i32(j) - i32(pos), -i32(P.span), i32(P.span));
    raw += BIAS[h * (2u * P.span + 1u) + u32(rel + i32(P.span))];
  }
  return raw * P.scale;
}
fn reduce(v: f32, lid: u32, isMax: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = select(red[lid] + red[lid + s], max(red[lid], red[lid + s]), isMax); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`,
    body: `
  let t = g / P.nHeads; let h = g % P.nHeads;
  if (t >= P.nTokens) { return; }
  let pos = P.startPos + t;
  // flash kernels ignore \`keys\` (as ts/attention-flash.ts does): bidirectional rows see startPos + nTokens keys
  let total = select(select(P.keys, P.startPos + P.nTokens, P.variant != 0u), P.startPos + P.nTokens, P.causal == 1u);
  let nCtx = select(total, pos + 1u, P.causal == 1u);
  var j0 = 0u;
  if (P.window > 0u && P.causal == 1u && nCtx > P.window) { j0 = nCtx - P.window; }
  let kvOff = (h / P.group) * P.headDim;
  let qBase = P.qOff + (t * P.nHeads + h) * P.headDim;
  let roundQ = P.variant != 2u && P.kF16 == 1u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  var sum = 0.0;
  if (P.variant == 0u) {
    var lm = -3.402823e38;
    for (var c = j0; c < nCtx; c += 64u) { let j = c + lid; if (j < nCtx) { lm = max(lm, score(qBase, kvOff, j, h, pos, roundQ)); } }
    let mx = reduce(lm, lid, true);
    var ls = 0.0;
    for (var c = j0; c < nCtx; c += 64u) { let j = c + lid; if (j < nCtx) { ls += expg(score(qBase, kvOff, j, h, pos, roundQ) - mx); } }
    let inv = 1.0 / reduce(ls, lid, false);
    let pRow = (t * P.nHeads + h) * total;
    for (var c = j0; c < nCtx; c += 64u) {
      let j = c + lid;
      var p = 0.0;
      if (j < nCtx) {
        p = expg(score(qBase, kvOff, j, h, pos, roundQ) - mx) * inv;
        if (P.hasProbs == 1u) { PR[pRow + j] = p; }
      }
      sc[lid] = select(p, rf16(p), P.vF16 == 1u);
      workgroupBarrier();
      let cnt = min(64u, nCtx - c);
      for (var u = 0u; u < cnt; u++) {
        let vb = (c + u - P.kvStart) * P.kvDim + kvOff;
        for (var k = 0u; k < 4u; k++) { let d = lid + 64u * k; if (d < P.headDim) { acc[k] += sc[u] * kvAt(P.vF16, false, vb + d); } }
      }
      workgroupBarrier();
    }
    if (P.hasProbs == 1u) { for (var j = lid; j < total; j += 64u) { if (j < j0 || j >= nCtx) { PR[pRow + j] = 0.0; } } }
    sum = 1.0;
  } else {
    var m = 0.0; var started = false;
    for (var c = j0 - j0 % 64u; c < nCtx; c += 64u) {
      let a = max(c, j0); let b = min(c + 64u, nCtx); let j = c + lid;
      var s = -3.402823e38;
      if (j >= a && j < b) { s = score(qBase, kvOff, j, h, pos, roundQ); }
      sc[lid] = s;
      workgroupBarrier();
      if (P.variant == 1u) {
        for (var jj = a; jj < b; jj++) {
          let sj = sc[jj - c];
          var ms = 1.0; var vs = 1.0;
          if (!started || sj > m) {
            ms = select(0.0, expg(m - sj), started); m = sj; started = true;
            for (var k = 0u; k < 4u; k++) { acc[k] = select(acc[k] * ms, rf16(acc[k] * ms), P.vF16 == 1u); }
          } else { vs = expg(sj - m); }
          let vb = (jj - P.kvStart) * P.kvDim + kvOff;
          for (var k = 0u; k < 4u; k++) {
            let d = lid + 64u * k;
            if (d < P.headDim) { let x = acc[k] + kvAt(P.vF16, false, vb + d) * vs; acc[k] = select(x, rf16(x), P.vF16 == 1u); }
          }
          sum = sum * ms + vs;
        }
      } else {
        var tm = -3.402823e38;
        for (var jj = a; jj < b; jj++) { tm = max(tm, sc[jj - c]); }
        if (!started || tm > m) {
          let ms = select(0.0, expg(m - tm), started);
          for (var k = 0u; k < 4u; k++) { acc[k] *= ms; }
          sum *= ms; m = tm; started = true;
        }
        var ts = 0.0;
        for (var jj = a; jj < b; jj++) {
          let p = expg(sc[jj - c] - m);
          ts += p;
          let vb = (jj - P.kvStart) * P.kvDim + kvOff;
          for (var k = 0u; k < 4u; k++) { let d = lid + 64u * k; if (d < P.headDim) { acc[k] += p * kvAt(P.vF16, false, vb + d); } }
        }
        sum += ts;
      }
      workgroupBarrier();
    }
  }
  let inv = select(0.0, 1.0 / sum, sum != 0.0);
  for (var k = 0u; k < 4u; k++) { let d = lid + 64u * k; if (d < P.headDim) { O[P.oOff + (t * P.nHeads + h) * P.headDim + d] = acc[k] * inv; } }`,
  });
}
