/**
 * `peel chat`: talk to a model in the terminal. Replies stream as they are generated; the conversation stays
 * in one session's KV cache so each turn prefills only its new tokens (chat/chat-session.ts). Commands at
 * the prompt: /reset, /system TEXT, /save FILE, /exit. Ctrl-C stops a reply, not the program; Ctrl-C twice
 * at an empty prompt (or Ctrl-D) exits. With --prompt it answers once, prints the reply and exits (scripts).
 * It does not render templates or sample itself.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import type { ChatSession, ReplyOptions } from "../../chat/chat-session.js";
import type { ChatTemplateChoice } from "../../chat/model-template.js";
import { PeelError } from "../../util/errors.js";
import { stringOpt, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import type { CliIo } from "../io.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, LOAD_OPTIONS, loadModelForCommand, MODEL_OPTIONS } from "../model-file.js";
import { parseSamplingArgs, SAMPLING_OPTIONS } from "./generate.js";

export const BUILTINS = ["chatml", "llama3", "gemma", "phi3", "mistral"];

/** --chat-template: a built-in's name, else a Jinja file read here (the library reads no files). */
export function templateChoice(args: ParsedArgs, cwd: string): ChatTemplateChoice | undefined {
  const value = stringOpt(args, "chat-template");
  if (value === undefined) return undefined;
  if (BUILTINS.includes(value)) return { builtin: value };
  const path = resolve(cwd, value);
  if (!existsSync(path)) {
    throw new PeelError("IO", `--chat-template: "${value}" is neither a built-in (${BUILTINS.join(", ")}) nor a file that exists`);
  }
  return { text: readFileSync(path, "utf8"), name: value };
}

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const sampling = parseSamplingArgs(args);
  const { flashAttention, ...replyOpts } = sampling;
  const prompt = stringOpt(args, "prompt");
  const system = stringOpt(args, "system");
  const choice = templateChoice(args, io.cwd);
  const model = await loadModelForCommand(args, io, signal);
  try {
    const { modelChatTemplate } = await import("../../chat/model-template.js");
    const { createChatSession } = await import("../../chat/chat-session.js");
    const template = modelChatTemplate(model, choice);
    const chat = createChatSession(model, template, {
      ...(flashAttention !== undefined ? { flashAttention } : {}),
      ...(system !== undefined ? { system } : {}),
    });
    if (prompt !== undefined) {
      await streamReply(chat, prompt, { ...replyOpts, signal }, io);
      return EXIT.ok;
    }
    await interactive(chat, replyOpts, io, signal);
    return EXIT.ok;
  } finally {
    await model.dispose();
  }
}

async function streamReply(chat: ChatSession, text: string, opts: ReplyOptions, io: CliIo): Promise<void> {
  const reply = chat.reply(text, opts);
  let any = false;
  try {
    for await (const piece of reply.text) { io.stdout.write(piece); any = true; }
  } finally {
    if (any || opts.signal?.aborted !== true) io.stdout.write("\n");
  }
  if (io.stderr.isTTY === true) {
    const g = reply.generation;
    io.stderr.write(`[${reply.stats.reusedTokens} tokens reused, ${reply.stats.prefilledTokens} prefilled · ${g.tokens.length} generated · stopped: ${g.finishReason ?? "?"}]\n`);
  }
}

async function interactive(chat: ChatSession, opts: ReplyOptions, io: CliIo, signal: AbortSignal): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  let replying: AbortController | undefined;
  let interruptedAtPrompt = false;
  const closed = new Promise<void>((r) => rl.once("close", () => r()));
  rl.on("SIGINT", () => {
    if (replying !== undefined) { replying.abort(); return; }
    if (interruptedAtPrompt) { rl.close(); return; }
    interruptedAtPrompt = true;
    io.stdout.write("\n(Ctrl-C again or /exit to quit)\n");
    rl.prompt();
  });
  io.stderr.write(`chatting with ${chat.model.info.name ?? chat.model.info.source} (template: ${chat.template.name}); /reset, /system TEXT, /save FILE, /exit\n`);
  rl.setPrompt("> ");
  rl.prompt();
  for await (const line of lines(rl, closed)) {
    interruptedAtPrompt = false;
    if (signal.aborted) break;
    const text = line.trim();
    if (text === "/exit" || text === "/quit") break;
    if (text.startsWith("/")) {
      command(chat, text, io);
    } else if (text !== "") {
      replying = new AbortController();
      try {
        await streamReply(chat, line, { ...opts, signal: AbortSignal.any([signal, replying.signal]) }, io);
      } catch (e) {
        if (!(e instanceof PeelError && e.code === "ABORTED") || signal.aborted) throw e;
        io.stderr.write("[reply stopped]\n");
      } finally {
        replying = undefined;
      }
    }
    rl.prompt();
  }
  rl.close();
}

/** Lines until the interface closes (Ctrl-D, a second Ctrl-C, end of piped input). */
async function* lines(rl: Interface, closed: Promise<void>): AsyncGenerator<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  rl.on("line", (l) => { queue.push(l); wake?.(); });
  void closed.then(() => { done = true; wake?.(); });
  for (;;) {
    const next = queue.shift();
    if (next !== undefined) { yield next; continue; }
    if (done) return;
    await new Promise<void>((r) => { wake = r; });
    wake = undefined;
  }
}

function command(chat: ChatSession, text: string, io: CliIo): void {
  const [name = "", ...rest] = text.split(" ");
  const arg = rest.join(" ").trim();
  switch (name) {
    case "/reset":
      chat.reset();
      io.stderr.write("[conversation cleared]\n");
      return;
    case "/system":
      chat.setSystem(arg);
      io.stderr.write(arg === "" ? "[system message removed]\n" : "[system message set]\n");
      return;
    case "/save": {
      if (arg === "") { io.stderr.write("usage: /save FILE\n"); return; }
      const path = resolve(io.cwd, arg);
      if (existsSync(path)) { io.stderr.write(`[${arg} exists; not overwritten — choose another name]\n`); return; }
      writeFileSync(path, `${JSON.stringify({ messages: chat.messages }, null, 2)}\n`);
      io.stderr.write(`[saved ${chat.messages.length} messages to ${arg}]\n`);
      return;
    }
    default:
      io.stderr.write(`unknown command ${name}; commands: /reset, /system TEXT, /save FILE, /exit\n`);
  }
}

export const chatCommand: Command = {
  name: "chat",
  summary: "Chat with a model in the terminal (or answer one --prompt)",
  usage: "peel chat [--model FILE] [--system TEXT] [--chat-template NAME|FILE] [--prompt TEXT] [options]",
  options: {
    ...MODEL_OPTIONS,
    prompt: { type: "string", short: "p", valueName: "TEXT", help: "Answer this one message, print the reply and exit (for scripts)" },
    system: { type: "string", valueName: "TEXT", help: "System message that opens the conversation" },
    "chat-template": { type: "string", valueName: "NAME|FILE", help: `Chat template: a built-in (${BUILTINS.join(", ")}) or a Jinja file (default: the model's own)` },
    ...SAMPLING_OPTIONS,
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    ...LOAD_OPTIONS,
  },
  details: [
    "The conversation is rendered with the model's chat template (GGUF tokenizer.chat_template, or\n" +
      "tokenizer_config.json's chat_template for a Hugging Face folder). A model without one needs\n" +
      "--chat-template. Replies stop at the model's end-of-turn token.",
    "At the prompt: /reset clears the conversation, /system TEXT replaces the system message, /save FILE writes\n" +
      "the messages as JSON (an existing file is not overwritten), /exit quits. Ctrl-C stops a reply; Ctrl-C twice\n" +
      "at the prompt, or Ctrl-D, exits.",
    "Examples:\n" +
      "  peel chat --model qwen2.5-0.5b-instruct-q8_0.gguf\n" +
      '  peel chat --model model.gguf --chat-template chatml --prompt "Tell me a story" --max-tokens 64',
  ],
  run,
};
