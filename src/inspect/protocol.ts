/**
 * The inspector's wire protocol: a method name and JSON params in, a JSON result out. The web app's two
 * engines (a Worker running Peel in the page, and `peel inspect`'s HTTP server) both answer through
 * `callInspector`, so they cannot drift apart. Params arrive as `unknown` and are checked here, field by
 * field, into the typed arguments of inspector.ts; a bad field is an INVALID_ARGUMENT naming it.
 */

import type { SamplingOptions } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import type { EmbeddingQuery } from "./embeddings.js";
import type { Inspector } from "./inspector.js";
import type { Ablation } from "./interventions.js";

export const INSPECT_METHODS = ["info", "tokenize", "mergeTrace", "tokenizers", "loadTokenizer", "analyze", "attention", "step", "neighbours", "analogy", "project", "ablate", "patch"] as const;
export type InspectMethod = (typeof INSPECT_METHODS)[number];

type Params = Readonly<Record<string, unknown>>;

function bad(method: string, field: string, expected: string, got: unknown): PeelError {
  const shown = typeof got === "string" ? JSON.stringify(got.slice(0, 40)) : JSON.stringify(got) ?? String(got);
  return new PeelError("INVALID_ARGUMENT", `inspect ${method}: "${field}" must be ${expected}, got ${shown}`);
}

function str(m: string, p: Params, f: string): string {
  const v = p[f];
  if (typeof v !== "string") throw bad(m, f, "a string", v);
  return v;
}

function optStr(m: string, p: Params, f: string): string | undefined {
  return p[f] === undefined ? undefined : str(m, p, f);
}

function int(m: string, p: Params, f: string, lo: number, hi: number): number;
function int(m: string, p: Params, f: string, lo: number, hi: number, optional: true): number | undefined;
function int(m: string, p: Params, f: string, lo: number, hi: number, optional = false): number | undefined {
  const v = p[f];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw bad(m, f, `an integer in ${lo}..${hi}`, v);
  return v;
}

/** An optional field that must be one of `values`: { [f]: value } when present, {} when absent. */
function oneOf<K extends string, V extends string>(m: string, p: Params, f: K, values: readonly V[]): Partial<Record<K, V>> {
  const v = p[f];
  if (v === undefined) return {};
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) throw bad(m, f, values.map((x) => `"${x}"`).join(" or "), v);
  return { [f]: v } as Partial<Record<K, V>>;
}

function query(m: string, p: Params, f: string): EmbeddingQuery {
  const v = p[f];
  if (typeof v === "string" && v.length > 0) return v;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  throw bad(m, f, "a word or a token id", v);
}

function ids(m: string, p: Params, f: string): number[] {
  const v = p[f];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isInteger(x))) throw bad(m, f, "an array of token ids", v);
  return v as number[];
}

const SAMPLING_NUMBERS = ["temperature", "topK", "topP", "minP", "typicalP", "repeatPenalty", "frequencyPenalty", "presencePenalty", "penaltyLastN", "seed"] as const;

function sampling(m: string, p: Params): SamplingOptions {
  const v = p["sampling"];
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(m, "sampling", "an object", v);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!(SAMPLING_NUMBERS as readonly string[]).includes(k)) throw bad(m, `sampling.${k}`, `one of ${SAMPLING_NUMBERS.join(", ")}`, k);
    if (typeof x !== "number" || !Number.isFinite(x)) throw bad(m, `sampling.${k}`, "a finite number", x);
    out[k] = x;
  }
  return out as SamplingOptions; // createSampler validates the ranges with its own messages
}

function words(m: string, p: Params): "as-typed" | "in-sentence" {
  const v = p["words"];
  if (v === undefined) return "in-sentence";
  if (v === "as-typed" || v === "in-sentence") return v;
  throw bad(m, "words", '"as-typed" or "in-sentence"', v);
}

function ablations(m: string, p: Params, nLayers: number, nHeads: number): Ablation[] {
  const v = p["ablations"];
  if (!Array.isArray(v) || v.length === 0) throw bad(m, "ablations", "a non-empty array", v);
  return v.map((a: unknown, i): Ablation => {
    if (typeof a !== "object" || a === null) throw bad(m, `ablations[${i}]`, "an object", a);
    const o = a as Params;
    const layer = int(m, o, "layer", 0, nLayers - 1);
    const scale = o["scale"];
    if (scale !== undefined && (typeof scale !== "number" || !Number.isFinite(scale))) throw bad(m, `ablations[${i}].scale`, "a finite number", scale);
    const s = scale === undefined ? {} : { scale };
    if (o["kind"] === "mlp") return { kind: "mlp", layer, ...s };
    if (o["kind"] === "head") return { kind: "head", layer, head: int(m, o, "head", 0, nHeads - 1), ...s };
    throw bad(m, `ablations[${i}].kind`, '"head" or "mlp"', o["kind"]);
  });
}

/** Runs one inspector call; the result (or the promise's) is JSON-serialisable. */
export function callInspector(ins: Inspector, method: string, params: unknown): unknown {
  const p: Params = params === undefined || params === null ? {} : (params as Params);
  if (typeof p !== "object" || Array.isArray(p)) throw bad(method, "params", "an object", params);
  const c = ins.model.config;
  const m = method;
  switch (m as InspectMethod) {
    case "info": return ins.info();
    case "tokenize": return ins.tokenize(str(m, p, "text"), p["addSpecial"] !== false, optStr(m, p, "tokenizer"));
    case "mergeTrace": return ins.mergeTrace(str(m, p, "text"), optStr(m, p, "tokenizer"));
    case "tokenizers": return ins.tokenizers();
    case "loadTokenizer": return ins.loadTokenizer(str(m, p, "name"));
    case "analyze": {
      const output = optStr(m, p, "output");
      return ins.analyze(str(m, p, "text"), { topK: int(m, p, "topK", 1, 50, true) ?? 5, ...(output === undefined ? {} : { output }) });
    }
    case "attention": {
      // the inspector checks the layer against the chosen stack (a T5 encoder may have more layers than its decoder)
      const kind = { ...oneOf(m, p, "stack", ["decoder", "encoder"] as const), ...oneOf(m, p, "source", ["self", "cross"] as const) };
      return ins.attention(int(m, p, "layer", 0, 4096), kind);
    }
    case "step": return ins.step(ids(m, p, "ids"), sampling(m, p), int(m, p, "topN", 1, 100, true) ?? 10);
    case "neighbours": return ins.neighbours(query(m, p, "query"), int(m, p, "k", 1, 200, true) ?? 10, words(m, p));
    case "analogy": return ins.analogy(query(m, p, "a"), query(m, p, "b"), query(m, p, "c"), int(m, p, "k", 1, 200, true) ?? 10, words(m, p));
    case "project": {
      const q = p["queries"];
      if (!Array.isArray(q) || q.length < 2) throw bad(m, "queries", "an array of at least two words or ids", q);
      return ins.project(q.map((_, i) => query(m, q as unknown as Params, String(i))), words(m, p));
    }
    case "ablate": return ins.ablate(str(m, p, "text"), ablations(m, p, c.nLayers, c.nHeads), int(m, p, "topK", 1, 100, true) ?? 10);
    case "patch":
      return ins.patch(str(m, p, "text"), str(m, p, "sourceText"), int(m, p, "layer", 0, c.nLayers - 1), int(m, p, "pos", 0, c.contextLength - 1),
        int(m, p, "sourcePos", 0, c.contextLength - 1, true), int(m, p, "topK", 1, 100, true) ?? 10);
    default:
      throw new PeelError("INVALID_ARGUMENT", `inspect: unknown method "${method}"; the methods are ${INSPECT_METHODS.join(", ")}`);
  }
}
