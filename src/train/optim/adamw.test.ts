// AdamW against a float64 reference written from the paper's update rule, the first step by hand, decay
// only on `decay` params, state save/restore continuing identically, and validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { makeParam, type Param } from "../model/params.js";
import { createAdamW, type AdamWOptions } from "./adamw.js";

const OPTS: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
const isArg = (e: unknown): boolean => e instanceof PeelError && e.code === "INVALID_ARGUMENT";

function setup(): Param[] {
  const w = makeParam("w", [2, 3], true), g = makeParam("g", [3], false);
  w.data.set([0.5, -1.25, 2, 0.1, -0.3, 0.75]);
  g.data.set([1, 1, 1]);
  return [w, g];
}

/** Deterministic, changing gradients for step t. */
function fillGrads(params: Param[], t: number): void {
  params.forEach((p, k) => p.grad.forEach((_, i) => (p.grad[i] = Math.sin(1.7 * i + 0.9 * t + k) * (i + 1) * 0.3)));
}

/** The update rule in plain float64, one param at a time. */
function reference(params: Param[], steps: number, lrs: number[], o: AdamWOptions): number[][] {
  const data = params.map((p) => Array.from(p.data));
  const m = params.map((p) => new Array<number>(p.data.length).fill(0));
  const v = params.map((p) => new Array<number>(p.data.length).fill(0));
  for (let t = 1; t <= steps; t++) {
    fillGrads(params, t);
    const lr = lrs[t - 1]!;
    params.forEach((p, k) => {
      for (let i = 0; i < p.data.length; i++) {
        const g = p.grad[i]!;
        m[k]![i] = o.beta1 * m[k]![i]! + (1 - o.beta1) * g;
        v[k]![i] = o.beta2 * v[k]![i]! + (1 - o.beta2) * g * g;
        const mHat = m[k]![i]! / (1 - o.beta1 ** t), vHat = v[k]![i]! / (1 - o.beta2 ** t);
        const wd = p.decay ? o.weightDecay : 0;
        data[k]![i] = data[k]![i]! - lr * wd * data[k]![i]! - (lr * mHat) / (Math.sqrt(vHat) + o.eps);
      }
    });
  }
  return data;
}

function run(params: Param[], opt: ReturnType<typeof createAdamW>, from: number, to: number, lrs: number[]): void {
  for (let t = from; t <= to; t++) {
    fillGrads(params, t);
    opt.step(lrs[t - 1]!);
  }
}

const LRS = [1e-2, 3e-2, 2e-2, 1e-2, 5e-3, 1e-3];

test("five steps match a float64 reference of the update rule", () => {
  const expected = reference(setup(), 5, LRS, OPTS);
  const params = setup();
  const opt = createAdamW(params, OPTS);
  run(params, opt, 1, 5, LRS);
  assert.equal(opt.t, 5);
  params.forEach((p, k) => p.data.forEach((x, i) => assert.ok(Math.abs(x - expected[k]![i]!) < 1e-6, `${p.name}[${i}]: ${x} vs ${expected[k]![i]}`)));
});

test("first step by hand: Adam moves each weight by about lr·sign(g); decay only where decay=true", () => {
  const params = setup();
  const [w, g] = params as [Param, Param];
  w.grad.set([2, -3, 0.5, 0, 1, -1]);
  g.grad.set([0.25, -4, 1e-8]);
  createAdamW(params, OPTS).step(0.1);
  // t=1: m̂ = g, v̂ = g², so the Adam part is lr·g/(|g|+eps); decay multiplies by 1 - 0.1·0.1
  const w0 = [0.5, -1.25, 2, 0.1, -0.3, 0.75], gw = [2, -3, 0.5, 0, 1, -1];
  w.data.forEach((x, i) => assert.ok(Math.abs(x - (w0[i]! * 0.99 - (0.1 * gw[i]!) / (Math.abs(gw[i]!) + 1e-8))) < 1e-6, `w[${i}] = ${x}`));
  assert.ok(Math.abs(g.data[0]! - 0.9) < 1e-6 && Math.abs(g.data[1]! - 1.1) < 1e-6, "no decay on gains");
  // |g| = eps: eps is added to sqrt(v̂), not inside it, so the step is lr·g/(2|g|)
  assert.ok(Math.abs(g.data[2]! - 0.95) < 1e-6, `g[2] = ${g.data[2]}`);
});

test("state/restore: a restored optimizer continues exactly like the original", () => {
  const a = setup();
  const optA = createAdamW(a, OPTS);
  run(a, optA, 1, 3, LRS);
  const saved = optA.state();
  const b = setup();
  a.forEach((p, k) => b[k]!.data.set(p.data));
  const optB = createAdamW(b, OPTS);
  optB.restore(saved);
  assert.equal(optB.t, 3);
  run(a, optA, 4, 6, LRS);
  run(b, optB, 4, 6, LRS);
  a.forEach((p, k) => assert.deepEqual(b[k]!.data, p.data));
  assert.equal(saved.t, 3, "state() is a snapshot");
  assert.notDeepEqual(saved.m.get("w"), optA.state().m.get("w"));
});

test("restore refuses state that does not fit, naming the param", () => {
  const opt = createAdamW(setup(), OPTS);
  const s = opt.state();
  const without = (map: ReadonlyMap<string, Float32Array>, name: string) => new Map([...map].filter(([n]) => n !== name));
  assert.throws(() => opt.restore({ ...s, m: without(s.m, "g") }), (e: unknown) => isArg(e) && /no m for param g/.test((e as Error).message));
  assert.throws(() => opt.restore({ ...s, v: new Map([...s.v, ["w", new Float32Array(5)]]) }), (e: unknown) => isArg(e) && /param w has 5 values/.test((e as Error).message));
  assert.throws(() => opt.restore({ ...s, m: new Map([...s.m, ["extra", new Float32Array(1)]]) }), (e: unknown) => isArg(e) && /extra/.test((e as Error).message));
  assert.throws(() => opt.restore({ ...s, t: -1 }), isArg);
});

test("hyperparameters, learning rate and duplicate names are validated", () => {
  const bads: Partial<AdamWOptions>[] = [{ beta1: 1 }, { beta1: -0.1 }, { beta2: NaN }, { eps: 0 }, { eps: Infinity }, { weightDecay: -1 }];
  for (const b of bads) assert.throws(() => createAdamW(setup(), { ...OPTS, ...b }), isArg, JSON.stringify(b));
  assert.doesNotThrow(() => createAdamW(setup(), { ...OPTS, beta1: 0, weightDecay: 0 }));
  const opt = createAdamW(setup(), OPTS);
  for (const lr of [-1, NaN, Infinity]) assert.throws(() => opt.step(lr), isArg);
  assert.equal(opt.t, 0, "a refused step does not count");
  assert.throws(() => createAdamW([makeParam("x", [1], true), makeParam("x", [2], true)], OPTS), isArg);
});
