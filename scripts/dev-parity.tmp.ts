import { writeRandomLlamaGguf } from "../test/fixtures/random-llama.js";
import { loadReferenceModel, referenceRun } from "../test/parity/llama-cpp.js";
import { readGgufHeader, readGgufTensors } from "../src/formats/gguf/read.js";
import { openFileSource } from "../src/formats/byte-source.node.js";
import { configFromGguf } from "../src/model/config-from-gguf.js";
import { createModel } from "../src/model/model.js";
import { createTsKernels } from "../src/kernels/ts/index.js";
import { createSession } from "../src/generate/session.js";
import type { DType } from "../src/tensor/dtype.js";

const dtype = (process.argv[2] ?? "F32") as DType;
const path = `/tmp/peel/rand-${process.env.TIED}-${process.env.GAIN}-${process.env.LS}-${dtype}-${process.env.EMBD}-${process.env.OUT}.gguf`;
let t = performance.now();
writeRandomLlamaGguf(path, { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: dtype, tied: process.env.TIED === "1", outputGain: Number(process.env.GAIN ?? 8), seed: 1, layerScale: Number(process.env.LS ?? 1), ...(process.env.EMBD ? { embdType: process.env.EMBD as DType } : {}), ...(process.env.OUT ? { outputType: process.env.OUT as DType } : {}) });
console.log("write", performance.now() - t); t = performance.now();
const ref = await referenceRun(await loadReferenceModel(path), [1, 15043, 3186], 32);
console.log("ref", performance.now() - t, ref.greedy.join(" ")); t = performance.now();
const src = await openFileSource(path);
const header = await readGgufHeader(src);
const tensors = await readGgufTensors(src, header);
const config = configFromGguf(header.metadata, new Map(header.tensorInfos.map((x) => [x.name, x.shape])));
const tok = { vocabSize: 32000, isEndOfGeneration: (id: number) => id === 2 } as never;
const model = createModel({ config, tensors, tokenizer: tok, kernels: createTsKernels(), info: {} as never });
const s = createSession(model, { contextLength: 256 });
const seq = [1, 15043, 3186, ...ref.greedy];
let worst = 0, mism = 0; const diffs: string[] = [];
for (let i = 2; i < seq.length; i++) {
  const logits = i === 2 ? s.evaluate(seq.slice(0, 3)) : s.evaluate([seq[i]!]);
  let max = -Infinity; for (const v of logits) max = Math.max(max, v);
  let sum = 0; for (const v of logits) sum += Math.exp(v - max);
  const d = ref.dists[i - 2]!;
  const top = [...d.entries()].slice(0, 5);
  let argmax = 0; for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[argmax]!) argmax = j;
  if (argmax !== top[0]![0]) mism++;
  let w = 0; for (const [id, p] of top) w = Math.max(w, Math.abs(Math.exp(logits[id]! - max) / sum - p)); worst = Math.max(worst, w); diffs.push(w.toFixed(4));
  if (i < 5) console.log(i, argmax, top.map(([a, b]) => `${a}:${b.toFixed(4)}/${(Math.exp(logits[a]! - max) / sum).toFixed(4)}`).join(" "));
}
console.log(diffs.join(" ")); console.log("meanTop1", ref.dists.reduce((a, d) => a + (d.values().next().value ?? 0), 0) / ref.dists.length); console.log(dtype, "peel", performance.now() - t, "worst top5 diff", worst, "top1 mismatches", mism);
process.exit(0);
