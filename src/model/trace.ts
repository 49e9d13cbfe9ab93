/**
 * Named taps into a forward pass: how the inspector, debugging dumps and golden diffs see inside.
 * A forward pass asks `trace?.wants(name)` before copying anything, so with no trace (the default)
 * a tap costs one undefined check.
 */

export type TapName =
  | "embed" // (nTokens, dim) token embeddings
  | "attn_norm" // (nTokens, dim) input to attention after the norm (RMSNorm or LayerNorm), per layer
  | "q" | "k" | "v" // (nTokens, nHeads|nKvHeads, headDim) as attention reads them: after biases, q/k norms, RoPE and any q scale, per layer
  | "attn_weights" // (nTokens, nHeads, startPos + nTokens) softmax weights, per layer
  | "attn_out" // (nTokens, dim) attention output projection (after its post-norm, where the model has one), per layer
  | "cross_norm" // (nTokens, dim) an encoder–decoder's decoder block: input to cross-attention after its norm, per layer
  | "cross_weights" // (nTokens, nHeads, nEncoded) cross-attention softmax weights over the encoded input, per layer
  | "cross_out" // (nTokens, dim) cross-attention output projection, per layer
  | "ffn_norm" // (nTokens, dim) input to the feed-forward after the norm, per layer
  | "ffn_out" // (nTokens, dim) feed-forward output (after its post-norm, where the model has one), per layer
  | "resid" // (nTokens, dim) residual stream after the layer
  | "output_norm" // (nTokens, dim) final norm output
  | "logits"; // (nTokens, vocabSize), after any final soft cap

export interface TapRecord {
  readonly name: TapName;
  /** Layer index, or -1 for taps outside the blocks. */
  readonly layer: number;
  /** Position of the first token in this record. */
  readonly startPos: number;
  readonly shape: readonly number[];
  /** A copy: the forward pass reuses its buffers. */
  readonly data: Float32Array;
}

export interface Trace {
  wants(name: TapName): boolean;
  record(name: TapName, layer: number, startPos: number, shape: readonly number[], data: Float32Array): void;
}

/** A trace that keeps copies of the requested taps in `records`, in the order the forward pass made them. */
export function createTrace(names: readonly TapName[]): Trace & { readonly records: TapRecord[] } {
  const wanted = new Set<TapName>(names);
  const records: TapRecord[] = [];
  return {
    records,
    wants: (name) => wanted.has(name),
    record(name, layer, startPos, shape, data) {
      const n = shape.reduce((a, b) => a * b, 1);
      records.push({ name, layer, startPos, shape: [...shape], data: data.slice(0, n) });
    },
  };
}
