/**
 * Help text: the general `peel --help` page and one page per command, rendered from the commands' own
 * option declarations so help and parsing cannot drift apart. It does not print; callers write the string.
 */

import type { Command } from "./command.js";
import { EXIT_STATUS_HELP } from "./exit-codes.js";

const HELP_OPTION = "-h, --help";

function optionLabel(name: string, type: "string" | "boolean", short: string | undefined, valueName: string | undefined): string {
  const long = type === "string" ? `--${name} ${valueName ?? "VALUE"}` : `--${name}`;
  return short !== undefined ? `-${short}, ${long}` : `    ${long}`;
}

function columns(rows: ReadonlyArray<readonly [string, string]>, indent = "  "): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`);
}

export function commandHelp(cmd: Command): string {
  const rows: Array<readonly [string, string]> = Object.entries(cmd.options).map(([name, o]) =>
    [optionLabel(name, o.type, o.short, o.valueName), o.help] as const);
  rows.push([HELP_OPTION, "Show this help"]);
  const lines = [`Usage: ${cmd.usage}`, "", cmd.summary, "", "Options:", ...columns(rows)];
  for (const paragraph of cmd.details) lines.push("", paragraph);
  return `${lines.join("\n")}\n`;
}

export function generalHelp(commands: readonly Command[], version: string): string {
  const lines = [
    `peel ${version}: a TypeScript engine for large language models that you can look inside`,
    "",
    "Usage: peel <command> [options]",
    "       peel help <command>",
    "",
    "Commands:",
    ...columns([...commands.map((c) => [c.name, c.summary] as const), ["help", "Show help for a command"] as const]),
    "",
    "Options:",
    ...columns([[HELP_OPTION, "Show this help"], ["-V, --version", "Print peel's version"]]),
    "",
    "Examples:",
    "  peel generate --model model.gguf --prompt \"Once upon a time\" --max-tokens 64",
    "  peel generate --model model.gguf --prompt \"Hello\" --temperature 0.8 --seed 42 --json",
    "  peel info --model model.gguf",
    "  peel tokenize --model model.gguf \"Hello world\"",
    "",
    "Run 'peel <command> --help' for a command's options. Set PEEL_DEBUG=1 to see stack traces on errors.",
    "",
    "Exit status:",
    ...EXIT_STATUS_HELP.map((l) => `  ${l}`),
  ];
  return `${lines.join("\n")}\n`;
}
