// GBNF parsing and the pushdown matcher on hand-made cases: which strings a grammar accepts whole, which it
// accepts as a prefix, which it refuses; repetition counts; escapes; multi-line rules; partial UTF-8 bytes
// (a character split across tokens, overlong spellings refused); and the errors for bad grammars.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { compileGbnf } from "./gbnf.js";
import { createGrammarMatcher } from "./matcher.js";
import type { Grammar } from "./grammar.js";

/** "full": accepted and complete; "prefix": accepted, not complete; "no": refused. */
function judge(g: Grammar, s: string | Uint8Array): "full" | "prefix" | "no" {
  const m = createGrammarMatcher(g);
  if (!m.acceptToken(s)) return "no";
  return m.isComplete() ? "full" : "prefix";
}

function expectAll(g: Grammar, cases: Record<string, "full" | "prefix" | "no">): void {
  for (const [s, want] of Object.entries(cases)) assert.equal(judge(g, s), want, JSON.stringify(s));
}

test("literals, alternatives, groups and character classes", () => {
  const g = compileGbnf(`root ::= ("yes" | "no") [!.]? | [^a-z0-9]`);
  expectAll(g, { yes: "full", "no!": "full", "no.": "full", y: "prefix", "": "prefix", "yes?": "no", A: "full", a: "no", "5": "no", "é": "full" });
});

test("repetition: * + ? {m} {m,} {m,n}, on literals and groups", () => {
  expectAll(compileGbnf(`root ::= "ab"*`), { "": "full", ab: "full", abab: "full", a: "prefix", aba: "prefix", b: "no" });
  const star = createGrammarMatcher(compileGbnf(`root ::= "ab"*`));
  assert.ok(star.acceptToken("ab") && star.isComplete() && !star.isFinished(), "complete, but more may follow");
  expectAll(compileGbnf(`root ::= [0-9]+`), { "": "prefix", "7": "full", "123": "full", x: "no" });
  expectAll(compileGbnf(`root ::= "x"{3}`), { xx: "prefix", xxx: "full", xxxx: "no" });
  expectAll(compileGbnf(`root ::= "x"{2,}`), { x: "prefix", xx: "full", xxxxxx: "full" });
  expectAll(compileGbnf(`root ::= ("a" | "b"){1,3} "."`), { ".": "no", "a.": "full", "aba.": "full", "abab": "no", ab: "prefix" });
  expectAll(compileGbnf(`root ::= "a"{0,2}`), { "": "full", a: "full", aa: "full", aaa: "no" });
});

test("escapes, comments, '.' and rules over several lines", () => {
  const g = compileGbnf(String.raw`
# a comment line
root ::= item
  ( "," item )*   # more items
  "\n"
item ::=
    "\x41" | "\u00e9" | "\"q\"" | [\[\]] | "\\" | "\U0001F600" | "t" .
`);
  expectAll(g, { "A\n": "full", "é,A,\"q\"\n": "full", "[,]\n": "full", "\\\n": "full", "😀\n": "full", "tz\n": "full", "t\n\n": "full", "B\n": "no" });
});

test("recursion: balanced parentheses, and a right-recursive list keeps one stack", () => {
  const g = compileGbnf(`root ::= "(" root ")" root | ""`);
  expectAll(g, { "": "full", "()": "full", "(()())": "full", "(()": "prefix", "())": "no" });
  const list = compileGbnf(`root ::= "a" root | "."`);
  const m = createGrammarMatcher(list);
  assert.ok(m.acceptToken("a".repeat(500)));
  assert.equal(m.stacks.size, 2, "'a' or '.' next: two stacks, however many a's came before");
});

test("partial UTF-8: a character split across tokens matches a class, and overlong or stray bytes are refused", () => {
  const g = compileGbnf(`root ::= [à-ÿ] "!"`);
  const m = createGrammarMatcher(g);
  assert.ok(m.acceptToken(Uint8Array.of(0xc3)), "the lead byte of é could start a character in [à-ÿ]");
  assert.equal(m.isComplete(), false);
  assert.equal(m.allows("!"), false, "an ASCII byte cannot finish the pending character");
  assert.ok(m.acceptToken(Uint8Array.of(0xa9, 0x21)), "é's continuation byte, then !");
  assert.ok(m.isComplete());
  assert.equal(judge(g, Uint8Array.of(0xc2)), "no", "0xC2 starts only U+0080..U+00BF, none in [à-ÿ]");
  assert.equal(judge(compileGbnf(`root ::= "{"`), Uint8Array.of(0xc1, 0xbb)), "no", "C1 BB is an overlong '{'");
  assert.equal(judge(compileGbnf(`root ::= .`), Uint8Array.of(0x80)), "no", "a continuation byte with nothing pending");
  assert.equal(judge(compileGbnf(`root ::= .`), Uint8Array.of(0xed, 0xa0, 0x80)), "no", "a UTF-16 surrogate is not UTF-8");
});

test("a refused token leaves the state as it was", () => {
  const m = createGrammarMatcher(compileGbnf(`root ::= "abc"`));
  assert.ok(m.acceptToken("a"));
  assert.equal(m.acceptToken("bx"), false);
  assert.ok(m.acceptToken("bc"));
  assert.ok(m.isComplete() && m.isFinished(), "complete, and nothing can follow");
  m.reset();
  assert.equal(m.isComplete(), false);
  assert.ok(m.allows("abc"));
});

function throwsPeel(text: string, pattern: RegExp): void {
  assert.throws(() => compileGbnf(text), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && pattern.test(e.message));
}

test("errors name the problem and where it is", () => {
  throwsPeel(`start ::= "a"`, /no rule named "root"/);
  throwsPeel(`root ::= item`, /rule "item" is used but never defined at line 1, column 10/);
  throwsPeel(`root ::= "a"\nroot ::= "b"`, /defined twice at line 2/);
  throwsPeel(`root ::= root "a" | "b"`, /left recursion \(root → root\)/);
  throwsPeel(`root ::= x\nx ::= y? root\ny ::= "y"`, /left recursion/);
  throwsPeel(`root ::= "abc`, /unterminated string literal/);
  throwsPeel(`root ::= [a-`, /unterminated/);
  throwsPeel(`root ::= "\\q"`, /unknown escape "\\q"/);
  throwsPeel(`root ::= ("a"`, /expected '\)'/);
  throwsPeel(`root ::= "a"{3,1}`, /minimum above its maximum/);
  throwsPeel(`root ::= * "a"`, /nothing before it to repeat/);
  throwsPeel(`root ::= <[1234]>`, /token references/);
  throwsPeel(`root ::= [z-a]`, /backwards/);
});

test("llama.cpp's own json.gbnf parses and matches JSON", () => {
  // the grammar as llama.cpp ships it (grammars/json.gbnf), written out here so the test needs no checkout
  const g = compileGbnf(String.raw`
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
`);
  expectAll(g, { "{}": "full", '{"a": [1, 2.5, "x\\n", {"b": null}]}': "full", '{"a" 1}': "no", "[1]": "no", '{"a": tru': "prefix" });
});
