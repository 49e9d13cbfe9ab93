/**
 * Deterministic test strings for tokenizer parity runs: a fixed list of awkward cases plus a few hundred
 * strings glued together by a seeded generator from pools of whitespace runs, scripts (CJK, RTL, Cyrillic,
 * Khmer), emoji with ZWJ and modifiers, combining marks, digit runs, code, punctuation and long words.
 * No tokenizer logic here.
 */

const FIXED = [
  "", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", " \n \t ", "Hello world", " Hello world", "Hello  world", "Hello\tworld\n",
  "<s>", "</s>", "<unk>", "a<s>b", "x </s> y", "<|endoftext|>", " <|end|>\n", "[CLS] [SEP]",
  "don't I'm we're they've he'll she'd IT'S WE'RE", "' ' '", "rock ' n ' roll", "Hello , world . ok ! ? ",
  "3.14159 1,000,000 12345678901234567890", "0x1F600 #ff00aa", "ℌℑℜ ½ ⅓ ① ²³", "🦙🦙🦙", "👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 ❤️",
  "e\u0301 a\u0308 n\u0303 \u0915\u094d\u0937", "Cửa Việt", "нещо на Български", "שלום עולם", "مرحبا بالعالم", "ខ្ញុំចង់",
  "你好，世界！这是一个测试。", "日本語のテキスト、カタカナ", "한국어 텍스트", "ﬁ ﬂ ＡＢＣ ａｂｃ", "\u00a0\u2003\u3000x", "\u0085\u2028\u2029",
  "function f(x) {\n  return x * 2; // double\n}\n", "    if (a && b) { c++; }\n\tfoo()", "SELECT * FROM t WHERE id = 1;",
  "!!!!!!", "...???!!!", "----====____", "supercalifragilisticexpialidocious", "Donaudampfschifffahrtsgesellschaftskapitän",
  "a".repeat(300), " ".repeat(40) + "x", "\n".repeat(12), "z\u200dz\u200cz", "\u{1F9D1}\u{200D}\u{1F4BB}", "\u{10400}\u{1D400}\u{1F600}",
];

const POOLS: readonly (readonly string[])[] = [
  [" ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\t\t", "\r\n", "    "],
  ["the", "Hello", "world", "tokenizer", "Peel", "llama", "GPT", "x", "I", "a", "ABC", "camelCase", "snake_case", "don't", "it's", "you'll", "O'Neil"],
  ["Über", "café", "naïve", "Ærø", "straße", "ĳ", "Ωμέγα", "Привет", "мир", "Ελλάδα", "ქართული", "Հայերեն"],
  ["中文", "漢字", "テスト", "ひらがな", "한국", "กรุงเทพ", "हिन्दी", "বাংলা", "עברית", "العربية", "ខ្មែរ", "ພາສາລາວ"],
  ["🦙", "😀", "👍🏿", "👩‍🚀", "🧑‍🤝‍🧑", "🇫🇷", "🏴‍☠️", "✨", "⚡️", "☃", "🀄", "🂡"],
  ["e\u0301", "o\u0308\u0304", "\u0301", "A\u030A", "\u0928\u093f", "\u0627\u064e", "Z\u0351\u0352\u0353"],
  ["0", "7", "42", "123", "2024", "31415926", "1000000", "3.3", "3..3", "3...3", "١٢٣", "٤٥", "¹²", "Ⅻ"],
  ["()", "{}", "[]", "=>", "===", "!=", "&&", "||", "::", "->", "/*", "*/", "//", "#include", "<div>", "</div>", "\\n", "`", "$x", "@", "%d"],
  ["!", "?", ".", ",", ";", ":", "...", "!!", "??", "—", "–", "«", "»", "“", "”", "‘", "’", "¿", "¡", "…", "、", "。", "！"],
  ["<s>", "</s>", "<unk>", "<|endoftext|>", "<|end|>", "<0x0A>", "▁", "Ġ", "##ing", "[UNK]"],
];

/** mulberry32: a tiny seeded generator, enough for reproducible test strings (and fuzz bodies). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parityStrings(count = 300, seed = 1234): string[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out = [...FIXED];
  while (out.length < count) {
    const parts = 1 + Math.floor(rand() * 12);
    let s = rand() < 0.3 ? " " : "";
    for (let i = 0; i < parts; i++) {
      s += pick(pick(POOLS));
      if (rand() < 0.5) s += " ";
    }
    out.push(s);
  }
  return out;
}
