/**
 * One error type for everything Peel reports to a user: a `PeelError` carries a stable `code`
 * (what kind of problem) and a message that says what was expected, what was found, and a hint.
 * The CLI maps codes to exit status in one place (cli/exit-codes.ts); nothing else inspects messages.
 */

export type PeelErrorCode =
  | "FORMAT" // a file's bytes are not what its format requires (bad magic, truncated, out-of-range offsets)
  | "UNSUPPORTED" // valid input that Peel does not handle (unknown tensor type, architecture, version)
  | "CONFIG" // model metadata missing or inconsistent (shapes that do not agree, absent keys)
  | "TOKENIZER" // vocabulary or tokenizer data that cannot be used
  | "CONTEXT_OVERFLOW" // prompt + generation longer than the context window
  | "ABORTED" // the caller's AbortSignal fired
  | "INVALID_ARGUMENT" // a caller passed a value outside the allowed range
  | "IO" // the file system refused (missing file, permission)
  | "DEVICE_LOST"; // the GPU device went away (driver reset, tab in the background, out of memory); its buffers are gone

export class PeelError extends Error {
  readonly code: PeelErrorCode;

  constructor(code: PeelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PeelError";
    this.code = code;
  }
}

/** Throws a PeelError when `condition` is false; for checks on external data, not internal invariants. */
export function check(condition: boolean, code: PeelErrorCode, message: () => string): asserts condition {
  if (!condition) throw new PeelError(code, message());
}

/** Converts a u64 read as bigint to a JS number, refusing values a double cannot hold exactly. */
export function u64ToNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PeelError("FORMAT", `${what}: value ${value} is outside the safe integer range (0..2^53-1); the file is corrupt or not supported`);
  }
  return Number(value);
}
