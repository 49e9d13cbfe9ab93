/**
 * `npm run bench:llamacpp -- --model FILE [--threads 2] [--prompt-tokens 128] [--gen-tokens 64] [--runs 3] [--simd auto|baseline|relaxed]`:
 * Peel and llama.cpp (node-llama-cpp's prebuilt CPU binary) side by side on the same file, the same prompt
 * (the fixed pseudo-random ids of `peel bench`), prefilled in one batch, then the same number of greedy
 * single-token decode steps. Fair to the reference: llama.cpp runs with 1 and with 2 threads (--llama-threads)
 * and Peel is compared with its better figure; the engines' runs alternate, one warm-up run each is excluded,
 * and every figure is the median of --runs runs. Decode is also shown as a fraction of the memory-bandwidth
 * roofline: bytes of weights one token reads (every matrix but the token embedding table, of which one row is
 * read) divided into 25 GB/s (this machine's figure in issue 4) and into the bandwidth measured here.
 * --simd picks the build of Peel's wasm kernels (default auto: relaxed SIMD where the runtime has it).
 * --flash-attn on|off (default on, llama.cpp's default) sets both engines' attention path.
 * --repack on|off (default on) lets the wasm backend repack Q4_0 / Q8_0 / Q4_K / Q6_K weights into its x4 layouts (repackWeights).
 */

import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type LlamaContextSequence, type Token } from "node-llama-cpp";
import { describeModel, loadModel } from "../src/model/load.node.js";
import { createWasmKernels } from "../src/kernels/wasm/index.node.js";
import type { Model } from "../src/model/model.js";
import { benchPromptTokens, createPeelBench, summarize, type BenchRun } from "../src/cli/commands/bench.js";
import { measureBandwidth } from "./bandwidth.js";

const REFERENCE_GBS = 25;

const { values } = parseArgs({
  options: {
    model: { type: "string" }, threads: { type: "string", default: "2" }, "prompt-tokens": { type: "string", default: "128" },
    "gen-tokens": { type: "string", default: "64" }, runs: { type: "string", default: "3" }, "llama-threads": { type: "string", default: "1,2" },
    json: { type: "boolean", default: false }, simd: { type: "string", default: "auto" }, "flash-attn": { type: "string", default: "on" },
    repack: { type: "string", default: "on" },
  },
});
if (values.model === undefined) throw new Error("usage: npm run bench:llamacpp -- --model FILE [--threads N] [--prompt-tokens N] [--gen-tokens N] [--runs N]");
const path = values.model;
const threads = Number(values.threads), promptTokens = Number(values["prompt-tokens"]), genTokens = Number(values["gen-tokens"]);
const runs = Number(values.runs);
const llamaThreads = values["llama-threads"].split(",").map(Number);
const flash = values["flash-attn"];
if (flash !== "on" && flash !== "off") throw new Error(`--flash-attn must be on or off, got "${flash}"`);

/** Bytes of weights one decode step reads: every tensor but the token embedding table (unless it is the output head). */
function bytesPerToken(model: Model): number {
  const ts = model.info.tensors;
  const tied = !ts.some((t) => t.name === "output.weight");
  return ts.reduce((s, t) => s + (t.name === "token_embd.weight" && !tied ? 0 : t.bytes), 0);
}

async function llamaRun(seq: LlamaContextSequence, prompt: Token[]): Promise<BenchRun> {
  await seq.clearHistory();
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(prompt);
  const t1 = performance.now();
  let n = 0;
  for await (const _ of seq.evaluate([prompt[0]!], { temperature: 0, yieldEogToken: true })) if (++n >= genTokens) break;
  const t2 = performance.now();
  if (n < genTokens) throw new Error(`llama.cpp generated ${n} of ${genTokens} tokens`);
  return { prefillTokS: (promptTokens * 1000) / (t1 - t0), decodeTokS: (genTokens * 1000) / (t2 - t1) };
}

const bandwidth = await measureBandwidth(threads);
const simd = values.simd;
if (simd !== "auto" && simd !== "baseline" && simd !== "relaxed") throw new Error(`--simd must be auto, baseline or relaxed, got "${simd}"`);
// the backend planned for the model's weights (over 4 GiB they take several WebAssembly memories)
const weightBytes = (await describeModel(path)).info.tensors.reduce((s, t) => s + (t.shape.length >= 2 ? t.bytes : 0), 0);
if (values.repack !== "on" && values.repack !== "off") throw new Error(`--repack must be on or off, got "${values.repack}"`);
const kernels = await createWasmKernels({ threads, simd, weightBytes, repackWeights: values.repack === "on" });
const peelModel = await loadModel(path, { kernels });
const peelRss = process.memoryUsage().rss; // before llama.cpp maps the same file into this process
const peel = await createPeelBench(peelModel, { promptTokens, genTokens, runs, flashAttention: flash });
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: 0 });
const refModel = await llama.loadModel({ modelPath: path });
const prompt = benchPromptTokens(promptTokens, peelModel.config.vocabSize) as Token[];
const contexts = await Promise.all(llamaThreads.map((t) =>
  refModel.createContext({ contextSize: promptTokens + genTokens + 16, batchSize: promptTokens, threads: t, sequences: 1, flashAttention: flash === "on" })));
const seqs = contexts.map((c) => c.getSequence());

const results: { peel: BenchRun[]; llama: BenchRun[][] } = { peel: [], llama: llamaThreads.map(() => []) };
for (let r = -1; r < runs; r++) { // r = -1: warm-up, excluded
  const p = peel();
  if (r >= 0) results.peel.push(p);
  for (let i = 0; i < seqs.length; i++) {
    const l = await llamaRun(seqs[i]!, prompt);
    if (r >= 0) results.llama[i]!.push(l);
  }
}

const med = (rs: BenchRun[], k: keyof BenchRun) => summarize(rs.map((x) => x[k])).median;
const peelPrefill = med(results.peel, "prefillTokS"), peelDecode = med(results.peel, "decodeTokS");
const llamaPrefill = llamaThreads.map((_, i) => med(results.llama[i]!, "prefillTokS"));
const llamaDecode = llamaThreads.map((_, i) => med(results.llama[i]!, "decodeTokS"));
const bestPrefill = Math.max(...llamaPrefill), bestDecode = Math.max(...llamaDecode);
// each run of Peel against the llama.cpp runs right after it (its better thread count in that run): a slow minute
// of this shared machine then moves both sides of a ratio, where the ratio of medians can pair a quiet Peel run
// with a disturbed llama.cpp one
const paired = (k: keyof BenchRun) => summarize(results.peel.map((p, r) => p[k] / Math.max(...results.llama.map((l) => l[r]![k])))).median;
const bytes = bytesPerToken(peelModel);
const roof = (gbs: number) => (gbs * 1e9) / bytes;
const report = {
  model: path, threads, simd: kernels.simd, flash_attention: flash, prompt_tokens: promptTokens, gen_tokens: genTokens, runs,
  weight_bytes_per_token: bytes, peel_rss_bytes: peelRss, wasm_memories: kernels.memories, bandwidth_gbs: Math.round(bandwidth * 10) / 10,
  peel: { prefill: peelPrefill, decode: peelDecode },
  llama: llamaThreads.map((t, i) => ({ threads: t, prefill: llamaPrefill[i], decode: llamaDecode[i] })),
  ratio: { prefill: peelPrefill / bestPrefill, decode: peelDecode / bestDecode },
  paired_ratio: { prefill: paired("prefillTokS"), decode: paired("decodeTokS") },
  roofline: { at25: roof(REFERENCE_GBS), measured: roof(bandwidth) },
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(7);
  console.log(`${path}: ${(bytes / 2 ** 20).toFixed(1)} MiB of weights read per token; copy bandwidth here (${threads} threads) ${bandwidth.toFixed(1)} GB/s`);
  console.log(`prompt ${promptTokens}, generate ${genTokens}, flash attention ${flash}; medians of ${runs} alternating runs after a warm-up (tok/s)`);
  console.log(`engine              prefill  decode  decode/roofline@${REFERENCE_GBS}GB/s  @measured`);
  const line = (name: string, p: number, d: number) =>
    console.log(`${name.padEnd(18)}${f(p)} ${f(d)}   ${(d / roof(REFERENCE_GBS)).toFixed(2).padStart(8)}             ${(d / roof(bandwidth)).toFixed(2)}`);
  line(`peel (${threads}t, ${kernels.simd})`, peelPrefill, peelDecode);
  llamaThreads.forEach((t, i) => line(`llama.cpp (${t}t)`, llamaPrefill[i]!, llamaDecode[i]!));
  console.log(`ratio peel / best llama.cpp: prefill ${report.ratio.prefill.toFixed(2)}, decode ${report.ratio.decode.toFixed(2)}` +
    ` (median of per-run ratios: ${report.paired_ratio.prefill.toFixed(2)}, ${report.paired_ratio.decode.toFixed(2)})`);
  console.log(`peel resident memory after loading: ${(peelRss / 2 ** 30).toFixed(2)} GiB (${kernels.memories} WebAssembly ${kernels.memories === 1 ? "memory" : "memories"})`);
}
await Promise.all(contexts.map((c) => c.dispose()));
await refModel.dispose();
await peelModel.dispose();
await kernels.dispose();
