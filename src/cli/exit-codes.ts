/**
 * The one place that turns errors into what a CLI user sees: an exit status (sysexits.h numbers where one
 * fits) and a single line `peel: error: <message>` on stderr. Stack traces appear only with PEEL_DEBUG=1.
 * It does not decide what is an error; library code throws PeelError, argv parsing throws UsageError.
 */

import { PeelError, type PeelErrorCode } from "../util/errors.js";
import { UsageError } from "./args.js";

export const EXIT = {
  ok: 0,
  /** Bad command line (unknown flag, missing or out-of-range value). */
  usage: 2,
  /** The input data is wrong: not a model file, corrupt, inconsistent metadata, unusable vocabulary, prompt too long. */
  dataError: 65,
  /** An input file could not be opened or read. */
  noInput: 66,
  /** A bug in peel: an error that is not a PeelError. */
  software: 70,
  /** A valid file that uses something peel does not support yet. */
  unavailable: 69,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

const BY_CODE: Readonly<Record<PeelErrorCode, number>> = {
  INVALID_ARGUMENT: EXIT.usage,
  FORMAT: EXIT.dataError,
  CONFIG: EXIT.dataError,
  TOKENIZER: EXIT.dataError,
  CONTEXT_OVERFLOW: EXIT.dataError,
  UNSUPPORTED: EXIT.unavailable,
  IO: EXIT.noInput,
  ABORTED: EXIT.interrupted,
  DEVICE_LOST: EXIT.unavailable,
};

/** Lines for `peel --help`, from the table above. */
export const EXIT_STATUS_HELP: readonly string[] = [
  `${EXIT.ok}    success`,
  `${EXIT.usage}    usage error (unknown command or option, missing or invalid value)`,
  `${EXIT.dataError}   bad input data (not a model file, corrupt or inconsistent file, prompt too long)`,
  `${EXIT.noInput}   a file could not be opened or read`,
  `${EXIT.unavailable}   the model uses something peel does not support yet`,
  `${EXIT.software}   internal error (a bug: please report it, with PEEL_DEBUG=1 output)`,
  `${EXIT.interrupted}  interrupted (Ctrl-C)`,
];

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof PeelError) return BY_CODE[error.code];
  return EXIT.software;
}

export interface ErrorSink {
  write(text: string): unknown;
}

/** Prints the error for a user and returns the exit status to use. */
export function reportError(error: unknown, stderr: ErrorSink, env: Readonly<Record<string, string | undefined>>): number {
  const code = exitCodeFor(error);
  const debug = env["PEEL_DEBUG"] !== undefined && env["PEEL_DEBUG"] !== "" && env["PEEL_DEBUG"] !== "0";
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    const help = error.command !== undefined ? `peel ${error.command} --help` : "peel --help";
    stderr.write(`peel: error: ${message} (see '${help}')\n`);
  } else if (error instanceof PeelError && error.code === "ABORTED") {
    stderr.write("peel: interrupted\n");
  } else if (error instanceof PeelError) {
    stderr.write(`peel: error: ${message}\n`);
  } else {
    stderr.write(`peel: internal error: ${message}${debug ? "" : " (this is a bug; run with PEEL_DEBUG=1 to see the stack trace)"}\n`);
  }
  if (debug) stderr.write(`${describeStack(error)}\n`);
  return code;
}

function describeStack(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.stack ?? `${error.name}: ${error.message}`;
  if (error.cause !== undefined) text += `\ncaused by: ${describeStack(error.cause)}`;
  return text;
}
