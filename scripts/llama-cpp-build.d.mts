// Types of llama-cpp-build.mjs (plain JavaScript so `node scripts/refs-kquants.mjs` runs without tsx).
export interface LlamaCppBuild {
  /** The checkout (LLAMA_CPP_DIR, or llama.cpp-t5 in the temporary folder). */
  readonly dir: string;
  readonly build: string;
  /** Absolute paths of the target's static libraries, in link order. */
  readonly libs: readonly string[];
}
export function buildLlamaCpp(target: "llama" | "ggml-cpu", note: string): LlamaCppBuild;
export function compileRunner(llama: LlamaCppBuild, opts: { compiler: string; flags: readonly string[]; src: string; name: string; link: readonly string[] }): string;
export function llamaCppCommit(llama: LlamaCppBuild): string;
