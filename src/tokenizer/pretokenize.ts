/**
 * Pre-tokenizers for byte-level BPE: the regex lists llama.cpp applies for each `tokenizer.ggml.pre`
 * name, and the splitter. Each regex in a list further splits the pieces left by the previous one, and
 * the text between matches is kept as pieces of its own (so no character is ever dropped). Whitespace
 * means Unicode White_Space (as llama.cpp's tables do), not JavaScript's \s. Also the cutter that lets
 * SentencePiece-style encoders (whose whole input is one word) work piece by piece: `createMarkCutter`.
 * No BPE merging here.
 */

import { PeelError } from "../util/errors.js";

const WS = "\\p{White_Space}";
const NWS = "\\P{White_Space}";
const CONTRACTIONS = "'s|'t|'re|'ve|'m|'ll|'d";
const CONTRACTIONS_ANY_CASE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2 = `${CONTRACTIONS}| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${WS}+(?!${NWS})|${WS}+`;
// The same shape with "\\p{N}{1,3}" or "\\p{N}" for digits.
const llama3Like = (digits: string): string =>
  `${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${digits}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${WS}*[\\r\\n]+|${WS}+(?!${NWS})|${WS}+`;
const CJK = "[\\u{4E00}-\\u{9FA5}\\u{800}-\\u{4E00}\\u{AC00}-\\u{D7FF}]+";
// Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee and other cased-letter ranges DeepSeek-LLM groups as words.
const DEEPSEEK_LETTERS =
  "A-Za-z\\u{B5}\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{1BA}\\u{1BC}-\\u{1BF}\\u{1C4}-\\u{293}\\u{295}-\\u{2AF}\\u{370}-\\u{373}\\u{376}\\u{377}\\u{37B}-\\u{37D}\\u{37F}\\u{386}\\u{388}-\\u{38A}\\u{38C}\\u{38E}-\\u{3A1}\\u{3A3}-\\u{3F5}\\u{3F7}-\\u{481}\\u{48A}-\\u{52F}\\u{531}-\\u{556}\\u{10A0}-\\u{10C5}\\u{13A0}-\\u{13F5}\\u{13F8}-\\u{13FD}\\u{1C90}-\\u{1CBA}\\u{1CBD}-\\u{1CBF}\\u{1D00}-\\u{1D2B}\\u{1D6B}-\\u{1D77}\\u{1D79}-\\u{1D9A}\\u{1E00}-\\u{1F15}\\u{1F18}-\\u{1F1D}\\u{1F20}-\\u{1F45}\\u{1F48}-\\u{1F4D}\\u{1F50}-\\u{1F57}\\u{1F59}\\u{1F5B}\\u{1F5D}\\u{1F5F}-\\u{1F7D}\\u{1F80}-\\u{1FB4}\\u{1FB6}-\\u{1FBC}\\u{1FBE}\\u{1FC2}-\\u{1FC4}\\u{1FC6}-\\u{1FCC}\\u{1FD0}-\\u{1FD3}\\u{1FD6}-\\u{1FDB}\\u{1FE0}-\\u{1FEC}\\u{1FF2}-\\u{1FF4}\\u{1FF6}-\\u{1FFC}\\u{2102}\\u{2107}\\u{210A}-\\u{2113}\\u{2115}\\u{2119}-\\u{211D}\\u{2124}\\u{2126}\\u{2128}\\u{212A}-\\u{212D}\\u{212F}-\\u{2134}\\u{2139}\\u{213C}-\\u{213F}\\u{2145}-\\u{2149}\\u{214E}\\u{2183}\\u{2184}\\u{2C00}-\\u{2C7B}\\u{2C7E}-\\u{2CE4}\\u{2CEB}-\\u{2CEE}\\u{2CF2}\\u{2CF3}\\u{A640}-\\u{A66D}\\u{A680}-\\u{A69B}\\u{A722}-\\u{A76F}\\u{A771}-\\u{A787}\\u{A78B}-\\u{A78E}\\u{AB70}-\\u{ABBF}\\u{FB00}-\\u{FB06}\\u{FB13}-\\u{FB17}\\u{FF21}-\\u{FF3A}\\u{FF41}-\\u{FF5A}\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}";

/** Regex sources per pre-tokenizer family. */
const FAMILIES = {
  default: ["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"],
  gpt2: [GPT2],
  llama3: [llama3Like("\\p{N}{1,3}")],
  qwen2: [llama3Like("\\p{N}")],
  falcon: ["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"],
  starcoder: ["\\p{N}", GPT2],
  deepseekLlm: ["[\\r\\n]", `${WS}?[${DEEPSEEK_LETTERS}]+`, `${WS}?[!-/:-~\\u{FF01}-\\u{FF0F}\\u{FF1A}-\\u{FF5E}\\u{2018}-\\u{201F}\\u{3000}-\\u{3002}]+`, `${WS}+$`, CJK, "\\p{N}+"],
  deepseekCoder: ["[\\r\\n]", `${WS}?\\p{L}+`, `${WS}?\\p{P}+`, CJK, "\\p{N}"],
} as const satisfies Record<string, readonly string[]>;

export type PreTokenizerFamily = keyof typeof FAMILIES;

interface PreSettings {
  readonly family: PreTokenizerFamily;
  /** Skip merges for a word that is already a piece (llama.cpp `ignore_merges`). */
  readonly ignoreMerges?: boolean;
  /** Add BOS unless the file says otherwise. */
  readonly addBos?: boolean;
  /** Apply llama.cpp's clean_up_tokenization_spaces when decoding (default true for byte-level BPE). */
  readonly cleanSpaces?: boolean;
}

const llama3: PreSettings = { family: "llama3", ignoreMerges: true, addBos: true };
const noClean = (family: PreTokenizerFamily): PreSettings => ({ family, cleanSpaces: false });

/** `tokenizer.ggml.pre` names (llama.cpp's naming) -> regex family and flags. */
const PRE_NAMES: Readonly<Record<string, PreSettings>> = {
  default: { family: "default" },
  "gpt-2": { family: "gpt2" }, "phi-2": { family: "gpt2" }, mpt: { family: "gpt2" }, olmo: { family: "gpt2" }, jais: { family: "gpt2" },
  "jina-es": { family: "gpt2" }, "jina-de": { family: "gpt2" }, "jina-v2-es": { family: "gpt2" }, "jina-v2-de": { family: "gpt2" }, gigachat: { family: "gpt2" },
  llama3, "llama-v3": llama3, "llama-bpe": llama3, falcon3: llama3, pixtral: llama3,
  dbrx: { family: "llama3" }, "smaug-bpe": { family: "llama3" },
  qwen2: noClean("qwen2"), "deepseek-r1-qwen": noClean("qwen2"), stablelm2: { family: "qwen2" }, megrez: { family: "qwen2" },
  falcon: { family: "falcon" },
  starcoder: { family: "starcoder" }, refact: { family: "starcoder" }, "command-r": noClean("starcoder"), smollm: noClean("starcoder"),
  codeshell: { family: "starcoder" }, exaone: { family: "starcoder" }, "minerva-7b": { family: "starcoder" },
  "deepseek-llm": noClean("deepseekLlm"),
  "deepseek-coder": noClean("deepseekCoder"),
};

/** Pre-tokenizer names this build understands. */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_NAMES);

export interface PreTokenizer {
  readonly name: string;
  readonly family: PreTokenizerFamily;
  readonly regexes: readonly RegExp[];
  readonly ignoreMerges: boolean;
  readonly addBosDefault: boolean;
  readonly cleanSpaces: boolean;
}

const compiled = new Map<PreTokenizerFamily, RegExp[]>();

/** Looks up a `tokenizer.ggml.pre` name; undefined means "default" as in llama.cpp. */
export function preTokenizerFor(name: string | undefined): PreTokenizer {
  const key = name ?? "default";
  const settings = PRE_NAMES[key];
  if (settings === undefined) {
    throw new PeelError("UNSUPPORTED", `tokenizer: pre-tokenizer ${JSON.stringify(key)} is not supported; supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`);
  }
  const family = settings.family;
  let regexes = compiled.get(family);
  if (!regexes) {
    regexes = FAMILIES[family].map((src) => new RegExp(src, "gu"));
    compiled.set(family, regexes);
  }
  return {
    name: key, family, regexes,
    ignoreMerges: settings.ignoreMerges ?? false,
    addBosDefault: settings.addBos ?? false,
    cleanSpaces: settings.cleanSpaces ?? true,
  };
}

/** Splits text into words; concatenating the result gives back the text. */
export function preTokenize(pre: PreTokenizer, text: string): string[] {
  let pieces = text.length > 0 ? [text] : [];
  for (const re of pre.regexes) {
    const next: string[] = [];
    for (const piece of pieces) splitPiece(re, piece, next);
    pieces = next;
  }
  return pieces;
}

function splitPiece(re: RegExp, piece: string, out: string[]): void {
  re.lastIndex = 0;
  let last = 0;
  for (let m = re.exec(piece); m !== null; m = re.exec(piece)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) {
      const c = piece.charCodeAt(s);
      re.lastIndex = s + (c >= 0xd800 && c <= 0xdbff ? 2 : 1); // empty matches cut nothing
      continue;
    }
    if (s > last) out.push(piece.slice(last, s));
    out.push(piece.slice(s, e));
    last = e;
  }
  if (last < piece.length) out.push(piece.slice(last));
}

/** Calls `fn` with consecutive pieces of `text` that concatenate to it. */
export type TextCutter = (text: string, fn: (piece: string) => void) => void;

/** At most this many pieces may span a cut place; more and no cutter is made. */
const MAX_SPANNING = 256;

/**
 * For encoders that only ever join adjacent symbols into pieces of the vocabulary (SentencePiece BPE by
 * score, BPE by rank over characters): text can be cut before every `mark` (▁, the escaped space) that
 * follows another character, because no symbol can ever span that place unless some piece spans it —
 * a piece with a character other than `mark` followed by `mark`. `pieces` are all the texts a merge can
 * make; those that span such a place are checked where they occur (the cut is skipped there). Both
 * sides then encode on their own with the same result, whatever the merge order, since no pair across
 * the cut can merge. Undefined when too many pieces span (then there is nothing to gain) or when
 * `reject` refuses one of them (a piece whose text is not the text it covers, such as byte tokens').
 */
export function createMarkCutter(pieces: Iterable<string>, mark = "\u2581", reject?: (piece: string) => boolean): TextCutter | undefined {
  const spanning: Array<readonly [piece: string, at: number]> = [];
  for (const p of pieces) {
    for (let j = p.indexOf(mark, 1); j > 0; j = p.indexOf(mark, j + 1)) {
      if (p.startsWith(mark, j - mark.length)) continue;
      if (reject?.(p)) return undefined;
      spanning.push([p, j]);
      if (spanning.length > MAX_SPANNING) return undefined;
    }
  }
  const cutsAt = (text: string, i: number): boolean => {
    if (text.startsWith(mark, i - mark.length)) return false;
    for (const [p, j] of spanning) if (i >= j && text.startsWith(p, i - j)) return false;
    return true;
  };
  return (text, fn) => {
    let from = 0;
    for (let i = text.indexOf(mark, 1); i > 0; i = text.indexOf(mark, i + mark.length)) {
      if (!cutsAt(text, i)) continue;
      fn(from === 0 && i === text.length ? text : text.slice(from, i));
      from = i;
    }
    if (from < text.length) fn(from === 0 ? text : text.slice(from));
  };
}
