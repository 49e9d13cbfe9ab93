/**
 * Which chat template a conversation with a model uses: a built-in by name (`chatml`, `llama3`, ...), Jinja
 * text the caller read (from a file), or else the model's own template from its file. Fills `bos_token` and
 * `eos_token` from the model's tokenizer. A model without a template is a CONFIG error naming the model and
 * the built-ins. It does not read files (the CLI does) nor render (chat-template.ts).
 */

import type { ModelDescription } from "../model/model.js";
import { PeelError } from "../util/errors.js";
import { BUILTIN_TEMPLATE_NAMES, builtinTemplateText, isBuiltinTemplateName } from "./builtin-templates.js";
import { createChatTemplate, type ChatTemplate } from "./chat-template.js";

/** A built-in's name, or Jinja text with a name for messages (e.g. the file it came from). */
export type ChatTemplateChoice = { readonly builtin: string } | { readonly text: string; readonly name: string };

export function modelChatTemplate(model: ModelDescription, choice?: ChatTemplateChoice): ChatTemplate {
  const tk = model.tokenizer;
  const special = {
    bosToken: tk.bosId !== undefined ? tk.piece(tk.bosId) : "",
    eosToken: tk.eosId !== undefined ? tk.piece(tk.eosId) : "",
  };
  if (choice !== undefined && "builtin" in choice) {
    if (!isBuiltinTemplateName(choice.builtin)) {
      throw new PeelError("INVALID_ARGUMENT", `unknown chat template "${choice.builtin}"; built-ins: ${BUILTIN_TEMPLATE_NAMES.join(", ")} (or give a Jinja file)`);
    }
    return createChatTemplate(builtinTemplateText(choice.builtin), { name: choice.builtin, ...special });
  }
  if (choice !== undefined) return createChatTemplate(choice.text, { name: choice.name, ...special });
  const own = model.info.chatTemplates?.["default"];
  if (own === undefined || own.trim() === "") {
    const who = model.info.name !== undefined ? `"${model.info.name}" (${model.info.source})` : model.info.source;
    throw new PeelError("CONFIG",
      `the model ${who} has no chat template in its file; choose one with --chat-template NAME (${BUILTIN_TEMPLATE_NAMES.join(", ")}) or --chat-template FILE.jinja`);
  }
  return createChatTemplate(own, { name: `the chat template of ${model.info.name ?? model.info.source}`, ...special });
}
