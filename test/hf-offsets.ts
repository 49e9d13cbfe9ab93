/**
 * The Hugging Face bindings report offsets in code points; Peel's encodeWithOffsets reports UTF-16 code units
 * of the original text. The parity tests that compare the two convert the binding's side with this.
 */

/** [start, end) code-point offsets into `text` as code-unit offsets (-1 where an offset is past the end). */
export function toUnits(text: string, offsets: number[][]): Array<[number, number]> {
  const at: number[] = [];
  let u = 0;
  for (const ch of text) { at.push(u); u += ch.length; }
  at.push(u);
  return offsets.map(([a, b]) => [at[a ?? 0] ?? -1, at[b ?? 0] ?? -1]);
}
