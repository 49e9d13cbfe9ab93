/**
 * The chat formats `--chat-template NAME` offers for models whose files carry no template: chatml, llama3,
 * gemma, phi3, mistral, written here as Jinja from each format's published token layout. Data only: they
 * are compiled and rendered like any model's own template (chat-template.ts). Where a format has no system
 * role (Gemma, Mistral's v1 layout) the system text opens the first user turn, followed by a blank line.
 */

export const BUILTIN_TEMPLATE_NAMES = ["chatml", "llama3", "gemma", "phi3", "mistral"] as const;
export type BuiltinTemplateName = (typeof BUILTIN_TEMPLATE_NAMES)[number];

const TEMPLATES: Readonly<Record<BuiltinTemplateName, string>> = {
  // <|im_start|>ROLE\nTEXT<|im_end|>\n per message (Qwen, OpenHermes, SmolLM, ...)
  chatml:
    "{%- for m in messages -%}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' -}}{%- endfor -%}" +
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}",
  // BOS, then <|start_header_id|>ROLE<|end_header_id|>\n\nTEXT<|eot_id|> per message, text trimmed (Llama 3.x)
  llama3:
    "{{- bos_token -}}{%- for m in messages -%}" +
    "{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + (m.content | trim) + '<|eot_id|>' -}}{%- endfor -%}" +
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}",
  // BOS, then <start_of_turn>user|model\nTEXT<end_of_turn>\n, text trimmed; no system role (Gemma 1-3)
  gemma:
    "{{- bos_token -}}{%- set ns = namespace(system='') -%}" +
    "{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.system = ns.system + (m.content | trim) + '\\n\\n' -%}" +
    "{%- else -%}{%- set role = 'model' if m.role == 'assistant' else m.role -%}" +
    "{{- '<start_of_turn>' + role + '\\n' + ns.system + (m.content | trim) + '<end_of_turn>\\n' -}}{%- set ns.system = '' -%}" +
    "{%- endif -%}{%- endfor -%}" +
    "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}",
  // <|ROLE|>\nTEXT<|end|>\n per message (Phi-3, Phi-3.5)
  phi3:
    "{%- for m in messages -%}{{- '<|' + m.role + '|>\\n' + m.content + '<|end|>\\n' -}}{%- endfor -%}" +
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}",
  // BOS, then " [INST] TEXT [/INST]" for users and " TEXT</s>" for replies (Mistral 7B Instruct, llama.cpp's mistral-v1)
  mistral:
    "{{- bos_token -}}{%- set ns = namespace(system='') -%}" +
    "{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.system = ns.system + m.content + '\\n\\n' -%}" +
    "{%- elif m.role == 'user' -%}{{- ' [INST] ' + ns.system + m.content + ' [/INST]' -}}{%- set ns.system = '' -%}" +
    "{%- elif m.role == 'assistant' -%}{{- ' ' + m.content + eos_token -}}" +
    "{%- else -%}{{- raise_exception('the mistral format has only system, user and assistant roles, not ' + m.role) -}}{%- endif -%}{%- endfor -%}",
};

export function isBuiltinTemplateName(name: string): name is BuiltinTemplateName {
  return (BUILTIN_TEMPLATE_NAMES as readonly string[]).includes(name);
}

export function builtinTemplateText(name: BuiltinTemplateName): string {
  return TEMPLATES[name];
}
