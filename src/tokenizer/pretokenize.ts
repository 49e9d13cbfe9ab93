/**
 * Pre-tokenizers for byte-level BPE: the regex lists llama.cpp applies for each `tokenizer.ggml.pre`
 * name, and the splitter. Each regex in a list further splits the pieces left by the previous one, and
 * the text between matches is kept as pieces of its own (so no character is ever dropped). Whitespace
 * means Unicode White_Space (as llama.cpp's tables do), not JavaScript's \s. No BPE merging here.
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
const CJK = "[一-龥ࠀ-一가-퟿]+";
// Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee and other cased-letter ranges DeepSeek-LLM groups as words.
const DEEPSEEK_LETTERS =
  "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃";

/** Regex sources per pre-tokenizer family. */
const FAMILIES = {
  default: ["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"],
  gpt2: [GPT2],
  llama3: [llama3Like("\\p{N}{1,3}")],
  qwen2: [llama3Like("\\p{N}")],
  falcon: ["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"],
  starcoder: ["\\p{N}", GPT2],
  deepseekLlm: ["[\\r\\n]", `${WS}?[${DEEPSEEK_LETTERS}]+`, `${WS}?[!-/:-~！-／：-～‘-‟　-。]+`, `${WS}+$`, CJK, "\\p{N}+"],
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
