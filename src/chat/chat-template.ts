/**
 * A chat template: Jinja text (a model's own `chat_template`, a built-in, or a file) compiled once with
 * @huggingface/jinja and rendered over a list of messages into the prompt text the model was trained on.
 * It fills the variables templates expect (`messages`, `add_generation_prompt`, `bos_token`, `eos_token`,
 * `raise_exception`, `strftime_now`) and, as llama.cpp's chat layer does, folds a leading system message
 * into the first user message when the template cannot show a system role. It does not tokenize, pick a
 * model's template (model-template.ts) or decide when generation stops (end-of-turn is found here, used
 * by chat-session.ts).
 */

import { Environment, Interpreter, Template } from "@huggingface/jinja";
import { PeelError } from "../util/errors.js";

export interface ChatMessage {
  /** "system", "user", "assistant", or any role the template knows. */
  readonly role: string;
  readonly content: string;
}

export interface ChatTemplateOptions {
  /** What the template is, for error messages: "chatml", "the model's tokenizer.chat_template", a file path. */
  readonly name: string;
  /** Text of the model's BOS and EOS tokens, for templates that write `{{ bos_token }}` (default ""). */
  readonly bosToken?: string;
  readonly eosToken?: string;
}

export interface RenderOptions {
  /** End with the opening of an assistant turn, so the model writes the reply (default true). */
  readonly addGenerationPrompt?: boolean;
  /** The clock of `strftime_now` (Llama 3.2 writes today's date); default: now. Tests pin it. */
  readonly now?: Date;
  /** Further template variables (e.g. `enable_thinking`), passed as given. */
  readonly variables?: Readonly<Record<string, unknown>>;
}

export interface ChatTemplate {
  readonly name: string;
  readonly text: string;
  readonly bosToken: string;
  readonly eosToken: string;
  /** False when the template drops or refuses a system message; render then merges it into the first user turn. */
  readonly supportsSystemRole: boolean;
  /**
   * The text that closes an assistant turn right after its content ("<|im_end|>", "<|eot_id|>",
   * "<end_of_turn>", "</s>"), found by rendering a probe conversation; "" when nothing follows the content.
   */
  readonly endOfTurn: string;
  render(messages: readonly ChatMessage[], opts?: RenderOptions): string;
}

/** Thrown by the template's own `raise_exception(...)`; carries the template's message. */
class TemplateRaise extends Error {}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_LONG = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** Python's strftime for the directives chat templates use, in English whatever the locale (as Python's C locale). */
export function strftime(date: Date, format: string): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%[YmdbBHMSyj%-]d?/g, (d) => {
    switch (d) {
      case "%Y": return String(date.getFullYear());
      case "%y": return pad(date.getFullYear() % 100);
      case "%m": return pad(date.getMonth() + 1);
      case "%d": return pad(date.getDate());
      case "%-d": return String(date.getDate());
      case "%b": return MONTHS[date.getMonth()] ?? "";
      case "%B": return MONTHS_LONG[date.getMonth()] ?? "";
      case "%H": return pad(date.getHours());
      case "%M": return pad(date.getMinutes());
      case "%S": return pad(date.getSeconds());
      case "%%": return "%";
      default: return d;
    }
  });
}

export function createChatTemplate(text: string, opts: ChatTemplateOptions): ChatTemplate {
  let compiled: Template;
  try {
    compiled = new Template(text);
  } catch (e) {
    throw new PeelError("FORMAT", `chat template (${opts.name}) is not valid Jinja: ${(e as Error).message}`, { cause: e });
  }
  const bosToken = opts.bosToken ?? "";
  const eosToken = opts.eosToken ?? "";

  const renderRaw = (messages: readonly ChatMessage[], r: RenderOptions): string => {
    const now = r.now ?? new Date();
    try {
      // our own global scope (the library's render() would refuse to let us replace raise_exception)
      const env = new Environment();
      const globals: Record<string, unknown> = {
        true: true, false: false, none: null, True: true, False: false, None: null,
        range: pythonRange,
        raise_exception: (message: unknown) => { throw new TemplateRaise(String(message)); },
        strftime_now: (format: unknown) => strftime(now, String(format)),
        // llama.cpp's chat layer passes enable_thinking=true unless told otherwise (Qwen 3, R1 distills read it)
        enable_thinking: true,
        ...r.variables,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: r.addGenerationPrompt ?? true,
        bos_token: bosToken,
        eos_token: eosToken,
      };
      for (const [key, value] of Object.entries(globals)) env.set(key, value);
      const result = new Interpreter(env).run(compiled.parsed).value;
      return typeof result === "string" ? result : String(result);
    } catch (e) {
      if (e instanceof TemplateRaise) {
        throw new PeelError("INVALID_ARGUMENT", `chat template (${opts.name}) refused the conversation: ${e.message}`, { cause: e });
      }
      throw new PeelError("INVALID_ARGUMENT", `chat template (${opts.name}) failed to render: ${(e as Error).message}`, { cause: e });
    }
  };

  const supportsSystemRole = probeSystemRole(renderRaw);
  const endOfTurn = probeEndOfTurn(renderRaw);
  return {
    name: opts.name,
    text,
    bosToken,
    eosToken,
    supportsSystemRole,
    endOfTurn,
    render(messages, r = {}) {
      return renderRaw(supportsSystemRole ? messages : mergeSystemMessage(messages), r);
    },
  };
}

/** Python's range(stop) / range(start, stop[, step]) as templates call it. */
function pythonRange(a: unknown, b?: unknown, c?: unknown): number[] {
  const [start, stop] = b === undefined ? [0, Number(a)] : [Number(a), Number(b)];
  const step = c === undefined ? 1 : Number(c);
  if (!Number.isInteger(start) || !Number.isInteger(stop) || !Number.isInteger(step) || step === 0) throw new Error(`range(${String(a)}, ${String(b)}, ${String(c)}): integers expected, step not 0`);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

type RawRender = (messages: readonly ChatMessage[], r: RenderOptions) => string;

const PROBE_SYSTEM = "PEEL_PROBE_SYSTEM_7f3a";
const PROBE_USER = "PEEL_PROBE_USER_7f3a";
const PROBE_REPLY = "PEEL_PROBE_REPLY_7f3a";

/** Whether a system message reaches the output (llama.cpp asks whether the template reads its content). */
function probeSystemRole(render: RawRender): boolean {
  try {
    return render([{ role: "system", content: PROBE_SYSTEM }, { role: "user", content: PROBE_USER }], {}).includes(PROBE_SYSTEM);
  } catch {
    return false;
  }
}

/** What the template writes right after an assistant message's content, up to the first line break or space. */
function probeEndOfTurn(render: RawRender): string {
  let out: string;
  try {
    out = render([{ role: "user", content: PROBE_USER }, { role: "assistant", content: PROBE_REPLY }], { addGenerationPrompt: false });
  } catch {
    return "";
  }
  const at = out.indexOf(PROBE_REPLY);
  if (at < 0) return "";
  return /^[^\s]*/.exec(out.slice(at + PROBE_REPLY.length))?.[0] ?? "";
}

/** llama.cpp's fallback for templates without a system role: the system text, a newline, then the first user message. */
export function mergeSystemMessage(messages: readonly ChatMessage[]): ChatMessage[] {
  const [first, second, ...rest] = messages;
  if (first === undefined || first.role !== "system") return [...messages];
  if (second === undefined) return [];
  return [{ role: second.role, content: `${first.content}\n${second.content}` }, ...rest];
}
