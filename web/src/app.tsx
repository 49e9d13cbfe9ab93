/**
 * The inspector's shell: picks the engine (the `peel inspect` server when the page was served by it, else a
 * Worker running Peel in the page on the shipped model), shows load progress and errors, takes dropped model
 * files, and holds the shared prompt and its analysis for the views. Views receive the engine and draw what
 * it returns.
 */
import { useEffect, useState } from "preact/hooks";
import type { AnalyzeResult, InspectorInfo } from "peel";
import type { Engine, LoadStatus } from "./engine/engine";
import { createServerEngine, detectServer } from "./engine/server";
import { createWorkerEngine } from "./engine/worker-client";
import { ModelView } from "./views/model-view";
import { TokensView } from "./views/tokens-view";
import { GenerateView } from "./views/generate-view";
import { AttentionView } from "./views/attention-view";
import { LensView } from "./views/lens-view";
import { EmbeddingsView } from "./views/embeddings-view";
import { InterventionsView } from "./views/interventions-view";
import { DropZone } from "./views/drop-zone";

const TABS = ["model", "tokens", "generate", "attention", "lens", "embeddings", "interventions"] as const;
type Tab = (typeof TABS)[number];
const TAB_NAMES: Readonly<Record<Tab, string>> = {
  model: "Architecture", tokens: "Tokenizer", generate: "Generate", attention: "Attention", lens: "Logit lens", embeddings: "Embeddings", interventions: "Ablation & patching",
};

export function App() {
  const [engine, setEngine] = useState<Engine | undefined>(undefined);
  const [status, setStatus] = useState<LoadStatus>({ phase: "idle", message: "starting" });
  const [info, setInfo] = useState<InspectorInfo | undefined>(undefined);
  const [tab, setTab] = useState<Tab>(() => (TABS as readonly string[]).includes(location.hash.slice(1)) ? (location.hash.slice(1) as Tab) : "model");
  const [prompt, setPrompt] = useState("Once upon a time, there was a little girl named Lily. She");
  const [output, setOutput] = useState("");
  const [analysis, setAnalysis] = useState<AnalyzeResult | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const refresh = async (e: Engine) => {
    setInfo(await e.call<InspectorInfo>("info"));
    setAnalysis(undefined);
  };

  useEffect(() => {
    void (async () => {
      const forcePage = new URLSearchParams(location.search).get("engine") === "page";
      const server = forcePage ? undefined : await detectServer();
      const e = server !== undefined ? createServerEngine(server.model) : createWorkerEngine();
      e.onStatus(setStatus);
      setEngine(e);
      try {
        if (e.loadDefault !== undefined) await e.loadDefault();
        await refresh(e);
      } catch (err) {
        setStatus({ phase: "error", message: (err as Error).message });
      }
    })();
  }, []);

  const analyze = async () => {
    if (engine === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      // an encoder–decoder decodes the forced output, or its own greedy answer when none is typed
      const forced = info?.role === "encoder-decoder" && output.length > 0 ? { output } : {};
      setAnalysis(await engine.call<AnalyzeResult>("analyze", { text: prompt, ...forced }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const onFiles = async (files: readonly File[]) => {
    if (engine?.loadFiles === undefined) return;
    try {
      await engine.loadFiles(files);
      await refresh(engine);
    } catch {
      // the status line already shows the engine's message; the previous model stays loaded and usable
    }
  };

  const select = (t: Tab) => {
    setTab(t);
    history.replaceState(null, "", `#${t}`);
  };

  return (
    <div class="app">
      <header>
        <h1>Peel Inspector</h1>
        <StatusLine status={status} mode={engine?.mode} />
        {engine?.mode === "page" ? <DropZone onFiles={onFiles} /> : <span class="hint">model fixed by <code>peel inspect --model</code></span>}
      </header>
      <nav>
        {TABS.map((t) => (
          <button key={t} class={t === tab ? "tab active" : "tab"} data-testid={`tab-${t}`} onClick={() => select(t)}>{TAB_NAMES[t]}</button>
        ))}
      </nav>
      {engine === undefined || info === undefined ? (
        <main><p class="muted">{status.phase === "error" ? "No model loaded." : "Loading…"}</p></main>
      ) : (
        <main>
          {(tab === "attention" || tab === "lens") && (
            <section class="prompt-bar">
              <textarea data-testid="prompt" value={prompt} rows={2} onInput={(e) => setPrompt((e.target as HTMLTextAreaElement).value)} />
              {info.role === "encoder-decoder" && (
                <input data-testid="output" value={output} placeholder="decoder output to force (empty: the model's greedy answer)"
                  onInput={(e) => setOutput((e.target as HTMLInputElement).value)} />
              )}
              <button data-testid="analyze" disabled={busy} onClick={() => void analyze()}>{busy ? "Running forward pass…" : "Run forward pass"}</button>
              {analysis !== undefined && <span class="muted" data-testid="forward-ms">{analysis.tokens.length} tokens, traced in {analysis.forwardMs.toFixed(0)} ms</span>}
              {error !== undefined && <p class="error" data-testid="error">{error}</p>}
            </section>
          )}
          {tab === "model" && <ModelView info={info} />}
          {tab === "tokens" && <TokensView engine={engine} />}
          {tab === "generate" && <GenerateView engine={engine} info={info} />}
          {tab === "attention" && <AttentionView engine={engine} analysis={analysis} />}
          {tab === "lens" && <LensView analysis={analysis} />}
          {tab === "embeddings" && <EmbeddingsView engine={engine} />}
          {tab === "interventions" && <InterventionsView engine={engine} info={info} />}
        </main>
      )}
    </div>
  );
}

function StatusLine(props: { readonly status: LoadStatus; readonly mode: string | undefined }) {
  const s = props.status;
  return (
    <div class={`status ${s.phase}`} data-testid="status" data-phase={s.phase}>
      <span>{props.mode === undefined ? "" : props.mode === "server" ? "server engine · " : "in-page engine · "}{s.message}</span>
      {s.phase === "loading" && <progress value={s.progress ?? 0} max={1} />}
    </div>
  );
}
