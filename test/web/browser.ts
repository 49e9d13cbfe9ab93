/**
 * Headless Chromium for the inspector's browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (never a downloaded browser), with the flags that keep it off this machine's closed network. Tests skip
 * with this file's reason where Chromium or the built app is missing; CI installs Chromium (.ci/run) and
 * builds the app (npm ci → prepare), so there they run.
 */
import { existsSync } from "node:fs";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const WEB_DIST = fileURLToPath(new URL("../../web/dist/", import.meta.url));

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
  if (!existsSync(join(WEB_DIST, "index.html"))) return "web/dist is not built (npm run build:web)";
  return undefined;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

const TYPES: Readonly<Record<string, string>> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".gguf": "application/octet-stream" };

/** A plain static server for the built app, cross-origin isolated as any host serving it must be (for threads). */
export async function serveStatic(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = resolve(root, path === "/" ? "index.html" : `.${decodeURIComponent(path)}`);
    if (!file.startsWith(resolve(root) + sep)) { res.writeHead(403).end(); return; }
    stat(file).then((s) => {
      if (!s.isFile()) throw new Error("not a file");
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" });
      createReadStream(file).pipe(res);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
}
