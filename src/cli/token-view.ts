/**
 * How `peel tokenize` shows tokens: each token's text as it decodes (bytes that are not complete UTF-8 shown as
 * <0xNN>), drawn with alternating background colours on a terminal so the boundaries are visible, or as plain
 * records for JSON. Pure formatting: no file access, no tokenizer loading.
 */

import type { Tokenizer } from "../tokenizer/types.js";
import { escapePiece } from "./format.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The text a token stands for, or its bytes as <0xNN> when they are not complete UTF-8 on their own. */
export function tokenText(tokenizer: Tokenizer, id: number): string {
  const bytes = tokenizer.tokenBytes(id);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return Array.from(bytes, (b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`).join("");
  }
}

// background colours that keep default foreground text readable on light and dark terminals
const BACKGROUNDS = ["\x1b[48;5;24m", "\x1b[48;5;94m", "\x1b[48;5;28m", "\x1b[48;5;90m", "\x1b[48;5;130m", "\x1b[48;5;23m"];
const RESET = "\x1b[0m";

/** The tokens' texts side by side, each on its own colour (control characters escaped so the line stays one line). */
export function colouredTokens(tokenizer: Tokenizer, ids: readonly number[]): string {
  return ids.map((id, i) => `${BACKGROUNDS[i % BACKGROUNDS.length]}${escapePiece(tokenText(tokenizer, id))}${RESET}`).join("");
}

/** The same tokens separated by a visible bar, for terminals without colour (NO_COLOR). */
export function barredTokens(tokenizer: Tokenizer, ids: readonly number[]): string {
  return ids.map((id) => escapePiece(tokenText(tokenizer, id))).join("|");
}
