/**
 * Generation one step at a time: the next-token distribution after the current tokens, what every sampler
 * stage (temperature, top-k, top-p, min-p, penalties) keeps and how it reshapes the probabilities, the token
 * the chain draws with this seed, and the choice to take it or force any other candidate. Each step is one
 * engine `step` call on the whole sequence; the view only keeps the list of ids.
 */
import { useEffect, useState } from "preact/hooks";
import type { InspectStep, InspectorInfo, TokenizeResult, TokenView } from "peel";
import type { Engine } from "../engine/engine";
import { barChart } from "../plots/charts";
import { Figure } from "../plots/figure";
import { pct, visible } from "./format";

interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  seed: number;
}

const FIELDS: ReadonlyArray<{ key: keyof Sampling; label: string; step: number; min: number; max: number }> = [
  { key: "temperature", label: "temperature", step: 0.1, min: 0, max: 5 },
  { key: "topK", label: "top-k (0 = off)", step: 1, min: 0, max: 1000 },
  { key: "topP", label: "top-p", step: 0.05, min: 0, max: 1 },
  { key: "minP", label: "min-p", step: 0.01, min: 0, max: 1 },
  { key: "repeatPenalty", label: "repeat penalty", step: 0.05, min: 0, max: 3 },
  { key: "seed", label: "seed", step: 1, min: 0, max: 2 ** 31 },
];

export function GenerateView({ engine, info }: { readonly engine: Engine; readonly info: InspectorInfo }) {
  const [prompt, setPrompt] = useState("Once upon a time");
  const [tokens, setTokens] = useState<TokenView[]>([]);
  const [sampling, setSampling] = useState<Sampling>({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: 42 });
  const [step, setStep] = useState<InspectStep | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const run = async <T,>(f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    try {
      const r = await f();
      setError(undefined);
      return r;
    } catch (e) {
      setError((e as Error).message);
      return undefined;
    } finally {
      setBusy(false);
    }
  };

  const start = () => run(async () => {
    const r = await engine.call<TokenizeResult>("tokenize", { text: prompt });
    setTokens(r.tokens.slice());
  });
  useEffect(() => { void start(); }, [engine]);
  useEffect(() => {
    if (tokens.length === 0) return;
    void run(async () => setStep(await engine.call<InspectStep>("step", { ids: tokens.map((t) => t.id), sampling, topN: 15 })));
  }, [tokens, sampling]);

  const take = (t: TokenView) => setTokens([...tokens, t]);
  const auto = (n: number) => run(async () => {
    let ts = tokens;
    for (let i = 0; i < n && ts.length < (info.hyperparameters["contextLength"] as number); i++) {
      const s = await engine.call<InspectStep>("step", { ids: ts.map((t) => t.id), sampling: { ...sampling, seed: sampling.seed + ts.length }, topN: 15 });
      if (s.endOfGeneration) break;
      ts = [...ts, s.chosen];
    }
    setTokens(ts);
  });

  return (
    <div data-testid="view-generate">
      <div class="controls">
        <input data-testid="generate-prompt" value={prompt} onInput={(e) => setPrompt((e.target as HTMLInputElement).value)} size={50} />
        <button onClick={() => void start()} disabled={busy}>Start over</button>
      </div>
      <div class="controls">
        {FIELDS.map((f) => (
          <label key={f.key}>{f.label} <input type="number" data-testid={`sampling-${f.key}`} step={f.step} min={f.min} max={f.max} value={sampling[f.key]}
            onChange={(e) => setSampling({ ...sampling, [f.key]: Number((e.target as HTMLInputElement).value) })} /></label>
        ))}
      </div>
      <p class="sequence" data-testid="sequence">{tokens.map((t, i) => <span key={i} class="seq-token" title={`id ${t.id}`}>{t.text}</span>)}</p>
      {error !== undefined && <p class="error">{error}</p>}
      {step !== undefined && (
        <>
          <div class="controls">
            <button data-testid="take-chosen" disabled={busy} onClick={() => take(step.chosen)}>Take the sampled token: <code>{visible(step.chosen.text)}</code></button>
            <button disabled={busy} onClick={() => void auto(10)}>Sample 10 more</button>
            {step.endOfGeneration && <span class="muted">the sampled token ends generation</span>}
          </div>
          <h3>Next-token distribution (click a token to force it)</h3>
          <Figure testId="step-chart" deps={[step]} make={() => barChart(step.next.map((t) => ({ label: visible(t.text), value: t.prob })), { xLabel: "probability" })} />
          <div class="chips">
            {step.next.map((t) => <button key={t.id} class="chip" data-testid="force-token" data-id={t.id} onClick={() => take(t)}>{visible(t.text)} <small>{pct(t.prob)}</small></button>)}
          </div>
          <h3>Sampler stages</h3>
          <div class="stages" data-testid="stages">
            {step.stages.map((s, i) => (
              <div key={i} class="stage" data-testid="stage" data-stage={s.stage} data-before={s.before.size} data-after={s.after.size}>
                <h4>{s.stage}: {s.before.size} → {s.after.size} candidates</h4>
                <table class="numbers">
                  <thead><tr><th>token</th><th>before</th><th>after</th></tr></thead>
                  <tbody>{s.before.top.slice(0, 8).map((t) => {
                    const after = s.after.top.find((x) => x.id === t.id);
                    return <tr key={t.id} class={after === undefined ? "dropped" : ""}><td><code>{visible(t.text)}</code></td><td>{pct(t.prob)}</td><td>{after === undefined ? "removed" : pct(after.prob)}</td></tr>;
                  })}</tbody>
                </table>
              </div>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
