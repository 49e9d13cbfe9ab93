#!/usr/bin/env -S node --import tsx
/**
 * `npx tsx scripts/tensor-diff.ts --model FILE [--prompt TEXT] [--flash on|off] [--step] [--backend ts|wasm]`:
 * compares Peel's forward pass with llama.cpp's tensor by tensor. llama.cpp's side is a native build of the
 * source bundle node-llama-cpp ships (built here on first use, as `npm run refs:kquants` builds it; LLAMA_CPP_DIR
 * to use another checkout) running scripts/tensor-diff/dump.cpp, which writes every f32 tensor of one decode
 * through llama.cpp's eval callback. Peel's side is the same decode with its named taps. For each tap it prints
 * the largest |Δ| and how many values differ at all: a bitwise match shows 0. `--step` compares one decode step
 * after the prompt instead of the prompt's batch. This is how the reference kernels were brought to llama.cpp's
 * order of additions (src/kernels/ts/ggml-f16-dot.ts); it is a tool, not a test.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSession } from "../src/generate/session.js";
import { createTsKernels } from "../src/kernels/ts/index.js";
import { createWasmKernels } from "../src/kernels/wasm/index.node.js";
import { loadModel } from "../src/model/load.node.js";
import { createTrace, type TapName } from "../src/model/trace.js";
import { buildLlamaCpp, compileRunner } from "./llama-cpp-build.mjs";

const { values } = parseArgs({
  options: {
    model: { type: "string" }, prompt: { type: "string", default: "Once upon a time, in a land far away," },
    flash: { type: "string", default: "off" }, step: { type: "boolean", default: false }, backend: { type: "string", default: "ts" },
  },
});
if (values.model === undefined) throw new Error("usage: npx tsx scripts/tensor-diff.ts --model FILE [--prompt TEXT] [--flash on|off] [--step] [--backend ts|wasm]");
if (values.flash !== "on" && values.flash !== "off") throw new Error(`--flash must be on or off, got "${values.flash}"`);
if (values.backend !== "ts" && values.backend !== "wasm") throw new Error(`--backend must be ts or wasm, got "${values.backend}"`);

/** The dump program, built against llama.cpp's static libraries (cloned from the bundle and built if missing). */
function dumpBinary(): string {
  const llama = buildLlamaCpp("llama", "building llama.cpp's library (CPU, static; about 10 minutes on 2 cores)");
  return compileRunner(llama, { compiler: "g++", flags: ["-O1", "-std=c++17"], src: "scripts/tensor-diff/dump.cpp", name: "peel-tensor-dump",
    link: ["-fopenmp", "-lpthread", "-ldl"] });
}

// Peel's taps and the names llama.cpp's graph gives the same tensors ("-L" for layer L)
const NAMES: ReadonlyArray<[TapName, string]> = [["attn_norm", "attn_norm"], ["q", "Qcur"], ["k", "Kcur"], ["v", "Vcur"], ["attn_out", "attn_out"],
  ["ffn_norm", "ffn_norm"], ["ffn_out", "ffn_out"], ["resid", "l_out"], ["output_norm", "result_norm"], ["logits", "result_output"]];

const kernels = values.backend === "ts" ? createTsKernels() : await createWasmKernels({ threads: 1 });
const model = await loadModel(values.model, { kernels });
const ids = model.tokenize(values.prompt);
const split = values.step ? ids.length - 1 : 0;
const dir = mkdtempSync(join(tmpdir(), "peel-tensor-diff-"));
try {
  execFileSync(dumpBinary(), [values.model, dir, values.flash === "on" ? "1" : "0", String(split), ...ids.map(String)], { stdio: ["ignore", "ignore", "inherit"] });
  const dumped = new Set(readFileSync(join(dir, "index.txt"), "utf8").trim().split("\n").map((l) => l.split(" ")[0] as string));
  const trace = createTrace(NAMES.map(([tap]) => tap));
  const session = createSession(model, { contextLength: 256, flashAttention: values.flash });
  if (split > 0) session.evaluate(ids.slice(0, split));
  session.evaluate(ids.slice(split), { trace, allLogits: true });
  console.log(`${ids.length} prompt tokens${values.step ? ", the last as one decode step" : ""}; flash attention ${values.flash}; Peel on ${values.backend}`);
  for (const r of trace.records) {
    const base = NAMES.find(([tap]) => tap === r.name)?.[1] as string;
    const name = r.layer >= 0 ? `${base}-${r.layer}` : base;
    if (!dumped.has(name)) { console.log(`${`${r.name}@${r.layer}`.padEnd(16)} (llama.cpp did not dump ${name})`); continue; }
    const b = readFileSync(join(dir, `${name}.f32`));
    const ref = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    // llama.cpp's last layer keeps only the rows it outputs: compare the trailing rows both have
    const n = Math.min(r.data.length, ref.length), a = r.data.subarray(r.data.length - n), c = ref.subarray(ref.length - n);
    let maxD = 0, unequal = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs((a[i] as number) - (c[i] as number));
      if (d > maxD) maxD = d;
      if (!Object.is(a[i], c[i])) unequal++;
    }
    console.log(`${`${r.name}@${r.layer}`.padEnd(16)} ${String(n).padStart(8)} values  max |Δ| ${maxD.toExponential(2)}  unequal ${unequal}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await model.dispose();
}
