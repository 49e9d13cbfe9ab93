/**
 * `trainBpe`: learns a BPE vocabulary of a given size from texts, deterministically.
 *  - "byte-level" (GPT-2 style): GPT-2 regex pre-tokenizer, the 256 bytes as the alphabet (written with
 *    GPT-2's printable byte map), merges of the most frequent pair; default special token <|endoftext|>.
 *  - "sentencepiece" (Llama 2 style): spaces become "▁" with one in front of each line, the characters
 *    covering 99.95 % of the text as the alphabet, <0x00>..<0xFF> byte-fallback pieces for the rest;
 *    <unk>, <s>, </s> always come first.
 * Texts that loaders promote to control tokens by their text (`<|end|>`, `</s>`, `<|im_end|>`, ...) are never
 * learned as ordinary pieces, so a trained model cannot stop generating on a piece of its data.
 * Vocabulary order: special tokens, then (sentencepiece) the byte pieces, then the alphabet, then merged
 * tokens in the order learned. It reads no files (files.node.ts does) and writes no JSON (hf-json.ts does).
 */

import { PeelError } from "../../util/errors.js";
import { byteToUnicode, unicodeToByte } from "../utf8.js";
import { CONTROL_LOOKING_TEXTS } from "../vocab-index.js";
import { learnMerges, MAX_SYMBOLS } from "./merge.js";
import { byteLevelWords, sentencePieceWords } from "./words.js";

export type BpeKind = "byte-level" | "sentencepiece";
export const BPE_KINDS: readonly BpeKind[] = ["byte-level", "sentencepiece"];

export interface TrainBpeOptions {
  /** The training text; each item is a document (sentencepiece kind: split further into lines). */
  readonly texts: Iterable<string>;
  /** The size of the final vocabulary, special tokens included. */
  readonly vocabSize: number;
  readonly kind?: BpeKind;
  /** A pair seen fewer times than this is never merged (training may then stop short). Default 2. */
  readonly minFrequency?: number;
  /** Byte-level: replaces the default <|endoftext|>. Sentencepiece: added after <unk>, <s>, </s>. */
  readonly specialTokens?: readonly string[];
  /** Sentencepiece kind: the share of character occurrences the alphabet must cover. Default 0.9995. */
  readonly characterCoverage?: number;
  /** Called now and then with (new tokens learned, new tokens wanted). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface TrainedBpe {
  readonly kind: BpeKind;
  /** Token texts by id, as a tokenizer.json vocabulary writes them. */
  readonly vocab: readonly string[];
  /** Merges in rank order, as token texts. */
  readonly merges: ReadonlyArray<readonly [string, string]>;
  readonly specialTokens: readonly string[];
  /** The unknown token (sentencepiece kind), else undefined. */
  readonly unkToken: string | undefined;
  /** The vocabulary size asked for; `vocab.length` is smaller when pairs ran out. */
  readonly requestedSize: number;
}

export const MAX_VOCAB_SIZE = 1_000_000;
const SPM_SPECIALS = ["<unk>", "<s>", "</s>"];

export const bytePieceName = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;

/** The smallest vocabulary `trainBpe` accepts for this kind and these special tokens. */
export function minVocabSize(kind: BpeKind, specialTokens?: readonly string[]): number {
  return specialsFor(kind, specialTokens).length + 256 + 1;
}

function specialsFor(kind: BpeKind, given: readonly string[] | undefined): string[] {
  const list = kind === "sentencepiece" ? [...SPM_SPECIALS, ...(given ?? [])] : [...(given ?? ["<|endoftext|>"])];
  return [...new Set(list)];
}

function checkOptions(opts: TrainBpeOptions, kind: BpeKind, specials: readonly string[]): void {
  if (!BPE_KINDS.includes(kind)) throw new PeelError("INVALID_ARGUMENT", `BPE training: unknown kind ${JSON.stringify(kind)}; kinds: ${BPE_KINDS.join(", ")}`);
  const min = specials.length + 257;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < min || opts.vocabSize > MAX_VOCAB_SIZE) {
    throw new PeelError("INVALID_ARGUMENT", `BPE training: vocabulary size must be an integer from ${min} (${specials.length} special tokens + 256 bytes + 1) to ${MAX_VOCAB_SIZE}, got ${opts.vocabSize}`);
  }
  if (specials.some((s) => s.length === 0)) throw new PeelError("INVALID_ARGUMENT", "BPE training: a special token cannot be empty");
  const coverage = opts.characterCoverage ?? 0.9995;
  if (!(coverage > 0 && coverage <= 1)) throw new PeelError("INVALID_ARGUMENT", `BPE training: character coverage must be in (0, 1], got ${coverage}`);
}

/** Merges never re-make a special token, but a one-character special token can equal an alphabet symbol. */
function unique(vocab: string[]): string[] {
  const seen = new Set<string>();
  for (const t of vocab) {
    if (seen.has(t)) throw new PeelError("INVALID_ARGUMENT", `BPE training: special token ${JSON.stringify(t)} is also a base symbol of the alphabet; pick a longer special token`);
    seen.add(t);
  }
  return vocab;
}

export async function trainBpe(opts: TrainBpeOptions): Promise<TrainedBpe> {
  const kind = opts.kind ?? "byte-level";
  const specials = specialsFor(kind, opts.specialTokens);
  checkOptions(opts, kind, specials);
  if (opts.signal?.aborted === true) throw new PeelError("ABORTED", "BPE training was interrupted");
  const minFrequency = Math.max(1, opts.minFrequency ?? 2);
  const progress = opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {};
  const signal = opts.signal !== undefined ? { signal: opts.signal } : {};
  if (kind === "byte-level") {
    const table = byteLevelWords(opts.texts);
    // Merge texts are raw byte strings here; a special token made of mapped byte chars must not be re-made.
    const toByte = unicodeToByte();
    const reserved = new Set(specials.filter((s) => Array.from(s).every((c) => toByte.has(c)))
      .map((s) => Array.from(s, (c) => String.fromCharCode(toByte.get(c) ?? 0)).join("")));
    for (const t of CONTROL_LOOKING_TEXTS) reserved.add(String.fromCharCode(...new TextEncoder().encode(t)));
    const learned = await learnMerges(table, { targetSymbols: Math.min(MAX_SYMBOLS, opts.vocabSize - specials.length), minFrequency, reserved, ...progress, ...signal });
    const map = byteToUnicode();
    const text = (raw: string): string => Array.from(raw, (c) => map[c.charCodeAt(0)] ?? "").join("");
    const symbols = learned.symbols.map(text);
    return {
      kind, vocab: unique([...specials, ...symbols]), specialTokens: specials, unkToken: undefined, requestedSize: opts.vocabSize,
      merges: learned.merges.map(([a, b]) => [symbols[a] ?? "", symbols[b] ?? ""] as const),
    };
  }
  const room = opts.vocabSize - specials.length - 256;
  const table = sentencePieceWords(opts.texts, opts.characterCoverage ?? 0.9995, room);
  const bytePieces = Array.from({ length: 256 }, (_, b) => bytePieceName(b));
  const reserved = new Set([...specials, ...bytePieces, ...CONTROL_LOOKING_TEXTS]);
  const learned = await learnMerges(table, { targetSymbols: room, minFrequency, reserved, ...progress, ...signal });
  return {
    kind, vocab: unique([...specials, ...bytePieces, ...learned.symbols]), specialTokens: specials, unkToken: "<unk>", requestedSize: opts.vocabSize,
    merges: learned.merges.map(([a, b]) => [learned.symbols[a] ?? "", learned.symbols[b] ?? ""] as const),
  };
}
