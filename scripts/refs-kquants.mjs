#!/usr/bin/env node
// `npm run refs:kquants`: makes test/fixtures/kquant-dots.json, llama.cpp's own CPU kernels' outputs for Q2_K,
// Q3_K and IQ4_XS products, for src/kernels/wasm/lowbit-dots.test.ts. It builds llama.cpp's static libraries
// from the source bundle node-llama-cpp ships (as `npm run refs:t5` does; LLAMA_CPP_DIR to use another
// checkout), compiles scripts/refs-kquants/kquant-dots.c against them and records, per case, each output's f32
// bits: Q2_K through the repacked gemv (every token alone) and gemm (whole groups of four tokens), Q3_K and
// IQ4_XS through ggml_vec_dot_*_q8_K. The inputs come from a seeded stream both sides draw
// (test/fixtures/kquant-dots.ts), so the file holds only seeds, shapes and results. GGML_NATIVE on an AVX-512
// CPU compiles the same x86 code paths as node-llama-cpp's prebuilt zen4/icelake variants.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLlamaCpp, compileRunner, llamaCppCommit } from "./llama-cpp-build.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts }).toString();

const llama = buildLlamaCpp("ggml-cpu", "building llama.cpp's ggml libraries (CPU, static)");
const bin = compileRunner(llama, { compiler: "gcc", flags: ["-O2"], src: "scripts/refs-kquants/kquant-dots.c", name: "peel-kquant-dots",
  link: ["-fopenmp", "-lpthread", "-ldl", "-lm", "-lstdc++"] });
const commit = llamaCppCommit(llama);
const flags = run("sh", ["-c", "grep -o 'avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\\n' ' '"]).trim();

// 768 columns: three super-blocks (the 110M shape's dim); 7 tokens: one gemm group and three gemv tokens; 12 rows:
// three quads (Q3_K, IQ4_XS), so a pair and a quad paired with itself
const CASES = [
  { type: "Q2_K", seed: 17, rows: 16, cols: 768, tokens: 7 },
  { type: "Q3_K", seed: 18, rows: 16, cols: 768, tokens: 7 },
  { type: "IQ4_XS", seed: 19, rows: 16, cols: 768, tokens: 7 },
  { type: "Q2_K", seed: 20, rows: 8, cols: 256, tokens: 4 },
  // 37 tokens: past wideQuadMinTokens, so the relaxed build's prefill runs on the repacked quads (nine gemm groups, one gemv token)
  { type: "Q2_K", seed: 21, rows: 16, cols: 512, tokens: 37 }, // llama.cpp repacks Q2_K rows eight at a time
  { type: "Q3_K", seed: 22, rows: 12, cols: 512, tokens: 37 },
  { type: "IQ4_XS", seed: 23, rows: 12, cols: 512, tokens: 37 },
];
const cases = CASES.map((c) => JSON.parse(run(bin, [c.type, String(c.seed), String(c.rows), String(c.cols), String(c.tokens)])));
const fixture = {
  note: "Made by `npm run refs:kquants` (scripts/refs-kquants.mjs): llama.cpp's ggml CPU library built from node-llama-cpp's source bundle (GGML_NATIVE, Release, static) runs scripts/refs-kquants/kquant-dots.c on the inputs of test/fixtures/kquant-dots.ts (weights (rows, cols), activations (tokens, cols) from the case's seed). Activations are quantized by quantize_row_q8_K (gemm: ggml_quantize_mat_q8_K_4x8). Q2_K: gemv = each token alone through ggml_gemv_q2_K_8x8_q8_K on the weights repacked as llama.cpp repacks them (block_q2_Kx8); gemm = ggml_gemm_q2_K_8x8_q8_K over the first tokens − tokens % 4 tokens. Q3_K / IQ4_XS: vecDot = ggml_vec_dot_q3_K_q8_K / ggml_vec_dot_iq4_xs_q8_K per (token, row). Values are f32 bit patterns (hex), token-major: index t·rows + r.",
  llamaCpp: { commit, runner: "scripts/refs-kquants/kquant-dots.c", cpu: flags },
  cases,
};
writeFileSync(join(root, "test/fixtures/kquant-dots.json"), JSON.stringify(fixture, null, 1) + "\n");
console.log(`wrote test/fixtures/kquant-dots.json (${cases.length} cases, llama.cpp ${commit.slice(0, 7)})`);
