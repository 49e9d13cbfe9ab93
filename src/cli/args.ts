/**
 * argv → checked values for one command. Wraps `node:util` parseArgs (non-strict, with tokens) so every
 * mistake becomes a one-line UsageError naming the flag: unknown option, missing value, a value given to a
 * switch, a stray argument, a non-numeric or out-of-range number. It does not know what any command does:
 * commands declare their options (command.ts) and read them back through the typed getters here.
 */

import { parseArgs } from "node:util";

/** A mistake in how peel was invoked; exit status 2. `command` points the user at the right --help. */
export class UsageError extends Error {
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

export interface OptionSpec {
  /** "string" options take a value (shown in help as `valueName`); "boolean" options are switches. */
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly valueName?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ParsedArgs {
  readonly command: string;
  /** Option values by long name: a string for value options, true for switches that were given. */
  readonly values: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export interface PositionalSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

/** Parses `argv` (the words after the command name) against `options`; throws UsageError on any mistake. */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpecs, positional?: PositionalSpec): ParsedArgs {
  const parseOptions: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(options)) {
    parseOptions[name] = spec.short !== undefined ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  const { tokens } = parseArgs({ args: [...argv], options: parseOptions, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    if (spec === undefined) throw new UsageError(`unknown option ${token.rawName} for 'peel ${command}'`, command);
    const flag = `--${token.name}`;
    if (spec.type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`${flag} is a switch and takes no value (got "${token.value}")`, command);
      values.set(token.name, true);
      continue;
    }
    // Non-strict parseArgs takes the next word as the value even when it is another flag (`--model --json`).
    const missing = token.value === undefined || (token.inlineValue !== true && token.value.startsWith("--"));
    if (missing) {
      throw new UsageError(`${flag} needs a value: ${flag} ${spec.valueName ?? "VALUE"} (write ${flag}=VALUE for a value that starts with "--")`, command);
    }
    values.set(token.name, token.value);
  }
  checkPositionals(command, positionals, positional);
  return { command, values, positionals };
}

function checkPositionals(command: string, positionals: readonly string[], spec: PositionalSpec | undefined): void {
  const max = spec?.max ?? 0;
  const min = spec?.min ?? 0;
  if (positionals.length > max) {
    const extra = positionals[max] ?? "";
    const what = max === 0 ? "takes no arguments" : `takes at most ${max} ${spec?.name ?? "argument"} (quote text that has spaces)`;
    throw new UsageError(`unexpected argument "${extra}": 'peel ${command}' ${what}`, command);
  }
  if (positionals.length < min) throw new UsageError(`missing ${spec?.name ?? "argument"}`, command);
}

export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values.get(name);
  return typeof v === "string" ? v : undefined;
}

export function flagOpt(args: ParsedArgs, name: string): boolean {
  return args.values.get(name) === true;
}

/** A value option that must be one of `allowed`, or undefined when absent. */
export function choiceOpt<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const found = allowed.find((a) => a === raw);
  if (found === undefined) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${raw}"`, args.command);
  return found;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** An integer option in [min, max], or undefined when absent. */
export function intOpt(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const value = INTEGER.test(raw.trim()) ? Number(raw) : NaN;
  if (Number.isNaN(value)) throw new UsageError(`--${name} expects an integer, got "${raw}"`, args.command);
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`, args.command);
  return value;
}

/** A decimal option in [min, max] (or (min, max] when `minExclusive`), or undefined when absent. */
export function numberOpt(args: ParsedArgs, name: string, min: number, max: number, minExclusive = false): number | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const value = DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(value)) throw new UsageError(`--${name} expects a number, got "${raw}"`, args.command);
  const tooLow = minExclusive ? value <= min : value < min;
  if (tooLow || value > max) {
    const range = minExclusive ? `greater than ${min} and at most ${max}` : `between ${min} and ${max}`;
    throw new UsageError(`--${name} must be ${range}, got ${raw}`, args.command);
  }
  return value;
}

/** A comma-separated list of non-negative integers (`1,2,3`), or undefined when absent. */
export function idListOpt(args: ParsedArgs, name: string): number[] | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--${name} expects comma-separated token ids like 1,2,3, got "${raw}"`, args.command);
  }
  const ids = parts.map(Number);
  const bad = ids.find((id) => !Number.isSafeInteger(id) || id > 0x7fffffff);
  if (bad !== undefined) throw new UsageError(`--${name}: token id ${bad} is too large`, args.command);
  return ids;
}
