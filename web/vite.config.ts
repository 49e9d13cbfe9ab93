// The inspector app's build. It imports Peel through the package's built entry (dist/, made by `tsc` before
// this build), so the app uses only the public API and the wasm pool's worker file is bundled as a Worker.
// Pages are served cross-origin isolated so that WebAssembly threads (SharedArrayBuffer) are available.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const shippedModel = fileURLToPath(new URL("../models/peel-tinystories-1m.gguf", import.meta.url));
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/** The shipped model goes beside the app as its default model (copied, never committed under web/). */
function shipModel(): Plugin {
  return {
    name: "peel-ship-model",
    writeBundle(opts) {
      const out = opts.dir ?? `${root}dist`;
      mkdirSync(`${out}/models`, { recursive: true });
      copyFileSync(shippedModel, `${out}/models/peel-tinystories-1m.gguf`);
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
  plugins: [shipModel()],
});
