/**
 * The WebGPU tests' browser: Debian's /usr/bin/chromium (playwright-core, never a downloaded browser) with
 * its software WebGPU adapter (SwiftShader: --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader), so the
 * GPU kernels run in CI without a GPU. page.ts and the Peel source it imports are bundled with esbuild into
 * one script, served from 127.0.0.1 (WebGPU needs a secure context). Tests skip with the returned reason
 * where Chromium or its adapter is missing.
 */

import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const ENTRY = fileURLToPath(new URL("./page.ts", import.meta.url));

export interface WebGpuPage {
  readonly page: Page;
  /** What the adapter says it is. */
  readonly adapter: string;
  /** Serves `bytes` at /files/<name> for the page to fetch. */
  serveFile(name: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

async function bundle(): Promise<string> {
  const { build } = await import("esbuild");
  const out = await build({ entryPoints: [ENTRY], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent" });
  return out.outputFiles[0]!.text;
}

function serve(script: string, files: Map<string, Uint8Array>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === "/page.js") { res.writeHead(200, { "Content-Type": "text/javascript" }).end(script); return; }
    const file = req.url?.startsWith("/files/") === true ? files.get(req.url.slice(7)) : undefined;
    if (file !== undefined) { res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(file); return; }
    res.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><script type="module" src="/page.js"></script>');
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    ok({ server, url: `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}/` });
  }));
}

/** A page with the bundle loaded and a WebGPU adapter, or the reason there is none. */
export async function openWebGpuPage(): Promise<WebGpuPage | string> {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
  const [script, { chromium }] = await Promise.all([bundle(), import("playwright-core")]);
  const files = new Map<string, Uint8Array>();
  const { server, url } = await serve(script, files);
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  };
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"],
    });
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.log(`# page error: ${e.message}`));
    if (process.env.PEEL_WEBGPU_CONSOLE === "1") page.on("console", (m) => console.log(`# page: ${m.text()}`));
    await page.goto(url);
    await page.waitForFunction(() => "peelWebGpu" in globalThis);
    const adapter = await page.evaluate(async () => {
      try {
        return await (globalThis as unknown as { peelWebGpu: { adapter(): Promise<string> } }).peelWebGpu.adapter();
      } catch (e) {
        return `error: ${(e as Error).message}`;
      }
    });
    if (adapter.startsWith("error: ")) { await close(); return `Chromium offers no WebGPU adapter (${adapter.slice(7)})`; }
    return { page, adapter, close, serveFile: (name, bytes) => { files.set(name, bytes); } };
  } catch (e) {
    await close();
    throw e;
  }
}
