/**
 * RMSNorm (Llama) and LayerNorm (GPT-2) over the last dim, with their backward passes. RMSNorm's forward is the
 * inference kernel itself, so training and inference normalise identically. With r = 1/sqrt(mean(x²)+eps):
 *   RMSNorm   y = x·r·g          dx = r·(g⊙dy) − x·r³/D·Σ(g⊙dy⊙x)           dg += Σ_rows dy⊙x·r
 *   LayerNorm x̂ = (x−μ)·r, y = x̂·g + b (r from the variance)
 *             dx = r/D·(D·d̂ − Σd̂ − x̂·Σ(d̂⊙x̂)) with d̂ = dy⊙g          dg += Σ dy⊙x̂, db += Σ dy
 */

import type { Tape, Value } from "../autograd/tape.js";
import { PeelError } from "../../util/errors.js";

function rowsOf(x: Value, g: Value, op: string): { rows: number; dim: number } {
  const dim = g.data.length;
  if (x.shape[x.shape.length - 1] !== dim) {
    throw new PeelError("INVALID_ARGUMENT", `train: ${op} of x (${x.shape.join(", ")}) with a gain of ${dim}`);
  }
  return { rows: x.data.length / dim, dim };
}

export function rmsNorm(tape: Tape, x: Value, g: Value, eps: number): Value {
  const { rows, dim } = rowsOf(x, g, "rmsNorm");
  const y = tape.output(x.shape, [x, g]);
  tape.kernels.rmsNorm(y.data, x.data, g.data, eps, rows, dim);
  tape.record(y, (gy) => {
    const gx = x.needsGrad ? tape.grad(x) : undefined;
    const gg = g.needsGrad ? tape.grad(g) : undefined;
    for (let t = 0; t < rows; t++) {
      const o = t * dim;
      let ss = 0, dot = 0;
      for (let i = 0; i < dim; i++) {
        const v = x.data[o + i] as number;
        ss += v * v;
        dot += (gy[o + i] as number) * (g.data[i] as number) * v;
      }
      const r = 1 / Math.sqrt(ss / dim + eps);
      const k = (r * r * r * dot) / dim;
      for (let i = 0; i < dim; i++) {
        const v = x.data[o + i] as number, d = gy[o + i] as number;
        if (gx) gx[o + i] = (gx[o + i] as number) + r * (g.data[i] as number) * d - v * k;
        if (gg) gg[i] = (gg[i] as number) + d * v * r;
      }
    }
  });
  return y;
}

export function layerNorm(tape: Tape, x: Value, g: Value, b: Value, eps: number): Value {
  const { rows, dim } = rowsOf(x, g, "layerNorm");
  const y = tape.output(x.shape, [x, g, b]);
  const xhat = new Float32Array(x.data.length);
  const rs = new Float32Array(rows);
  for (let t = 0; t < rows; t++) {
    const o = t * dim;
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x.data[o + i] as number;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) { const d = (x.data[o + i] as number) - mean; v += d * d; }
    const r = 1 / Math.sqrt(v / dim + eps);
    rs[t] = r;
    for (let i = 0; i < dim; i++) {
      const h = ((x.data[o + i] as number) - mean) * r;
      xhat[o + i] = h;
      y.data[o + i] = h * (g.data[i] as number) + (b.data[i] as number);
    }
  }
  tape.record(y, (gy) => {
    const gx = x.needsGrad ? tape.grad(x) : undefined;
    const gg = g.needsGrad ? tape.grad(g) : undefined;
    const gb = b.needsGrad ? tape.grad(b) : undefined;
    for (let t = 0; t < rows; t++) {
      const o = t * dim;
      let sumD = 0, sumDX = 0;
      for (let i = 0; i < dim; i++) {
        const d = (gy[o + i] as number) * (g.data[i] as number);
        sumD += d;
        sumDX += d * (xhat[o + i] as number);
      }
      const r = rs[t] as number;
      for (let i = 0; i < dim; i++) {
        const dy = gy[o + i] as number, h = xhat[o + i] as number;
        if (gx) gx[o + i] = (gx[o + i] as number) + (r / dim) * (dim * dy * (g.data[i] as number) - sumD - h * sumDX);
        if (gg) gg[i] = (gg[i] as number) + dy * h;
        if (gb) gb[i] = (gb[i] as number) + dy;
      }
    }
  });
  return y;
}
