/**
 * A string being normalized, with an optional record of where each of its UTF-16 units came from in the
 * original input (Hugging Face's NormalizedString, at UTF-16 rather than byte granularity). Normalizers
 * build new `Aligned` values through these helpers; when alignment is not tracked (plain `encode`) the
 * helpers only build the text, so offsets cost nothing unless asked for. No normalizer semantics here.
 */

/** `starts[i]`/`ends[i]`: the original span of text unit i; both undefined when not tracked. */
export interface Aligned {
  readonly text: string;
  readonly starts: Int32Array | undefined;
  readonly ends: Int32Array | undefined;
}

/** The identity alignment of `text`, which starts at `origStart` in the input. */
export function alignedFrom(text: string, origStart: number, track: boolean): Aligned {
  if (!track) return { text, starts: undefined, ends: undefined };
  const starts = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    starts[i] = origStart + i;
    ends[i] = origStart + i + 1;
  }
  return { text, starts, ends };
}

/** Accumulates text and, when tracking, the original span of each unit. */
export class AlignedBuilder {
  private text = "";
  private readonly s: number[] | undefined;
  private readonly e: number[] | undefined;

  constructor(track: boolean) {
    this.s = track ? [] : undefined;
    this.e = track ? [] : undefined;
  }

  /** Appends `piece`, every unit of it coming from the original span [start, end). */
  push(piece: string, start: number, end: number): void {
    this.text += piece;
    if (this.s && this.e) for (let i = 0; i < piece.length; i++) { this.s.push(start); this.e.push(end); }
  }

  /** Appends units [from, to) of `src` with their own alignment. */
  copy(src: Aligned, from: number, to: number): void {
    this.text += src.text.slice(from, to);
    if (this.s && this.e && src.starts && src.ends) {
      for (let i = from; i < to; i++) { this.s.push(src.starts[i] as number); this.e.push(src.ends[i] as number); }
    }
  }

  build(): Aligned {
    return { text: this.text, starts: this.s && Int32Array.from(this.s), ends: this.e && Int32Array.from(this.e) };
  }
}

export const isTracked = (a: Aligned): boolean => a.starts !== undefined;

/** Length in UTF-16 units of the code point at `i`. */
export function charLen(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
}

/** Original span of units [from, to) (from < to). */
export function spanOf(a: Aligned, from: number, to: number): [number, number] {
  return [a.starts?.[from] ?? from, a.ends?.[to - 1] ?? to];
}

/** Units [from, to) of `a`. */
export function sliceAligned(a: Aligned, from: number, to: number): Aligned {
  return { text: a.text.slice(from, to), starts: a.starts?.subarray(from, to), ends: a.ends?.subarray(from, to) };
}

/** Maps every code point through `f`; the output of a code point inherits its span. */
export function mapChars(a: Aligned, f: (ch: string) => string): Aligned {
  const t = a.text;
  if (!isTracked(a)) {
    let out = "";
    for (const ch of t) out += f(ch);
    return { text: out, starts: undefined, ends: undefined };
  }
  const b = new AlignedBuilder(true);
  for (let i = 0; i < t.length; ) {
    const n = charLen(t, i);
    const [s, e] = spanOf(a, i, i + n);
    b.push(f(t.slice(i, i + n)), s, e);
    i += n;
  }
  return b.build();
}

/** Puts `prefix` in front of non-empty text; it takes the span of the first character (as HF does). */
export function prependAligned(a: Aligned, prefix: string): Aligned {
  if (a.text.length === 0) return a;
  if (!isTracked(a)) return { text: prefix + a.text, starts: undefined, ends: undefined };
  const b = new AlignedBuilder(true);
  const [s, e] = spanOf(a, 0, charLen(a.text, 0));
  b.push(prefix, s, e);
  b.copy(a, 0, a.text.length);
  return b.build();
}

/**
 * Replaces every match of `re` (global) or of the literal `find` by `content`; inserted units take the span
 * of the last matched unit (HF's Replace alignment).
 */
export function replaceAligned(a: Aligned, find: string | RegExp, content: string): Aligned {
  if (!isTracked(a)) {
    return { text: typeof find === "string" ? a.text.replaceAll(find, () => content) : a.text.replace(find, () => content), starts: undefined, ends: undefined };
  }
  const b = new AlignedBuilder(true);
  let last = 0;
  for (const [s, e] of matchRanges(a.text, find)) {
    b.copy(a, last, s);
    const [os, oe] = spanOf(a, e - 1, e);
    b.push(content, os, oe);
    last = e;
  }
  b.copy(a, last, a.text.length);
  return b.build();
}

/** Non-empty match ranges of a literal or a global regex, left to right. */
export function matchRanges(text: string, find: string | RegExp): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (typeof find === "string") {
    if (find.length === 0) return out;
    for (let at = text.indexOf(find); at >= 0; at = text.indexOf(find, at + find.length)) out.push([at, at + find.length]);
    return out;
  }
  find.lastIndex = 0;
  for (let m = find.exec(text); m !== null; m = find.exec(text)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) { find.lastIndex = s + charLen(text, s); continue; }
    out.push([s, e]);
  }
  return out;
}

/** Keeps the code points for which `keep` is true. */
export function filterChars(a: Aligned, keep: (ch: string) => boolean): Aligned {
  return mapChars(a, (ch) => (keep(ch) ? ch : ""));
}

const COMBINING_RUN = /\P{M}\p{M}*|\p{M}+/gsu;

/**
 * Unicode normalization (NFC/NFD/NFKC/NFKD). The text is normalized as a whole; for alignment each base
 * character with its combining marks is normalized on its own, as HF's aligned normalizer reports it:
 * what a single character expands to keeps that character's span; a composed character takes the span
 * of the first character it was made from. If the clusters do not concatenate to the whole result, the
 * changed middle of the string gets the span of the changed middle of the input.
 */
export function normalizeAligned(a: Aligned, form: "NFC" | "NFD" | "NFKC" | "NFKD"): Aligned {
  const whole = a.text.normalize(form);
  if (whole === a.text || !isTracked(a)) return whole === a.text ? a : { text: whole, starts: undefined, ends: undefined };
  const b = new AlignedBuilder(true);
  for (const m of a.text.matchAll(COMBINING_RUN)) alignCluster(a, m.index, m[0], form, b);
  const byCluster = b.build();
  return byCluster.text === whole ? byCluster : coarseAlign(a, whole);
}

function alignCluster(a: Aligned, at: number, cluster: string, form: "NFC" | "NFD" | "NFKC" | "NFKD", b: AlignedBuilder): void {
  const out = cluster.normalize(form);
  if (out === cluster) { b.copy(a, at, at + cluster.length); return; }
  const chars = [...cluster];
  const parts = chars.map((c) => c.normalize(form));
  let i = at;
  if (parts.join("") === out) {
    chars.forEach((c, k) => { b.push(parts[k] as string, ...spanOf(a, i, i + c.length)); i += c.length; });
    return;
  }
  // composed: output character k takes the span of input character k (the last one past the end)
  const starts: number[] = [];
  for (const c of chars) { starts.push(i); i += c.length; }
  [...out].forEach((c, k) => {
    const s = starts[Math.min(k, starts.length - 1)] as number;
    b.push(c, ...spanOf(a, s, s + (chars[Math.min(k, chars.length - 1)] as string).length));
  });
}

/** Aligns `text` to `a` by their common prefix and suffix; the differing middle maps to the middle span. */
function coarseAlign(a: Aligned, text: string): Aligned {
  const src = a.text;
  let p = 0;
  while (p < src.length && p < text.length && src[p] === text[p]) p++;
  let q = 0;
  while (q < src.length - p && q < text.length - p && src[src.length - 1 - q] === text[text.length - 1 - q]) q++;
  const b = new AlignedBuilder(true);
  b.copy(a, 0, p);
  const midEnd = src.length - q;
  if (midEnd > p) b.push(text.slice(p, text.length - q), ...spanOf(a, p, midEnd));
  else b.push(text.slice(p, text.length - q), ...(p > 0 ? spanOf(a, p - 1, p) : spanOf(a, 0, 1)));
  b.copy(a, midEnd, src.length);
  return b.build();
}
