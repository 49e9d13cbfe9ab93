/** Every GGUF architecture Peel runs, by `general.architecture`, in the order error messages list them. */

import { BERT } from "./bert.js";
import { GEMMA, GEMMA2, GEMMA3 } from "./gemma.js";
import { GPT2 } from "./gpt2.js";
import { GPTNEOX } from "./gptneox.js";
import { LLAMA, QWEN2, QWEN3 } from "./llama.js";
import { NOMIC_BERT } from "./nomic-bert.js";
import { PHI3 } from "./phi3.js";
import { T5 } from "./t5.js";
import type { ArchitectureTable } from "./table.js";

export const GGUF_ARCHITECTURES: Readonly<Record<string, ArchitectureTable>> = Object.fromEntries(
  [LLAMA, QWEN2, QWEN3, GEMMA, GEMMA2, GEMMA3, PHI3, GPTNEOX, GPT2, BERT, NOMIC_BERT, T5].map((t) => [t.name, t]),
);
