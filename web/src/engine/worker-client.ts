/**
 * The in-page engine: Peel runs in a dedicated Worker (engine.worker.ts) so the page stays responsive while
 * a model loads or a forward pass runs; its WebAssembly kernels start their own thread pool there when the
 * page is cross-origin isolated. Calls are numbered and answered in order.
 */

import type { Engine, LoadStatus } from "./engine";
import type { FromWorker, ToWorker } from "./messages";

export function createWorkerEngine(): Engine {
  const worker = new Worker(new URL("./engine.worker.ts", import.meta.url), { type: "module" });
  let next = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  let listener: (s: LoadStatus) => void = () => {};

  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === "progress") {
      listener({ phase: "loading", message: `loading ${m.what}`, progress: m.total > 0 ? m.loaded / m.total : 0 });
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.type === "result") p.ok(m.result);
    else p.fail(new Error(m.message));
  };
  worker.onerror = (e) => {
    listener({ phase: "error", message: `the engine worker failed: ${e.message}` });
    for (const p of pending.values()) p.fail(new Error(e.message));
    pending.clear();
  };

  type Unsent = ToWorker extends infer M ? (M extends ToWorker ? Omit<M, "id"> : never) : never;
  const send = <T>(msg: Unsent): Promise<T> =>
    new Promise<T>((ok, fail) => {
      const id = next++;
      pending.set(id, { ok: ok as (v: unknown) => void, fail });
      worker.postMessage({ ...msg, id } as ToWorker);
    });

  const load = async (what: string, run: () => Promise<{ name: string }>): Promise<void> => {
    listener({ phase: "loading", message: `loading ${what}`, progress: 0 });
    try {
      const r = await run();
      listener({ phase: "ready", message: `in-page engine: ${r.name}` });
    } catch (e) {
      listener({ phase: "error", message: (e as Error).message });
      throw e;
    }
  };

  const maxMiB = Number(new URLSearchParams(location.search).get("maxModelMiB") ?? "");
  if (Number.isFinite(maxMiB) && maxMiB > 0) void send({ type: "set-limit", maxBytes: maxMiB * 1024 * 1024 });

  return {
    mode: "page",
    call: <T>(method: string, params: Record<string, unknown> = {}) => send<T>({ type: "call", method, params }),
    loadDefault: () => load("the shipped model", () => send({ type: "load-default", url: new URL("./models/peel-tinystories-1m.gguf", document.baseURI).href })),
    addTokenizer: (file) => send({ type: "add-tokenizer", file }),
    loadFiles: (files) => load(files.map((f) => f.name).join(", "), () => send({ type: "load-files", files })),
    onStatus(fn) {
      listener = fn;
    },
  };
}
