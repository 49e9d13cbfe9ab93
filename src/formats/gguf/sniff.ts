/**
 * Guesses what a file is from its first bytes, to turn "bad magic" into a useful hint. Heuristics only;
 * it never decides how a file is loaded.
 */

function ascii(bytes: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < Math.min(n, bytes.length); i++) {
    const b = bytes[i] as number;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return s;
}

/** The first bytes shown as text with escapes, e.g. `PK\x03\x04`. */
export function showMagic(bytes: Uint8Array): string {
  return ascii(bytes, 4);
}

/** A hint naming the format these bytes look like, or a generic hint. */
export function sniffHint(bytes: Uint8Array): string {
  const m = ascii(bytes, 4);
  if (m === "PK\\x03\\x04") return "is this a zip file (a PyTorch .pt/.pth checkpoint)?";
  if (m === "lmgg" || m === "fmgg" || m === "tjgg") {
    return "this is a pre-GGUF ggml/ggjt file; convert it with a current llama.cpp";
  }
  if (m === "24ka") return "is this a llama2.c checkpoint (version 1+ magic \"ak42\")?";
  if (bytes[0] === 0x80) return "is this a Python pickle (a PyTorch checkpoint)?";
  if (bytes[0] === 0x7b) return "is this a JSON file (config.json or tokenizer.json)?";
  if (bytes.length >= 9) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = dv.getBigUint64(0, true);
    if (headerLen > 1n && headerLen < 100_000_000n && bytes[8] === 0x7b) return "is this a safetensors file?";
  }
  if (bytes.length >= 28 && looksLikeLegacyLlama2c(bytes)) return "is this a legacy llama2.c checkpoint (.bin)?";
  return "is this a GGUF file at all? (expected a model in GGUF format)";
}

function looksLikeLegacyLlama2c(bytes: Uint8Array): boolean {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 28);
  const v = [0, 1, 2, 3, 4, 5, 6].map((i) => dv.getInt32(i * 4, true));
  const [dim, hidden, layers, heads, kvHeads, vocab, seq] = v as [number, number, number, number, number, number, number];
  return dim > 0 && dim < 65536 && hidden > 0 && hidden < 1 << 20 && layers > 0 && layers < 1024 &&
    heads > 0 && heads <= dim && kvHeads > 0 && kvHeads <= heads && vocab !== 0 && Math.abs(vocab) < 1 << 22 && seq > 0;
}
