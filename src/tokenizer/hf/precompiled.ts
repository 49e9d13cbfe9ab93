/**
 * Hugging Face tokenizers' Precompiled normalizer (a SentencePiece charsmap carried in tokenizer.json as
 * base64), with its own reading of the map, which is not SentencePiece's or llama.cpp's: the text is cut into
 * grapheme clusters; a cluster shorter than 6 UTF-8 bytes that has any prefix in the map is replaced whole by
 * the replacement of its shortest such prefix; otherwise each of its characters is looked up alone the same
 * way and kept when it has none. Replacements are aligned character by character as HF aligns them. The map
 * itself is tokenizer/charsmap.ts's.
 */

import { parseCharsmap, type Charsmap } from "../charsmap.js";
import { AlignedBuilder, isTracked, spanOf, type Aligned } from "./aligned.js";
/** What normalizers.ts calls a Normalizer (declared here too: that file imports this one). */
type Normalizer = (a: Aligned) => Aligned;

const enc = new TextEncoder();
const dec = new TextDecoder();

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The normalizer of a base64 charsmap; an empty map normalizes nothing. */
export function precompiledNormalizer(base64: string): Normalizer {
  if (base64 === "") return (a) => a;
  const map: Charsmap = parseCharsmap(decodeBase64(base64));
  const lookup = (chunk: string): string | undefined => {
    const r = map.firstMatch(enc.encode(chunk));
    return r === undefined ? undefined : dec.decode(r);
  };
  const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return (a: Aligned): Aligned => {
    const b = new AlignedBuilder(isTracked(a));
    let modified = false;
    for (const { segment, index } of graphemes.segment(a.text)) {
      const whole = enc.encode(segment).length < 6 ? lookup(segment) : undefined;
      if (whole !== undefined) {
        replace(b, a, index, segment, whole);
        modified = true;
        continue;
      }
      let at = index;
      for (const ch of segment) {
        const norm = lookup(ch);
        if (norm !== undefined) { replace(b, a, at, ch, norm); modified = true; }
        else b.copy(a, at, at + ch.length);
        at += ch.length;
      }
    }
    return modified ? b.build() : a;
  };
}

/**
 * Appends `norm` in place of `old` (at `at` in `a`), aligned as HF does: new character i takes the span of old
 * character i; characters beyond the old count take the last old character's span (insertions), and old
 * characters beyond the new count are dropped (a contraction keeps the first characters' spans).
 */
function replace(b: AlignedBuilder, a: Aligned, at: number, old: string, norm: string): void {
  if (!isTracked(a)) { b.push(norm, 0, 0); return; }
  const starts: number[] = [];
  const olds = [...old];
  let u = at;
  for (const ch of olds) { starts.push(u); u += ch.length; }
  [...norm].forEach((ch, i) => {
    const k = Math.min(i, olds.length - 1);
    const s = starts[k] as number;
    b.push(ch, ...spanOf(a, s, s + (olds[k] as string).length));
  });
}
