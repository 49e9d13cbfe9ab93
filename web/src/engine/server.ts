/**
 * The engine behind `peel inspect`: every call is `POST /api/call {method, params}` to the page's own
 * origin. A closed server becomes a clear message, and the next call tries again.
 */

import type { Engine, EngineError, LoadStatus } from "./engine";

export async function detectServer(): Promise<{ model: string } | undefined> {
  try {
    const r = await fetch("./api/health", { cache: "no-store" });
    if (!r.ok) return undefined;
    const body = (await r.json()) as { mode?: string; model?: string };
    return body.mode === "server" ? { model: body.model ?? "" } : undefined;
  } catch {
    return undefined;
  }
}

export function createServerEngine(modelName: string): Engine {
  let listener: (s: LoadStatus) => void = () => {};
  return {
    mode: "server",
    async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      let r: Response;
      try {
        r = await fetch("./api/call", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ method, params }) });
      } catch {
        listener({ phase: "error", message: "The peel inspect server cannot be reached (was it stopped?). Start it again and retry." });
        throw new Error("the peel inspect server cannot be reached: is it still running?");
      }
      const body = (await r.json().catch(() => ({ error: { code: "HTTP", message: `HTTP ${r.status} with a body that is not JSON` } }))) as { result?: T; error?: EngineError };
      if (body.error !== undefined) throw new Error(body.error.message);
      listener({ phase: "ready", message: `server model ${modelName}` });
      return body.result as T;
    },
    onStatus(fn) {
      listener = fn;
      fn({ phase: "ready", message: `server model ${modelName}` });
    },
  };
}
