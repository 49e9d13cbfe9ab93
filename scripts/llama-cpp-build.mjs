// llama.cpp built from the source bundle node-llama-cpp ships, for the scripts that need more of llama.cpp than
// node-llama-cpp's prebuilt binary exposes (refs-kquants.mjs, refs-t5.mjs, tensor-diff.ts): clone the bundle
// (LLAMA_CPP_DIR to use another checkout), build the static libraries a target needs (CPU, GGML_NATIVE,
// Release) if they are missing, and compile a small runner against them when it is older than its source.
// All three share one checkout and build folder, so whichever runs first builds for the others.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The static libraries each cmake target leaves under build/, in link order. */
const LIBS = {
  llama: ["src/libllama.a", "ggml/src/libggml.a", "ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"],
  "ggml-cpu": ["ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"],
};

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26, ...opts }).toString();

/**
 * Clones and builds llama.cpp for `target` ("llama" or "ggml-cpu") unless its libraries are there; `note` is
 * printed before a build (how long it takes). Returns the checkout, its build folder and the libraries.
 */
export function buildLlamaCpp(target, note) {
  const dir = process.env.LLAMA_CPP_DIR ?? join(tmpdir(), "llama.cpp-t5");
  if (!existsSync(join(dir, "CMakeLists.txt"))) {
    console.log(`cloning llama.cpp from node-llama-cpp's bundle into ${dir}`);
    run("git", ["clone", "-q", join(ROOT, "node_modules/node-llama-cpp/llama/gitRelease.bundle"), dir]);
  }
  const build = join(dir, "build");
  const libs = LIBS[target].map((l) => join(build, l));
  if (!libs.every((l) => existsSync(l))) {
    console.log(note);
    run("cmake", ["-B", build, "-DLLAMA_CURL=OFF", "-DGGML_NATIVE=ON", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_SERVER=OFF",
      "-DBUILD_SHARED_LIBS=OFF", "-DCMAKE_BUILD_TYPE=Release"], { cwd: dir, stdio: "inherit" });
    run("cmake", ["--build", build, "-j2", "--target", target], { cwd: dir, stdio: "inherit" });
  }
  return { dir, build, libs };
}

/**
 * Compiles `src` (a path under the repository) into build/`name` against the libraries, unless the binary is
 * newer than the source: `compiler` with `flags` first, then llama.cpp's include folders, the source, the
 * libraries and `link`. Returns the binary's path.
 */
export function compileRunner(llama, { compiler, flags, src, name, link }) {
  const source = join(ROOT, src);
  const bin = join(llama.build, name);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(source).mtimeMs) {
    run(compiler, [...flags, "-I", join(llama.dir, "include"), "-I", join(llama.dir, "ggml/include"), source, ...llama.libs, ...link, "-o", bin]);
  }
  return bin;
}

/** The checkout's commit, for the fixtures' notes. */
export function llamaCppCommit(llama) {
  return run("git", ["-C", llama.dir, "rev-parse", "HEAD"]).trim();
}
