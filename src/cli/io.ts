/**
 * What a command may touch of the outside world: stdout for results, stderr for progress and errors, the
 * environment and working directory. Commands take a CliIo instead of reaching for `process`, so tests can
 * capture output. It does not format anything.
 */

export interface OutStream {
  write(text: string): unknown;
  /** True when the stream is a terminal (progress bars and colours only then). */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Every non-empty line of stdin, read to its end: the texts of `peel embed` and `peel rerank` when none are given. */
export async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/).filter((l) => l.trim() !== "");
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
