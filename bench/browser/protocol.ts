/**
 * What the page of `npm run bench:browser` answers (page.ts) and what its Peel worker is sent (peel-worker.ts).
 * Type-only: bench/browser.ts calls these through Playwright and parses the answers, which arrive as unknown.
 */

export type Engine = "peel" | "wllama";

/** One run: milliseconds of one prefill of the prompt and of `gen` greedy decode steps, and the counts timed. */
export interface RunTimes {
  readonly promptN: number;
  readonly prefillMs: number;
  readonly decodeN: number;
  readonly decodeMs: number;
}

/**
 * The prompt of a model: wllama takes text only (its completion call tokenizes), so both engines get one text,
 * and Peel the ids its tokenizer (llama.cpp's, by the parity suite) makes of it, BOS included where the model
 * adds one, as llama-server does. The runner checks that wllama timed as many prompt tokens.
 */
export interface Prompt {
  readonly text: string;
  readonly ids: readonly number[];
}

/** The page's API, on `globalThis.bench`. `key` names one loaded engine instance (engine, model, threads). */
export interface BenchPage {
  /** Loads the model at `url` into a new instance; resolves to the model's vocabulary size. */
  load(engine: Engine, key: string, url: string, threads: number, contextLength: number): Promise<number>;
  /** A prompt of exactly `n` tokens for the model of the Peel instance `key`. */
  prompt(key: string, n: number): Promise<Prompt>;
  run(key: string, prompt: Prompt, gen: number): Promise<RunTimes>;
  unload(key: string): Promise<void>;
  /** Whether the page is cross-origin isolated (SharedArrayBuffer, so threads, need it). */
  isolated(): boolean;
}

export type ToPeelWorker =
  | { readonly id: number; readonly op: "load"; readonly url: string; readonly threads: number; readonly contextLength: number }
  | { readonly id: number; readonly op: "prompt"; readonly n: number }
  | { readonly id: number; readonly op: "run"; readonly prompt: readonly number[]; readonly gen: number };

export type FromPeelWorker =
  | { readonly id: number; readonly ok: true; readonly value: number | RunTimes | Prompt }
  | { readonly id: number; readonly ok: false; readonly error: string };
