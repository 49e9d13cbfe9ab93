/**
 * What the views talk to: an Engine answers inspector calls (inspect/protocol.ts method names) and, in the
 * page, loads models. Two implementations: the HTTP client of `peel inspect` (server.ts) and a Worker that
 * runs Peel itself in the page (worker-client.ts). Views never compute; they draw what `call` returns.
 */

export type EngineMode = "server" | "page";

export interface LoadStatus {
  readonly phase: "idle" | "loading" | "ready" | "error";
  readonly message: string;
  /** 0..1 while loading. */
  readonly progress?: number;
}

export interface Engine {
  readonly mode: EngineMode;
  /** One inspector call; rejects with an Error whose message is the engine's. */
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Loads a model from dropped files (page mode only); the server's model is fixed. */
  loadFiles?(files: readonly File[]): Promise<void>;
  /** Adds a tokenizer file to compare (page mode; the server takes --compare). */
  addTokenizer?(file: File): Promise<unknown>;
  /** Loads the shipped model (page mode). */
  loadDefault?(): Promise<void>;
  onStatus(fn: (s: LoadStatus) => void): void;
}

/** Error shape both engines send. */
export interface EngineError {
  readonly code: string;
  readonly message: string;
}
