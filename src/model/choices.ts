/**
 * A config's architecture choices in the seeds' words, as (choice, value) rows: what `peel info` prints and
 * the inspector shows. Derived from the config only, so every file format reads the same way.
 */

import type { ModelConfig } from "./config.js";
import { kvCacheBytes } from "./kv-cache.js";

const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 24 ? 2 : 0)} MiB`;

export function architectureChoices(c: ModelConfig): Array<[string, string]> {
  const heads = c.nKvHeads === c.nHeads ? `multi-head (${c.nHeads} heads)`
    : c.nKvHeads === 1 ? `multi-query (${c.nHeads} query heads, 1 kv head)`
      : `grouped-query (${c.nHeads} query heads, ${c.nKvHeads} kv heads)`;
  const windows = [...new Set(c.layerWindows)];
  const sliding = c.layerWindows.filter((w) => w > 0).length;
  const rope = c.rope;
  const biases = Object.entries(c.biases).filter(([, on]) => on).map(([k]) => k);
  const enc = c.encoder;
  const s2s = c.seq2seq;
  const placement = enc !== undefined ? ", after each residual add, and on the embeddings" : c.postNorms ? ", before and after each sub-block" : ", before each sub-block";
  return [
    ["kind", enc !== undefined ? `encoder (bidirectional attention; ${enc.pooling} pooling of the last layer's token vectors)`
      : s2s !== undefined ? `encoder–decoder (${s2s.encoderLayers}-block encoder reads the input bidirectionally; ${c.nLayers}-block decoder writes, ` +
        `attending to its earlier tokens and to the encoder's output; decoder start token ${s2s.decoderStartId ?? "BOS"})`
        : "decoder (causal attention, next-token head)"],
    ["norm", `${c.norm === "rms" ? "RMSNorm" : "LayerNorm"}${placement} (eps ${Number(c.normEps.toPrecision(7))})`],
    ["position", s2s !== undefined ? `relative-position bias per head (${s2s.relBuckets} buckets, bidirectional in the encoder, causal in the decoder, ` +
      `max distance ${s2s.relMaxDistance}); no position embeddings`
      : rope === undefined ? c.position
      : `rotary, ${rope.style === "neox" ? "NeoX halves" : "adjacent pairs"}, ${rope.nRot} of ${c.headDim} dims, base ${rope.theta}` +
        `${rope.localTheta !== undefined && rope.localTheta !== rope.theta ? ` (${rope.localTheta} on sliding layers)` : ""}` +
        `${rope.scaling.type !== "none" ? `, ${rope.scaling.type} scaling x${rope.scaling.factor}` : ""}`],
    ["feed-forward", `${{ swiglu: "SwiGLU", geglu: "GeGLU (tanh GELU)", gelu: "GELU", relu: "ReLU" }[c.activation]}${c.layout.fusedGateUp ? ", fused gate/up" : ""}`],
    ["attention", `${heads}, head size ${c.headDim}${c.layout.fusedQkv ? ", fused q/k/v" : ""}${c.qkNorm ? ", per-head q/k norms" : ""}` +
      `, scale ${c.attnScale.toPrecision(6)} on ${c.attnScaleAt === "query" ? "q" : "scores"}${c.attnSoftcap !== undefined ? `, scores soft-capped at ${c.attnSoftcap}` : ""}`],
    ["window", sliding === 0 ? "none (every layer sees the whole context)"
      : `${windows.filter((w) => w > 0).join("/")} tokens on ${sliding} of ${c.nLayers} layers (${c.layerWindows.map((w) => (w > 0 ? "S" : "G")).join("")})`],
    ["kv cache", kvCacheRow(c)],
    ["residual", c.parallelResidual ? "parallel (attention and feed-forward both read the block input)" : "sequential"],
    ["biases", biases.length === 0 ? "none" : biases.join(", ")],
    ["embedding", `${c.embedScale !== 1 ? `scaled by ${c.embedScale.toPrecision(6)}` : "unscaled"}${enc !== undefined && enc.tokenTypes > 0 ? `, plus token-type row 0 of ${enc.tokenTypes}` : ""}`],
    ["head", enc !== undefined ? "none (pooled token vectors)" : `${c.tiedOutput ? "tied to the embedding" : "separate"}${c.finalSoftcap !== undefined ? `, logits soft-capped at ${c.finalSoftcap}` : ""}`],
  ];
}

/** The F16 KV cache at the full context with the default 64-token batch, and the sliding layers' saving. */
function kvCacheRow(c: ModelConfig): string {
  const { bytes, unbounded } = kvCacheBytes(c, c.contextLength, "F16", 64);
  return `${mib(bytes)} in F16 at the full ${c.contextLength}-token context` +
    (bytes < unbounded ? ` (sliding layers keep 2 × window + batch rows; ${mib(unbounded)} without that bound)` : "");
}
