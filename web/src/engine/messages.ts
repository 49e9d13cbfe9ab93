/** Messages between the page and the engine Worker (engine.worker.ts). */

export type ToWorker =
  | { readonly type: "set-limit"; readonly id: number; readonly maxBytes: number }
  | { readonly type: "load-default"; readonly id: number; readonly url: string }
  | { readonly type: "load-files"; readonly id: number; readonly files: readonly File[] }
  | { readonly type: "add-tokenizer"; readonly id: number; readonly file: File }
  | { readonly type: "call"; readonly id: number; readonly method: string; readonly params: Record<string, unknown> };

export type FromWorker =
  | { readonly type: "result"; readonly id: number; readonly result: unknown }
  | { readonly type: "error"; readonly id: number; readonly code: string; readonly message: string }
  | { readonly type: "progress"; readonly id: number; readonly loaded: number; readonly total: number; readonly what: string };
