/**
 * The shape of one CLI command: its name, help text, declared options and arguments, and `run`.
 * Each command lives in its own file under commands/; main.ts dispatches to them and help.ts renders
 * their help. Nothing here parses or runs anything.
 */

import type { OptionSpecs, ParsedArgs, PositionalSpec } from "./args.js";
import type { CliIo } from "./io.js";

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly io: CliIo;
  /** Fires on Ctrl-C (and when stdout is closed under us); loading and generation stop promptly. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after "Usage: ". */
  readonly usage: string;
  readonly options: OptionSpecs;
  readonly positional?: PositionalSpec;
  /** Paragraphs shown after the options (notes, examples). */
  readonly details: readonly string[];
  /** Runs the command and returns the exit status; throws PeelError/UsageError on failure. */
  run(ctx: CommandContext): Promise<number>;
}
