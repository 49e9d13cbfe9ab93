/**
 * Lookups that turn ids and positions into vectors: token embedding (rows of a table; backward scatters
 * gradients back into the rows used), learned positions (a table row per position, added) and fixed
 * sinusoidal positions (Vaswani et al. 2017; added, nothing to learn).
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

/** out (N, D) = table rows ids. */
export function embedding(tape: Tape, table: Value, ids: Int32Array): Value {
  const [rows, dim] = table.shape as [number, number];
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t] as number;
    if (!(id >= 0 && id < rows)) throw new PeelError("INVALID_ARGUMENT", `train: token id ${id} at ${t} is outside the vocabulary 0..${rows - 1}`);
  }
  const y = tape.output([ids.length, dim], [table]);
  for (let t = 0; t < ids.length; t++) y.data.set(table.data.subarray((ids[t] as number) * dim, ((ids[t] as number) + 1) * dim), t * dim);
  tape.record(y, (g) => {
    const gt = tape.grad(table);
    for (let t = 0; t < ids.length; t++) {
      const o = (ids[t] as number) * dim;
      for (let i = 0; i < dim; i++) gt[o + i] = (gt[o + i] as number) + (g[t * dim + i] as number);
    }
  });
  return y;
}

/** x (B·T, D) + table[t] at window position t; table (≥ T, D). */
export function addLearnedPositions(tape: Tape, x: Value, table: Value, seqLen: number): Value {
  const [rows, dim] = table.shape as [number, number];
  if (seqLen > rows) throw new PeelError("INVALID_ARGUMENT", `train: a window of ${seqLen} tokens is longer than the ${rows} learned positions`);
  const n = x.data.length / dim;
  const y = tape.output(x.shape, [x, table]);
  for (let r = 0; r < n; r++) {
    const p = (r % seqLen) * dim;
    for (let i = 0; i < dim; i++) y.data[r * dim + i] = (x.data[r * dim + i] as number) + (table.data[p + i] as number);
  }
  tape.record(y, (g) => {
    if (x.needsGrad) tape.addGrad(x, g);
    if (table.needsGrad) {
      const gt = tape.grad(table);
      for (let r = 0; r < n; r++) {
        const p = (r % seqLen) * dim;
        for (let i = 0; i < dim; i++) gt[p + i] = (gt[p + i] as number) + (g[r * dim + i] as number);
      }
    }
  });
  return y;
}

/** PE (T, D): PE[t][2i] = sin(t·10000^(−2i/D)), PE[t][2i+1] = cos(same angle). */
export function sinusoidalTable(seqLen: number, dim: number): Float32Array {
  const pe = new Float32Array(seqLen * dim);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < dim / 2; i++) {
      const angle = t * Math.pow(10000, (-2 * i) / dim);
      pe[t * dim + 2 * i] = Math.sin(angle);
      pe[t * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/** x (B·T, D) + PE[t]; the gradient passes straight through. */
export function addSinusoidalPositions(tape: Tape, x: Value, seqLen: number): Value {
  const dim = x.shape[x.shape.length - 1] as number;
  const pe = sinusoidalTable(seqLen, dim);
  const y = tape.output(x.shape, [x]);
  for (let i = 0; i < y.data.length; i++) y.data[i] = (x.data[i] as number) + (pe[i % (seqLen * dim)] as number);
  tape.record(y, (g) => tape.addGrad(x, g));
  return y;
}
