/**
 * Small text formatters for command output: visible escapes for control characters in token pieces,
 * aligned tables, grouped integers, tokens-per-second. Pure string functions; no I/O.
 */

const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

/** Shows a token piece on one line: backslash escapes for newlines, tabs, other control characters and backslash. */
export function escapePiece(piece: string): string {
  let out = "";
  for (const ch of piece) {
    const named = NAMED_ESCAPES[ch];
    const code = ch.codePointAt(0) ?? 0;
    if (named !== undefined) out += named;
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code === 0x2028 || code === 0x2029 || code === 0xfeff) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out;
}

/** 15191712 → "15,191,712". */
export function groupDigits(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 15191712 → "15.2M". */
export function shortCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Tokens per second, or null when nothing was timed (JSON has no Infinity). */
export function tokensPerSecond(tokens: number, ms: number): number | null {
  if (tokens === 0 || ms <= 0) return null;
  return Math.round((tokens / ms) * 1000 * 100) / 100;
}

/** Rows of cells, columns padded to their widest cell; `right` lists right-aligned column indices. */
export function table(rows: ReadonlyArray<readonly string[]>, right: readonly number[] = [], indent = "  "): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => indent + row.map((cell, i) => {
    const w = widths[i] ?? 0;
    return right.includes(i) ? cell.padStart(w) : i === row.length - 1 ? cell : cell.padEnd(w);
  }).join("  "));
}

/** Nested plain objects → ["a.b", value] pairs, in key order (for showing every config field). */
export function flatten(value: unknown, prefix = ""): Array<[string, string]> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [[prefix, formatScalar(value)]];
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value)) out.push(...flatten(v, prefix === "" ? k : `${prefix}.${k}`));
  return out;
}

function formatScalar(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatScalar).join(", ")}]`;
  if (typeof v === "string") return v;
  // f32 metadata values read back as doubles (1e-5 → 0.000009999999747): show 7 significant digits.
  if (typeof v === "number" && !Number.isInteger(v)) return String(Number(v.toPrecision(7)));
  return String(v);
}
