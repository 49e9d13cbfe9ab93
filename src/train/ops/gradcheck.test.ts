/**
 * Gradient checks: every op's backward against central finite differences of an independent float64
 * reference forward written here (h = 1e-6, so truncation and rounding error are ~1e-9 of the values).
 * Each case draws random inputs, takes loss = Σ y ⊙ R for a random R, and requires
 *   max |analytic − numeric| ≤ 1e-4 · max |numeric|   (analytic gradients are float32 computations)
 * and the float32 forward within 1e-5 · max |y| of the float64 one.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createTsKernels } from "../../kernels/ts/index.js";
import { createRng } from "../../sample/rng.js";
import { Tape, type Value } from "../autograd/tape.js";
import { makeParam, type Param } from "../model/params.js";
import { linear } from "./linear.js";
import { add, gelu, relu, swiglu } from "./elementwise.js";
import { layerNorm, rmsNorm } from "./norm.js";
import { addLearnedPositions, addSinusoidalPositions, embedding } from "./embedding.js";
import { rope } from "./rope.js";
import { causalAttention } from "./attention.js";
import { crossEntropy } from "./cross-entropy.js";

const kernels = createTsKernels();
const H = 1e-6;
const GRAD_TOL = 1e-4;
const FWD_TOL = 1e-5;

interface Case {
  readonly inputs: ReadonlyArray<readonly number[]>;
  /** Inputs that must stay positive-ish etc. can override the random draw. */
  readonly init?: (i: number, data: Float32Array) => void;
  readonly op: (tape: Tape, xs: Value[]) => Value;
  readonly ref: (xs: Float64Array[]) => Float64Array;
}

function weightedSum(tape: Tape, y: Value, r: Float64Array): Value {
  const out = tape.output([1], [y]);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (y.data[i] as number) * (r[i] as number);
  out.data[0] = s;
  tape.record(out, (g) => {
    const gy = tape.grad(y);
    for (let i = 0; i < r.length; i++) gy[i] = (gy[i] as number) + (g[0] as number) * (r[i] as number);
  });
  return out;
}

function check(name: string, c: Case, seed: number): void {
  test(`gradient of ${name} matches float64 central differences`, () => {
    const rng = createRng(seed);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const params: Param[] = c.inputs.map((shape, i) => {
      const p = makeParam(`in${i}`, shape, true);
      for (let j = 0; j < p.data.length; j++) p.data[j] = gauss();
      c.init?.(i, p.data);
      return p;
    });
    const x64 = params.map((p) => Float64Array.from(p.data));
    const y64 = c.ref(x64);
    const r = Float64Array.from({ length: y64.length }, gauss);
    const tape = new Tape(kernels);
    const y = c.op(tape, params.map((p) => tape.param(p)));
    const yMax = Math.max(...Array.from(y64, Math.abs), 1e-12);
    for (let i = 0; i < y64.length; i++) {
      assert.ok(Math.abs((y.data[i] as number) - (y64[i] as number)) <= FWD_TOL * yMax, `${name}: forward[${i}] ${y.data[i]} vs ${y64[i]}`);
    }
    tape.backward(weightedSum(tape, y, r));
    const dot = (v: Float64Array): number => v.reduce((s, yi, i) => s + yi * (r[i] as number), 0);
    params.forEach((p, pi) => {
      const x = x64[pi] as Float64Array;
      const numeric = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const keep = x[j] as number;
        x[j] = keep + H; const up = dot(c.ref(x64));
        x[j] = keep - H; const down = dot(c.ref(x64));
        x[j] = keep;
        numeric[j] = (up - down) / (2 * H);
      }
      const scale = Math.max(...Array.from(numeric, Math.abs), 1e-12);
      for (let j = 0; j < x.length; j++) {
        const err = Math.abs((p.grad[j] as number) - (numeric[j] as number));
        assert.ok(err <= GRAD_TOL * scale, `${name}: d/d input${pi}[${j}] analytic ${p.grad[j]} vs numeric ${numeric[j]} (scale ${scale})`);
      }
    });
  });
}

// ---- float64 reference forwards ----
function refLinear(x: Float64Array, w: Float64Array, n: number, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(n * outDim);
  for (let t = 0; t < n; t++) for (let o = 0; o < outDim; o++) {
    let s = 0;
    for (let i = 0; i < inDim; i++) s += (x[t * inDim + i] as number) * (w[o * inDim + i] as number);
    y[t * outDim + o] = s;
  }
  return y;
}
function refRows(x: Float64Array, dim: number, f: (row: Float64Array) => Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += dim) y.set(f(x.subarray(o, o + dim)), o);
  return y;
}
const map = (x: Float64Array, f: (v: number) => number): Float64Array => x.map(f);

check("linear", {
  inputs: [[5, 7], [6, 7]],
  op: (t, [x, w]) => linear(t, x!, w!),
  ref: ([x, w]) => refLinear(x!, w!, 5, 7, 6),
}, 1);

check("residual add", {
  inputs: [[4, 3], [4, 3]],
  op: (t, [a, b]) => add(t, a!, b!),
  ref: ([a, b]) => a!.map((v, i) => v + (b![i] as number)),
}, 2);

check("relu", {
  inputs: [[24]],
  op: (t, [x]) => relu(t, x!),
  ref: ([x]) => map(x!, (v) => Math.max(0, v)),
}, 3);

check("gelu (tanh approximation)", {
  inputs: [[24]],
  op: (t, [x]) => gelu(t, x!),
  ref: ([x]) => map(x!, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
}, 4);

check("swiglu", {
  inputs: [[20], [20]],
  op: (t, [g, u]) => swiglu(t, g!, u!),
  ref: ([g, u]) => g!.map((v, i) => (v / (1 + Math.exp(-v))) * (u![i] as number)),
}, 5);

check("rmsNorm", {
  inputs: [[3, 8], [8]],
  op: (t, [x, g]) => rmsNorm(t, x!, g!, 1e-5),
  ref: ([x, g]) => refRows(x!, 8, (row) => {
    const r = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 8 + 1e-5);
    return row.map((v, i) => v * r * (g![i] as number));
  }),
}, 6);

check("layerNorm", {
  inputs: [[3, 8], [8], [8]],
  op: (t, [x, g, b]) => layerNorm(t, x!, g!, b!, 1e-5),
  ref: ([x, g, b]) => refRows(x!, 8, (row) => {
    const mean = row.reduce((s, v) => s + v, 0) / 8;
    const r = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / 8 + 1e-5);
    return row.map((v, i) => (v - mean) * r * (g![i] as number) + (b![i] as number));
  }),
}, 7);

const IDS = Int32Array.from([3, 1, 3, 0, 4, 1]);
check("embedding lookup (repeated ids accumulate)", {
  inputs: [[5, 4]],
  op: (t, [table]) => embedding(t, table!, IDS),
  ref: ([table]) => {
    const y = new Float64Array(IDS.length * 4);
    IDS.forEach((id, r) => y.set(table!.subarray(id * 4, id * 4 + 4), r * 4));
    return y;
  },
}, 8);

check("learned positions (B=2, T=3)", {
  inputs: [[6, 4], [5, 4]],
  op: (t, [x, p]) => addLearnedPositions(t, x!, p!, 3),
  ref: ([x, p]) => x!.map((v, i) => v + (p![(Math.floor(i / 4) % 3) * 4 + (i % 4)] as number)),
}, 9);

check("sinusoidal positions (B=2, T=3)", {
  inputs: [[6, 4]],
  op: (t, [x]) => addSinusoidalPositions(t, x!, 3),
  ref: ([x]) => x!.map((v, i) => {
    const pos = Math.floor(i / 4) % 3, d = i % 4, pair = Math.floor(d / 2);
    const angle = pos * Math.pow(10000, (-2 * pair) / 4);
    return v + (d % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
  }),
}, 10);

const ROPE_SPEC = { style: "normal" as const, nRot: 4, invFreq: Float32Array.from([1, 0.1]) };
check("rope (B=2, T=3, 2 heads of 4)", {
  inputs: [[6, 8]],
  op: (t, [x]) => rope(t, x!, 3, 2, 4, ROPE_SPEC),
  ref: ([x]) => {
    const y = Float64Array.from(x!);
    for (let r = 0; r < 6; r++) for (let h = 0; h < 2; h++) for (let i = 0; i < 2; i++) {
      const th = (r % 3) * (ROPE_SPEC.invFreq[i] as number), o = r * 8 + h * 4 + 2 * i;
      const a = x![o] as number, b = x![o + 1] as number;
      y[o] = a * Math.cos(th) - b * Math.sin(th);
      y[o + 1] = a * Math.sin(th) + b * Math.cos(th);
    }
    return y;
  },
}, 11);

function refAttention(q: Float64Array, k: Float64Array, v: Float64Array, B: number, T: number, Hq: number, Hkv: number, hd: number): Float64Array {
  const y = new Float64Array(q.length);
  for (let b = 0; b < B; b++) for (let h = 0; h < Hq; h++) for (let i = 0; i < T; i++) {
    const kvh = Math.floor(h / (Hq / Hkv));
    const s: number[] = [];
    for (let j = 0; j <= i; j++) {
      let d = 0;
      for (let e = 0; e < hd; e++) d += (q[(b * T + i) * Hq * hd + h * hd + e] as number) * (k[(b * T + j) * Hkv * hd + kvh * hd + e] as number);
      s.push(d / Math.sqrt(hd));
    }
    const m = Math.max(...s), z = s.reduce((a, x) => a + Math.exp(x - m), 0);
    for (let j = 0; j <= i; j++) for (let e = 0; e < hd; e++) {
      y[(b * T + i) * Hq * hd + h * hd + e] = (y[(b * T + i) * Hq * hd + h * hd + e] as number) +
        (Math.exp((s[j] as number) - m) / z) * (v[(b * T + j) * Hkv * hd + kvh * hd + e] as number);
    }
  }
  return y;
}
for (const [label, hkv] of [["MHA", 4], ["GQA", 2], ["MQA", 1]] as const) {
  check(`causal attention ${label} (B=2, T=4, 4 heads of 3, ${hkv} kv heads)`, {
    inputs: [[8, 12], [8, hkv * 3], [8, hkv * 3]],
    op: (t, [q, k, v]) => causalAttention(t, q!, k!, v!, { batch: 2, seqLen: 4, nHeads: 4, nKvHeads: hkv, headDim: 3 }),
    ref: ([q, k, v]) => refAttention(q!, k!, v!, 2, 4, 4, hkv, 3),
  }, 12 + hkv);
}

const TARGETS = Int32Array.from([2, 0, 5, 5]);
check("cross-entropy with teacher-forced targets", {
  inputs: [[4, 6]],
  op: (t, [z]) => crossEntropy(t, z!, TARGETS),
  ref: ([z]) => {
    let total = 0;
    for (let r = 0; r < 4; r++) {
      const row = z!.subarray(r * 6, r * 6 + 6), m = Math.max(...row);
      total += m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - (row[TARGETS[r] as number] as number);
    }
    return Float64Array.of(total / 4);
  },
}, 20);
