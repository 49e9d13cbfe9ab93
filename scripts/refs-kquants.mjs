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
import { existsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const llama = process.env.LLAMA_CPP_DIR ?? join(tmpdir(), "llama.cpp-t5");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts }).toString();

if (!existsSync(join(llama, "CMakeLists.txt"))) {
  console.log(`cloning llama.cpp from node-llama-cpp's bundle into ${llama}`);
  run("git", ["clone", "-q", join(root, "node_modules/node-llama-cpp/llama/gitRelease.bundle"), llama]);
}
const build = join(llama, "build");
const libs = ["ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"].map((l) => join(build, l));
if (!libs.every(existsSync)) {
  console.log("building llama.cpp's ggml libraries (CPU, static)");
  run("cmake", ["-B", build, "-DLLAMA_CURL=OFF", "-DGGML_NATIVE=ON", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_SERVER=OFF",
    "-DBUILD_SHARED_LIBS=OFF", "-DCMAKE_BUILD_TYPE=Release"], { cwd: llama, stdio: "inherit" });
  run("cmake", ["--build", build, "-j2", "--target", "ggml-cpu"], { cwd: llama, stdio: "inherit" });
}
const src = join(root, "scripts/refs-kquants/kquant-dots.c");
const bin = join(build, "peel-kquant-dots");
if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
  run("gcc", ["-O2", "-I", join(llama, "include"), "-I", join(llama, "ggml/include"), src, ...libs, "-fopenmp", "-lpthread", "-ldl", "-lm", "-lstdc++", "-o", bin]);
}
const commit = run("git", ["-C", llama, "rev-parse", "HEAD"]).trim();
const flags = run("sh", ["-c", "grep -o 'avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\\n' ' '"]).trim();

// 768 columns: three super-blocks (the 110M shape's dim); 7 tokens: one gemm group and three gemv tokens
const CASES = [
  { type: "Q2_K", seed: 17, rows: 16, cols: 768, tokens: 7 },
  { type: "Q3_K", seed: 18, rows: 16, cols: 768, tokens: 7 },
  { type: "IQ4_XS", seed: 19, rows: 16, cols: 768, tokens: 7 },
  { type: "Q2_K", seed: 20, rows: 8, cols: 256, tokens: 4 },
];
const cases = CASES.map((c) => JSON.parse(run(bin, [c.type, String(c.seed), String(c.rows), String(c.cols), String(c.tokens)])));
const fixture = {
  note: "Made by `npm run refs:kquants` (scripts/refs-kquants.mjs): llama.cpp's ggml CPU library built from node-llama-cpp's source bundle (GGML_NATIVE, Release, static) runs scripts/refs-kquants/kquant-dots.c on the inputs of test/fixtures/kquant-dots.ts (weights (rows, cols), activations (tokens, cols) from the case's seed). Activations are quantized by quantize_row_q8_K (gemm: ggml_quantize_mat_q8_K_4x8). Q2_K: gemv = each token alone through ggml_gemv_q2_K_8x8_q8_K on the weights repacked as llama.cpp repacks them (block_q2_Kx8); gemm = ggml_gemm_q2_K_8x8_q8_K over the first tokens − tokens % 4 tokens. Q3_K / IQ4_XS: vecDot = ggml_vec_dot_q3_K_q8_K / ggml_vec_dot_iq4_xs_q8_K per (token, row). Values are f32 bit patterns (hex), token-major: index t·rows + r.",
  llamaCpp: { commit, runner: "scripts/refs-kquants/kquant-dots.c", cpu: flags },
  cases,
};
writeFileSync(join(root, "test/fixtures/kquant-dots.json"), JSON.stringify(fixture, null, 1) + "\n");
console.log(`wrote test/fixtures/kquant-dots.json (${cases.length} cases, llama.cpp ${commit.slice(0, 7)})`);
