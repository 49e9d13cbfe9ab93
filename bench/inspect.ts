/**
 * `npx tsx bench/inspect.ts MODEL.gguf [--tokens 64] [--threads 2] [--runs 3]`: what looking inside costs.
 * Times, on one prompt of random ids: a plain prefill (flash attention off, as the inspector runs), a
 * traceForward with the default taps, one with every tap, and the logit lens over every layer and position.
 * Make a 110M-shaped model with `npm run bench:models -- --out /tmp/bm --only 110M-Q4_0`. Not a test.
 */

import { parseArgs } from "node:util";
import { ALL_TRACE_TAPS, callInspector, createInspector, createSession, logitLens, loadModel, traceForward } from "../src/index.node.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tokens: { type: "string", default: "64" }, threads: { type: "string", default: "2" }, runs: { type: "string", default: "3" } },
});
const path = positionals[0];
if (path === undefined) throw new Error("usage: tsx bench/inspect.ts MODEL.gguf [--tokens 64] [--threads 2] [--runs 3]");
const nTokens = Number(values.tokens), runs = Number(values.runs);
const model = await loadModel(path, { threads: Number(values.threads) });
const c = model.config;
const ids = Array.from({ length: nTokens }, (_, i) => 1 + ((i * 7919) % (c.vocabSize - 1)));

/** Best of `runs` wall times in ms. */
function best(fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const plain = best(() => { createSession(model, { contextLength: nTokens, flashAttention: "off" }).evaluate(ids); });
const traced = best(() => { traceForward(model, ids); });
let trace = traceForward(model, ids, { taps: ALL_TRACE_TAPS });
const all = best(() => { trace = traceForward(model, ids, { taps: ALL_TRACE_TAPS }); });
const lens = best(() => { logitLens(model, trace, { topK: 5 }); });
// What one "Run forward pass" in the inspector costs: analyze() (trace, lens, norms) and one layer's map,
// each serialised to JSON as the server sends it.
const ins = createInspector(model);
const text = model.detokenize(ids);
let analyzeBytes = 0, attentionBytes = 0, analyzedTokens = 0;
const view = best(() => {
  const a = JSON.stringify(callInspector(ins, "analyze", { text }));
  analyzeBytes = a.length;
  analyzedTokens = (JSON.parse(a) as { tokens: unknown[] }).tokens.length;
  attentionBytes = JSON.stringify(callInspector(ins, "attention", { layer: 0 })).length;
});
console.log(`${model.info.name ?? path}: dim ${c.dim}, ${c.nLayers} layers, ${c.nHeads} heads, vocab ${c.vocabSize}; ${nTokens} tokens, ${values.threads} threads, best of ${runs}`);
console.log(`  plain prefill (flash off)       ${plain.toFixed(0).padStart(6)} ms`);
console.log(`  traceForward (default taps)     ${traced.toFixed(0).padStart(6)} ms`);
console.log(`  traceForward (all ${ALL_TRACE_TAPS.length} taps)      ${all.toFixed(0).padStart(6)} ms`);
console.log(`  logitLens (${c.nLayers + 1} streams × ${nTokens})    ${lens.toFixed(0).padStart(6)} ms`);
console.log(`  inspector analyze + 1 map, JSON ${view.toFixed(0).padStart(6)} ms  (${analyzedTokens} tokens; ${(analyzeBytes / 1024).toFixed(0)} KiB + ${(attentionBytes / 1024).toFixed(0)} KiB per layer map)`);
await model.dispose();
