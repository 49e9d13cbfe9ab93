/**
 * The engine Worker of the static app: loads a model with Peel (a GGUF or llama2.c file, or a Hugging Face
 * folder's files) and answers inspector calls through the same callInspector the `peel inspect` server uses.
 * It checks what the page cannot know in advance: that the files are a model Peel reads, and that they fit
 * the 4 GiB a WebAssembly memory can address; either way the error names the problem and the old model stays.
 */

/// <reference lib="webworker" />
import {
  blobSource, bytesSource, callInspector, createInspector, loadModelFromFolder, loadModelFromSource, PeelError, tokenizerFromBytes,
  type ByteSource, type FolderSource, type Inspector, type LoadOptions, type Model, type TokenizerLibrary,
} from "peel";
import type { FromWorker, ToWorker } from "./messages";

declare const self: DedicatedWorkerGlobalScope;

/** 32-bit WebAssembly addresses 4 GiB; weights, KV cache and activations must fit in it together. */
const WASM_LIMIT = 4 * 1024 ** 3;
/** The page may lower the limit (`?maxModelMiB=N`: a phone, or a test of this very check). */
let limit = WASM_LIMIT;
const MODEL_FILE = /\.(gguf|bin)$/i;

let model: Model | undefined;
let inspector: Inspector | undefined;

function post(m: FromWorker): void {
  self.postMessage(m);
}

function loadOptions(id: number, what: string): LoadOptions {
  // Without cross-origin isolation there is no shared memory, so no wasm backend: the TS reference still runs.
  const base = self.crossOriginIsolated ? { backend: "wasm" as const } : { backend: "ts" as const };
  return { ...base, onProgress: (p) => post({ type: "progress", id, loaded: p.loadedBytes, total: p.totalBytes, what }) };
}

function mib(n: number): string {
  return `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

function checkSize(total: number, what: string): void {
  if (total > limit) {
    throw new PeelError("UNSUPPORTED", `${what} is ${mib(total)}, more than the ${mib(limit)} this page's WebAssembly memory may hold; ` +
      "use `peel inspect --model FILE` (Node) for it, or a smaller or more quantized file");
  }
}

async function fetchBytes(id: number, url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok || r.body === null) throw new PeelError("IO", `cannot fetch the shipped model ${url}: HTTP ${r.status}`);
  const total = Number(r.headers.get("Content-Length") ?? 0);
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (const reader = r.body.getReader(); ;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    post({ type: "progress", id, loaded, total, what: "the shipped model" });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function folderOf(files: readonly File[]): FolderSource {
  const byName = new Map(files.map((f) => [f.name, f]));
  return {
    description: `dropped folder (${files.length} files)`,
    open: async (name: string): Promise<ByteSource | undefined> => {
      const f = byName.get(name);
      return f === undefined ? undefined : blobSource(f, name);
    },
  };
}

async function loadFiles(id: number, files: readonly File[]): Promise<Model> {
  const total = files.reduce((s, f) => s + f.size, 0);
  if (files.some((f) => f.name === "config.json")) {
    checkSize(total, "this folder");
    return loadModelFromFolder(folderOf(files), loadOptions(id, "the folder"));
  }
  const modelFiles = files.filter((f) => MODEL_FILE.test(f.name));
  const main = modelFiles.find((f) => /\.gguf$/i.test(f.name)) ?? modelFiles.find((f) => f.name !== "tokenizer.bin");
  if (main === undefined) {
    const names = files.map((f) => f.name).join(", ");
    throw new PeelError("UNSUPPORTED", `cannot inspect ${names}: drop a .gguf file, a llama2.c .bin (with its tokenizer.bin), ` +
      "or a Hugging Face folder's files (config.json, *.safetensors, tokenizer.json)");
  }
  checkSize(main.size, main.name);
  const tokenizer = files.find((f) => f !== main && f.name === "tokenizer.bin");
  const opts = loadOptions(id, main.name);
  return loadModelFromSource(blobSource(main, main.name), tokenizer === undefined ? opts : { ...opts, tokenizerSource: blobSource(tokenizer, tokenizer.name) });
}

/** The tokenizer.json files the build put beside the app (tokenizers/index.json lists them). */
let library: Promise<TokenizerLibrary | undefined> | undefined;
function shippedTokenizers(): Promise<TokenizerLibrary | undefined> {
  library ??= fetch(new URL("../tokenizers/index.json", self.location.href))
    .then((r) => (r.ok ? (r.json() as Promise<{ names: string[] }>) : { names: [] }))
    .then((m): TokenizerLibrary => ({
      names: m.names,
      async load(name) {
        const r = await fetch(new URL(`../tokenizers/${name}.json`, self.location.href));
        if (!r.ok) throw new PeelError("IO", `cannot fetch the ${name} tokenizer: HTTP ${r.status}`);
        return tokenizerFromBytes(new Uint8Array(await r.arrayBuffer()), `${name}.json`);
      },
    }))
    .catch(() => undefined);
  return library;
}

async function replaceModel(next: Model): Promise<{ name: string }> {
  const old = model;
  model = next;
  const lib = await shippedTokenizers();
  inspector = createInspector(next, lib === undefined ? {} : { tokenizerLibrary: lib });
  await old?.dispose();
  return { name: next.info.name ?? next.info.source };
}

async function handle(m: ToWorker): Promise<unknown> {
  switch (m.type) {
    case "set-limit":
      limit = Math.min(WASM_LIMIT, m.maxBytes);
      return { limit };
    case "load-default": {
      const bytes = await fetchBytes(m.id, m.url);
      return replaceModel(await loadModelFromSource(bytesSource(bytes, "peel-tinystories-1m.gguf"), loadOptions(m.id, "the shipped model")));
    }
    case "load-files":
      return replaceModel(await loadFiles(m.id, m.files));
    case "add-tokenizer": {
      if (inspector === undefined) throw new PeelError("INVALID_ARGUMENT", "no model is loaded yet");
      inspector.addTokenizer(m.file.name, await tokenizerFromBytes(new Uint8Array(await m.file.arrayBuffer()), m.file.name));
      return inspector.tokenizers();
    }
    case "call":
      if (inspector === undefined) throw new PeelError("INVALID_ARGUMENT", "no model is loaded yet");
      return await callInspector(inspector, m.method, m.params);
  }
}

// One message at a time: a forward pass must not interleave with a model being replaced.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  queue = queue.then(async () => {
    try {
      post({ type: "result", id: m.id, result: await handle(m) });
    } catch (err) {
      const code = err instanceof PeelError ? err.code : err instanceof RangeError ? "MEMORY" : "INTERNAL";
      const message = err instanceof RangeError ? `out of memory in the browser: ${err.message}` : (err as Error).message;
      post({ type: "error", id: m.id, code, message });
    }
  });
};
