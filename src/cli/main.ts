/**
 * The `peel` command line: picks the command from argv, handles --help/--version/help, runs the command
 * and turns any error into a one-line message and an exit status (exit-codes.ts). `main` is pure of
 * `process` (tests pass their own streams); `runCli` wires it to the real process: Ctrl-C aborts, a closed
 * stdout (`peel generate | head`) ends quietly. Run directly with `node --import tsx src/cli/main.ts`, or
 * through bin/peel.js once built.
 */

import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseCommandArgs, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { benchCommand } from "./commands/bench.js";
import { chatCommand } from "./commands/chat.js";
import { convertCommand } from "./commands/convert.js";
import { embedCommand } from "./commands/embed.js";
import { rerankCommand } from "./commands/rerank.js";
import { serveCommand } from "./commands/serve.js";
import { generateCommand } from "./commands/generate.js";
import { infoCommand } from "./commands/info.js";
import { inspectCommand } from "./commands/inspect.js";
import { tokenizeCommand } from "./commands/tokenize.js";
import { tokenizerCommand } from "./commands/tokenizer.js";
import { trainCommand } from "./commands/train.js";
import { EXIT, reportError } from "./exit-codes.js";
import { commandHelp, generalHelp } from "./help.js";
import { processIo, type CliIo, type OutStream } from "./io.js";
import { defaultModels } from "./model-file.js";
import { peelVersion } from "./version.js";

export const COMMANDS: readonly Command[] = [generateCommand, chatCommand, embedCommand, rerankCommand, serveCommand, benchCommand, infoCommand, inspectCommand, tokenizeCommand, tokenizerCommand, trainCommand, convertCommand];

/** What `peel` with no arguments generates from, once a default model ships in models/. */
const DEFAULT_PROMPT = "Once upon a time";

function findCommand(name: string): Command {
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd !== undefined) return cmd;
  if (name.startsWith("-")) throw new UsageError(`unknown option ${name} (options go after the command, e.g. 'peel generate ${name}')`);
  throw new UsageError(`unknown command "${name}"; commands: ${[...COMMANDS.map((c) => c.name), "help"].join(", ")}`);
}

/** True when -h/--help appears among the options (before a `--` terminator). */
function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

async function dispatch(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return noArguments(io, signal);
  if (first === "--help" || first === "-h") {
    io.stdout.write(generalHelp(COMMANDS, peelVersion()));
    return EXIT.ok;
  }
  if (first === "--version" || first === "-V") {
    io.stdout.write(`peel ${peelVersion()}\n`);
    return EXIT.ok;
  }
  if (first === "help") {
    if (rest.length > 1) throw new UsageError(`'peel help' takes one command name, got ${rest.length}`);
    const topic = rest[0];
    io.stdout.write(topic === undefined ? generalHelp(COMMANDS, peelVersion()) : commandHelp(findCommand(topic)));
    return EXIT.ok;
  }
  const cmd = findCommand(first);
  if (wantsHelp(rest)) {
    io.stdout.write(commandHelp(cmd));
    return EXIT.ok;
  }
  const args = parseCommandArgs(cmd.name, rest, cmd.options, cmd.positional);
  return cmd.run({ args, io, signal });
}

/** `peel` alone (`npm start`): generate from the shipped model if there is one, else show the usage. */
async function noArguments(io: CliIo, signal: AbortSignal): Promise<number> {
  if (defaultModels().length === 0) {
    io.stdout.write(generalHelp(COMMANDS, peelVersion()));
    return EXIT.ok;
  }
  io.stderr.write(`peel: no command given; running: peel generate --prompt "${DEFAULT_PROMPT}" (see 'peel --help' for more)\n`);
  io.stdout.write(DEFAULT_PROMPT); // generate prints the continuation only; the reader wants the whole story
  return dispatch(["generate", "--prompt", DEFAULT_PROMPT], io, signal);
}

/** Runs one peel invocation and returns its exit status; never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo(), signal: AbortSignal = new AbortController().signal): Promise<number> {
  try {
    return await dispatch(argv, io, signal);
  } catch (error) {
    return reportError(error, io.stderr, io.env);
  }
}

/** Runs peel on the real process: Ctrl-C aborts loading or generation; a closed stdout ends quietly. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let stdoutClosed = false;
  const onSigint = () => controller.abort();
  const onStdoutError = (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    stdoutClosed = true;
    controller.abort();
  };
  process.once("SIGINT", onSigint);
  process.stdout.on("error", onStdoutError);
  // A reader that went away (`| head`) is not an error worth a message: drop further output and the abort.
  const io = processIo();
  const guard = (stream: OutStream): OutStream => ({
    write: (text: string) => (stdoutClosed ? true : stream.write(text)),
    ...(stream.isTTY !== undefined ? { isTTY: stream.isTTY } : {}),
    ...(stream.columns !== undefined ? { columns: stream.columns } : {}),
  });
  const code = await main(argv, { ...io, stdout: guard(io.stdout), stderr: guard(io.stderr) }, controller.signal);
  process.removeListener("SIGINT", onSigint);
  process.exitCode = stdoutClosed ? EXIT.ok : code;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runCli();
