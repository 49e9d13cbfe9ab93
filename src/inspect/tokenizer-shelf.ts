/**
 * The tokenizers the inspector's playground compares side by side: the model's own, plus others loaded by
 * name from a library the host provides (the static app fetches tokenizer.json files shipped beside it; the
 * server reads them from disk) or added directly (a file the user dropped). It also turns a merge-ranked
 * BPE tokenizer's merge trace into rows of pieces for display. Holds tokenizers; runs no model.
 */

import type { Tokenizer } from "../tokenizer/types.js";
import { PeelError } from "../util/errors.js";

/** Where tokenizers other than the model's come from, by name. */
export interface TokenizerLibrary {
  readonly names: readonly string[];
  load(name: string): Promise<Tokenizer>;
}

export const MODEL_TOKENIZER = "model";

export interface TokenizerShelf {
  /** Loaded names (the model's first) and the library's names not yet loaded. */
  list(): { readonly loaded: readonly string[]; readonly available: readonly string[] };
  get(name?: string): Tokenizer;
  add(name: string, tokenizer: Tokenizer): void;
  load(name: string): Promise<void>;
}

export function createTokenizerShelf(model: Tokenizer, library: TokenizerLibrary | undefined): TokenizerShelf {
  const loaded = new Map<string, Tokenizer>([[MODEL_TOKENIZER, model]]);
  return {
    list: () => ({ loaded: [...loaded.keys()], available: (library?.names ?? []).filter((n) => !loaded.has(n)) }),
    get(name = MODEL_TOKENIZER) {
      const t = loaded.get(name);
      if (t === undefined) throw new PeelError("INVALID_ARGUMENT", `inspect: no tokenizer "${name}" is loaded; loaded: ${[...loaded.keys()].join(", ")}`);
      return t;
    },
    add(name, tokenizer) {
      if (name === MODEL_TOKENIZER) throw new PeelError("INVALID_ARGUMENT", `inspect: "${MODEL_TOKENIZER}" names the model's own tokenizer; pick another name`);
      loaded.set(name, tokenizer);
    },
    async load(name) {
      if (loaded.has(name)) return;
      if (library === undefined || !library.names.includes(name)) {
        throw new PeelError("INVALID_ARGUMENT", `inspect: no tokenizer "${name}" to load; available: ${(library?.names ?? []).join(", ") || "none"}`);
      }
      loaded.set(name, await library.load(name));
    },
  };
}

/** One word's merges as rows of pieces: row 0 the bytes, each later row after one more merge. */
export interface MergeRowsWord {
  readonly word: string;
  readonly rows: ReadonlyArray<{ readonly pieces: readonly string[]; readonly merge: { readonly rank: number; readonly at: number; readonly left: string; readonly right: string } | null }>;
  readonly ids: readonly number[];
  /** The word is a piece of its own and skipped merging. */
  readonly whole: boolean;
}

export interface MergeRows {
  /** False when this tokenizer is not merge-ranked BPE (SentencePiece, WordPiece, tokenizer.json pipelines). */
  readonly supported: boolean;
  readonly kind: string;
  readonly words: readonly MergeRowsWord[];
}

/** Words traced at most (a paragraph); the rest of the text is left out of the trace. */
const MAX_WORDS = 200;

export function mergeRows(tok: Tokenizer, text: string): MergeRows {
  if (tok.traceMerges === undefined) return { supported: false, kind: tok.kind, words: [] };
  const piece = (id: number): string => (id < 0 ? "<no byte>" : tok.piece(id));
  const words = tok.traceMerges(text).words.slice(0, MAX_WORDS).map((w): MergeRowsWord => {
    const sym = [...w.initial];
    const rows: Array<MergeRowsWord["rows"][number]> = [{ pieces: sym.map(piece), merge: null }];
    for (const m of w.merges) {
      sym.splice(m.at, 2, m.merged);
      rows.push({ pieces: sym.map(piece), merge: { rank: m.rank, at: m.at, left: piece(m.left), right: piece(m.right) } });
    }
    return { word: w.word, rows, ids: w.ids, whole: w.whole };
  });
  return { supported: true, kind: tok.kind, words };
}
