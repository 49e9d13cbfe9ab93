/**
 * What the JSON Schema converter's parts share: the GBNF of JSON's primitives (each with the rules it uses),
 * the converter's interface, GBNF string-literal escaping and the error for a bad schema. No conversion here.
 */

import { PeelError } from "../../util/errors.js";

/** The shared rules, each with the rules it uses. */
export const JSON_PRIMITIVES: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  // at most one space: line breaks and indentation (llama.cpp allows up to 20 blanks) let a small model spend
  // its whole context on whitespace (tried: the shipped model ran out of context at 253 tokens)
  space: [`" "?`, []],
  value: [`object | array | string | number | boolean | null`, ["object", "array", "string", "number", "boolean", "null"]],
  object: [`"{" space ( string ":" space value ( "," space string ":" space value )* )? "}" space`, ["string", "space", "value"]],
  array: [`"[" space ( value ( "," space value )* )? "]" space`, ["value", "space"]],
  string: [`"\\"" char* "\\"" space`, ["char", "space"]],
  // no raw control characters; \\u escapes of lone UTF-16 surrogates are refused too
  char: [`[^"\\\\\\x00-\\x1f\\x7f] | "\\\\" ( ["\\\\/bfnrt] | "u" hex-escape )`, ["hex-escape"]],
  "hex-escape": [`[0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}`, []],
  number: [`"-"? int-part ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )? space`, ["int-part", "space"]],
  "int-part": [`"0" | [1-9] [0-9]{0,15}`, []],
  integer: [`"-"? int-part space`, ["int-part", "space"]],
  boolean: [`( "true" | "false" ) space`, ["space"]],
  null: [`"null" space`, ["space"]],
};

export function schemaError(path: string, what: string): PeelError {
  return new PeelError("INVALID_ARGUMENT", `JSON schema at ${path}: ${what}`);
}

export interface Converter {
  visit(schema: unknown, path: string, name: string): string;
  /** Adds `name ::= body` under a unique name based on `name`; returns the name used. */
  define(name: string, body: string): string;
  /** The name of a shared primitive rule, adding it (and what it uses) to the output. */
  use(primitive: string): string;
  text(): string;
}

/** A GBNF string literal for `text` (quotes, backslashes and control characters escaped). */
export function gbnfLiteral(text: string): string {
  let out = "\"";
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === "\"" || ch === "\\") out += "\\" + ch;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + "\"";
}

