/**
 * A conversation held in one Session's KV cache. Each turn renders the whole conversation with the chat
 * template, tokenizes it, and prefills only what follows the longest common prefix with the tokens already
 * in the session; when the new tokens do not extend the old ones (an edited history, a reply the template
 * re-renders differently) the session is reset and the whole conversation prefilled, since sessions only
 * append. Replies stop at the model's end-of-generation tokens and at the template's end-of-turn (a token
 * when the vocabulary has it, else its text). It does not print or read input (cli/commands/chat.ts does).
 */

import { generate, type GenerateOptions, type Generation } from "../generate/generate.js";
import { createSession, type Session, type SessionOptions } from "../generate/session.js";
import type { Model } from "../model/model.js";
import type { ChatMessage, ChatTemplate } from "./chat-template.js";

export type ReplyOptions = Omit<GenerateOptions, keyof SessionOptions | "session" | "addSpecial" | "stopTokens">;

export interface TurnStats {
  /** Tokens of the rendered conversation already in the session (not evaluated again). */
  readonly reusedTokens: number;
  /** Tokens prefilled for this turn. */
  readonly prefilledTokens: number;
}

export interface ChatReply {
  readonly generation: Generation;
  readonly stats: TurnStats;
  /** Streams the reply's text; when it ends, the reply joins the conversation. */
  readonly text: AsyncIterable<string>;
}

export interface ChatSession {
  readonly model: Model;
  readonly template: ChatTemplate;
  readonly session: Session;
  readonly messages: readonly ChatMessage[];
  /** Adds a user message and generates the assistant's reply. */
  reply(userText: string, opts?: ReplyOptions): ChatReply;
  /** Replaces the system message (or removes it with ""); the next turn re-renders from the start. */
  setSystem(text: string): void;
  /** Forgets the conversation (the system message stays) and empties the cache. */
  reset(): void;
}

export interface ChatSessionOptions extends SessionOptions {
  readonly system?: string;
  /** Start from these messages (a saved conversation). */
  readonly messages?: readonly ChatMessage[];
}

/** Ids of the rendered text: special tokens written as text become their ids; BOS added when the model adds it and the template did not. */
export function tokenizeChat(model: Model, text: string): number[] {
  const ids = model.tokenize(text, { addSpecial: false, parseSpecial: true });
  const bos = model.tokenizer.bosId;
  const autoBos = bos !== undefined && model.tokenize("", { addSpecial: true })[0] === bos;
  return autoBos && ids[0] !== bos ? [bos, ...ids] : ids;
}

/** The id of the template's end-of-turn text when the vocabulary has it as one special token. */
export function endOfTurnToken(model: Model, template: ChatTemplate): number | undefined {
  if (template.endOfTurn === "") return undefined;
  const special = model.tokenize(template.endOfTurn, { addSpecial: false, parseSpecial: true });
  const plain = model.tokenize(template.endOfTurn, { addSpecial: false, parseSpecial: false });
  return special.length === 1 && plain.length > 1 ? special[0] : undefined;
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export function createChatSession(model: Model, template: ChatTemplate, opts: ChatSessionOptions = {}): ChatSession {
  const session = createSession(model, opts);
  const messages: ChatMessage[] = [...(opts.messages ?? [])];
  if (opts.system !== undefined && opts.system !== "") setSystemMessage(messages, opts.system);
  const eot = endOfTurnToken(model, template);
  // without a single end-of-turn token, its text stops the reply (a built-in template on a model without those tokens)
  const stopText = eot === undefined && template.endOfTurn !== "" ? [template.endOfTurn] : [];

  return {
    model,
    template,
    session,
    messages,
    reply(userText, replyOpts = {}) {
      messages.push({ role: "user", content: userText });
      const ids = tokenizeChat(model, template.render(messages, { addGenerationPrompt: true }));
      const common = commonPrefixLength(session.tokens, ids);
      // sessions only append: reuse the cache when the new tokens extend it (and leave one to evaluate for logits)
      const reuse = common === session.tokens.length && common < ids.length ? common : 0;
      if (reuse === 0 && session.tokens.length > 0) session.reset();
      let generation: Generation;
      try {
        generation = generate(model, ids.slice(reuse), {
          ...replyOpts,
          session,
          ...(eot !== undefined ? { stopTokens: [eot] } : {}),
          stop: [...stopText, ...(replyOpts.stop ?? [])],
        });
      } catch (e) {
        messages.pop(); // a turn that could not start (context full, bad options) leaves the history as it was
        throw e;
      }
      let replyText = "";
      async function* stream(): AsyncGenerator<string> {
        try {
          for await (const t of generation) {
            replyText += t.text;
            if (t.text !== "") yield t.text;
          }
        } finally {
          // an interrupted reply still joins the history as far as it got, as the user saw it
          messages.push({ role: "assistant", content: replyText });
        }
      }
      return { generation, stats: { reusedTokens: reuse, prefilledTokens: ids.length - reuse }, text: stream() };
    },
    setSystem(text) {
      setSystemMessage(messages, text);
    },
    reset() {
      const system = messages[0]?.role === "system" ? messages[0] : undefined;
      messages.length = 0;
      if (system !== undefined) messages.push(system);
      session.reset();
    },
  };
}

function setSystemMessage(messages: ChatMessage[], text: string): void {
  if (messages[0]?.role === "system") messages.shift();
  if (text !== "") messages.unshift({ role: "system", content: text });
}
