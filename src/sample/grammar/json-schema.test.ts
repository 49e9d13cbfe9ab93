// JSON Schema → grammar on hand cases: what each construct accepts and refuses, recursion through $ref,
// the errors (bad and unsupported schemas name their path), and response_format's shapes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { compileGbnf } from "./gbnf.js";
import { jsonObjectGbnf, jsonSchemaToGbnf, jsonSchemaToGrammar } from "./json-schema.js";
import { createGrammarMatcher } from "./matcher.js";
import { grammarForResponseFormat } from "./response-format.js";
import type { Grammar } from "./grammar.js";

function full(g: Grammar, s: string): boolean {
  const m = createGrammarMatcher(g);
  return m.acceptToken(s) && m.isComplete();
}

function check(schema: unknown, yes: readonly string[], no: readonly string[]): void {
  const g = jsonSchemaToGrammar(schema);
  for (const s of yes) assert.ok(full(g, s), `should accept ${s} under ${JSON.stringify(schema)}`);
  for (const s of no) assert.ok(!full(g, s), `should refuse ${s} under ${JSON.stringify(schema)}`);
}

test("primitives: string (escapes, no raw control characters), number, integer, boolean, null", () => {
  check({ type: "string" }, ['""', '"a b"', '"\\n\\u00e9\\""', '"é😀"'], ['"a', '"\n"', '"\\ud800"', "1"]);
  check({ type: "number" }, ["0", "-1.5", "3e10", "12.25E-3"], ["01", "1.", ".5", "+1", "1e999", "NaN"]);
  check({ type: "integer" }, ["0", "-42", "1234567890123456"], ["1.0", "12345678901234567", "-"]);
  check({ type: "boolean" }, ["true", "false"], ["True", "1"]);
  check({ type: "null" }, ["null"], ["nil"]);
  check({ type: ["string", "null"] }, ['"x"', "null"], ["1"]);
});

test("strings with length bounds count characters, escapes included", () => {
  check({ type: "string", minLength: 2, maxLength: 3 }, ['"ab"', '"a\\nb"', '"éé"'], ['"a"', '"abcd"']);
});

test("integer ranges: every integer in -400..400 accepted exactly when inside the bounds, with one spelling", () => {
  const cases: Array<Record<string, number>> = [
    { minimum: 0 }, { minimum: 1, maximum: 12 }, { minimum: -37, maximum: 205 }, { maximum: -3 }, { exclusiveMinimum: 9, exclusiveMaximum: 100 },
    { minimum: 17, maximum: 17 }, { minimum: -250, maximum: -101 }, { minimum: 99, maximum: 1000 }, { minimum: 2.5, maximum: 7.5 },
  ];
  for (const bounds of cases) {
    const g = jsonSchemaToGrammar({ type: "integer", ...bounds });
    const lo = Math.max(bounds.minimum === undefined ? -Infinity : Math.ceil(bounds.minimum), bounds.exclusiveMinimum === undefined ? -Infinity : bounds.exclusiveMinimum + 1);
    const hi = Math.min(bounds.maximum === undefined ? Infinity : Math.floor(bounds.maximum), bounds.exclusiveMaximum === undefined ? Infinity : bounds.exclusiveMaximum - 1);
    for (let v = -400; v <= 400; v++) assert.equal(full(g, String(v)), v >= lo && v <= hi, `${v} under ${JSON.stringify(bounds)}`);
    for (const bad of ["-0", "007", "+5", "1.0"]) assert.ok(!full(g, bad), `${bad} under ${JSON.stringify(bounds)}`);
  }
  check({ type: "integer", minimum: 0 }, ["123456789012345"], ["1234567890123456"]);
  throwsAt({ type: "integer", minimum: 5, maximum: 4 }, "INVALID_ARGUMENT", /no integer lies between the bounds/);
  throwsAt({ type: "number", minimum: 0 }, "UNSUPPORTED", /"minimum" on type "number" is not supported/);
  check({ type: ["integer", "null"], minimum: 1 }, ["1", "null"], ["0"]);
});

test("string formats: date, time, date-time, uuid are spelled out; other formats are annotations", () => {
  check({ type: "string", format: "date" }, ['"2024-02-28"', '"0001-12-01"'], ['"2024-02-30"', '"2024-13-01"', '"24-01-01"']);
  check({ type: "string", format: "time" }, ['"23:59:59Z"', '"00:00:00.123+05:30"'], ['"24:00:00Z"', '"12:00:00"']);
  check({ type: "string", format: "date-time" }, ['"2024-01-05T10:20:30Z"'], ['"2024-01-05 10:20:30Z"']);
  check({ type: "string", format: "uuid" }, ['"123e4567-e89b-12d3-a456-426614174000"'], ['"123e4567e89b12d3a456426614174000"']);
  check({ type: "string", format: "email" }, ['"anything"'], []);
  throwsAt({ type: "string", format: "date", maxLength: 4 }, "UNSUPPORTED", /together with format "date"/);
});

test("enum and const: exact JSON values", () => {
  check({ enum: ["red", "green", 7, null, { a: 1 }] }, ['"red"', '"green"', "7", "null", '{"a":1}'], ['"blue"', '"re"', "7.0"]);
  check({ const: "fixed" }, ['"fixed"'], ['"other"']);
});

test("objects: required and optional properties in order, commas right for every subset", () => {
  const schema = { type: "object", properties: { a: { type: "integer" }, b: { type: "string" }, c: { type: "boolean" } }, required: ["b"] };
  check(schema, ['{"b":"x"}', '{"a":1,"b":"x"}', '{ "a": 1, "b": "x", "c": true }', '{"b":"x","c":false}'],
    ['{}', '{"a":1}', '{"b":"x",}', '{,"b":"x"}', '{"b":"x","d":1}', '{"b":"x","a":1}']);
  const none = { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } } };
  check(none, ["{}", '{"a":1}', '{"b":2}', '{"a":1,"b":2}'], ['{,"b":2}', '{"a":1,}']);
});

test("additionalProperties: false, true or a schema; extra keys can never repeat a declared key", () => {
  const base = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };
  check({ ...base, additionalProperties: false }, ['{"name":"x"}'], ['{"name":"x","y":1}']);
  check({ ...base, additionalProperties: { type: "number" } }, ['{"name":"x","y":1}', '{"name":"x","nam":2,"names":3}'],
    ['{"name":"x","y":"s"}', '{"name":"x","name":2}']);
  check({ ...base, additionalProperties: true }, ['{"name":"x","y":[1,{"z":null}]}'], ['{"name":"x","name":"y"}']);
  check({ type: "object" }, ["{}", '{"k":[true]}'], ["[]"]);
});

test("arrays: items, minItems/maxItems, tuples", () => {
  check({ type: "array", items: { type: "integer" }, minItems: 1, maxItems: 3 }, ["[1]", "[1, 2,3]"], ["[]", "[1,2,3,4]", '["a"]', "[1,]"]);
  check({ type: "array", items: { type: "integer" } }, ["[]", "[1,2,3,4,5,6]"], ["[1 2]"]);
  check({ type: "array", items: { type: "string" }, maxItems: 0 }, ["[]"], ['["a"]']);
  check({ type: "array", prefixItems: [{ type: "string" }, { type: "integer" }], items: false }, ['["a",1]'], ['["a"]', '["a",1,2]', '[1,"a"]']);
});

test("anyOf / oneOf, nesting and recursive $ref through $defs", () => {
  check({ anyOf: [{ type: "integer" }, { type: "array", items: { type: "integer" }, maxItems: 2 }] }, ["5", "[5,6]"], ['"5"', "[1,2,3]"]);
  const tree = {
    $defs: { node: { type: "object", properties: { v: { type: "integer" }, kids: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["v", "kids"] } },
    $ref: "#/$defs/node",
  };
  check(tree, ['{"v":1,"kids":[]}', '{"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[]}]}]}'], ['{"v":1,"kids":[{"v":2}]}']);
  check({ definitions: { x: { enum: [1, 2] } }, type: "array", items: { $ref: "#/definitions/x" } }, ["[1,2,2]"], ["[3]"]);
});

test("the GBNF text is readable and compiles on its own; json_object mode is any object", () => {
  const text = jsonSchemaToGbnf({ type: "object", properties: { n: { type: "number" } }, required: ["n"] });
  assert.match(text, /^root ::= "\{" space root-first-0 "\}" space$/m);
  assert.match(text, /^number ::= /m);
  assert.doesNotMatch(text, /^boolean ::= /m, "only the primitives in use");
  const obj = compileGbnf(jsonObjectGbnf());
  assert.ok(full(obj, '{"a": [1, "b", {"c": null}], "d": true}'));
  assert.ok(!full(obj, "[1]") && !full(obj, '"s"'));
});

function throwsAt(schema: unknown, code: string, pattern: RegExp): void {
  assert.throws(() => jsonSchemaToGrammar(schema), (e: unknown) => e instanceof PeelError && e.code === code && pattern.test(e.message), JSON.stringify(schema));
}

test("bad and unsupported schemas throw, naming the path", () => {
  throwsAt({ type: "object", properties: { a: { type: "strin" } } }, "INVALID_ARGUMENT", /#\/properties\/a\/type: unknown type "strin"/);
  throwsAt({ type: "object", properties: { a: { type: "string", pattern: "^x" } } }, "UNSUPPORTED", /#\/properties\/a: keyword "pattern" is not supported.*supported: type, enum/);
  throwsAt({ type: "string", multipleOf: 2 }, "UNSUPPORTED", /keyword "multipleOf"/);
  throwsAt({ type: "array", items: { type: "string" }, minItems: 3, maxItems: 2 }, "INVALID_ARGUMENT", /minItems 3 is above maxItems 2/);
  throwsAt({ $ref: "#/$defs/missing" }, "INVALID_ARGUMENT", /does not resolve \(no "\$defs"\)/);
  throwsAt({ $ref: "https://example.com/s.json" }, "INVALID_ARGUMENT", /only local references/);
  throwsAt({ enum: [] }, "INVALID_ARGUMENT", /#\/enum: expected a non-empty array/);
  throwsAt(false, "INVALID_ARGUMENT", /matches no value/);
  throwsAt("string", "INVALID_ARGUMENT", /expected a schema/);
  throwsAt({ allOf: [{ type: "string" }, { maxLength: 3 }] }, "UNSUPPORTED", /single-schema allOf/);
});

test("response_format: text, json_object, json_schema (OpenAI and llama-server shapes), and bad shapes", () => {
  assert.equal(grammarForResponseFormat(undefined), undefined);
  assert.equal(grammarForResponseFormat({ type: "text" }), undefined);
  assert.ok(full(grammarForResponseFormat({ type: "json_object" }) as Grammar, '{"x":1}'));
  const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
  for (const f of [{ type: "json_schema", json_schema: { name: "r", strict: true, schema } }, { type: "json_schema", schema }, { type: "json_object", schema }]) {
    const g = grammarForResponseFormat(f) as Grammar;
    assert.ok(full(g, '{"ok":true}') && !full(g, '{"ok":1}'), JSON.stringify(f));
  }
  const bad = (f: unknown, pattern: RegExp) => assert.throws(() => grammarForResponseFormat(f), (e: unknown) => e instanceof PeelError && pattern.test(e.message));
  bad("json", /response_format: expected an object/);
  bad({ type: "xml" }, /response_format\.type: expected "text", "json_object" or "json_schema", got "xml"/);
  bad({ type: "json_schema" }, /response_format\.json_schema: missing/);
  bad({ type: "json_schema", json_schema: { name: "r" } }, /response_format\.json_schema\.schema: missing/);
  bad({ type: "json_schema", json_schema: { name: "r", schema: { type: "object", properties: { a: { type: 3 } } } } },
    /response_format\.json_schema\.schema: JSON schema at #\/properties\/a\/type: unknown type 3/);
});
