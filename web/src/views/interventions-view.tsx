/**
 * Interventions: scale or zero one attention head or one layer's feed-forward output and see the next-token
 * distribution before and after (KL divergence, largest logit change), and activation patching: replace
 * one position's residual stream after a layer with the same layer's stream from a second prompt. The
 * engine's `ablate` and `patch` calls do the work.
 */
import { useState } from "preact/hooks";
import type { ChangeView, InspectorInfo } from "peel";
import type { Engine } from "../engine/engine";
import { barChart, type Bar } from "../plots/charts";
import { Figure } from "../plots/figure";
import { visible } from "./format";

function Change({ change, testId }: { readonly change: ChangeView; readonly testId: string }) {
  const bars: Bar[] = [];
  const ids = [...new Set([...change.before.slice(0, 8).map((t) => t.id), ...change.after.slice(0, 8).map((t) => t.id)])];
  for (const id of ids) {
    const b = change.before.find((t) => t.id === id), a = change.after.find((t) => t.id === id);
    const label = visible((b ?? a)?.text ?? "");
    bars.push({ label: `${label} (before)`, value: b?.prob ?? 0, group: "before" }, { label: `${label} (after)`, value: a?.prob ?? 0, group: "after" });
  }
  return (
    <div data-testid={testId} data-kl={change.kl} data-max-logit-change={change.maxLogitChange}>
      <p>KL(before ‖ after) = <strong>{change.kl.toPrecision(4)}</strong> nats · largest logit change {change.maxLogitChange.toPrecision(4)} · the original top token keeps {(100 * change.topTokenProbAfter).toFixed(2)}%</p>
      <Figure deps={[change]} make={() => barChart(bars, { xLabel: "probability" })} />
      <table class="hidden-data">
        <tbody>{change.after.map((t) => <tr key={t.id} data-testid={`${testId}-after`} data-id={t.id} data-prob={t.prob}><td>{t.text}</td></tr>)}</tbody>
      </table>
    </div>
  );
}

export function InterventionsView({ engine, info }: { readonly engine: Engine; readonly info: InspectorInfo }) {
  const nLayers = info.hyperparameters["nLayers"] as number, nHeads = info.hyperparameters["nHeads"] as number;
  const [text, setText] = useState("Once upon a time, there was a little girl named Lily. She");
  const [kind, setKind] = useState<"head" | "mlp">("head");
  const [layer, setLayer] = useState(0);
  const [head, setHead] = useState(0);
  const [scale, setScale] = useState(0);
  const [ablation, setAblation] = useState<ChangeView | undefined>(undefined);
  const [source, setSource] = useState("Once upon a time, there was a little boy named Tom. He");
  const [pLayer, setPLayer] = useState(0);
  const [pos, setPos] = useState(0);
  const [patch, setPatch] = useState<ChangeView | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = (f: () => Promise<void>) => { f().then(() => setError(undefined), (e: Error) => setError(e.message)); };
  const num = (set: (n: number) => void) => (e: Event) => set(Number((e.target as HTMLInputElement | HTMLSelectElement).value));

  return (
    <div data-testid="view-interventions">
      <textarea data-testid="intervention-prompt" rows={2} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      {error !== undefined && <p class="error" data-testid="intervention-error">{error}</p>}
      <section>
        <h3>Ablation</h3>
        <div class="controls">
          <select data-testid="ablate-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as "head" | "mlp")}>
            <option value="head">attention head</option><option value="mlp">feed-forward (MLP)</option>
          </select>
          <label>layer <select data-testid="ablate-layer" value={layer} onChange={num(setLayer)}>{Array.from({ length: nLayers }, (_, l) => <option key={l} value={l}>{l}</option>)}</select></label>
          {kind === "head" && <label>head <select data-testid="ablate-head" value={head} onChange={num(setHead)}>{Array.from({ length: nHeads }, (_, h) => <option key={h} value={h}>{h}</option>)}</select></label>}
          <label>scale <input type="number" data-testid="ablate-scale" step={0.1} value={scale} onChange={num(setScale)} /></label>
          <button data-testid="ablate-run" onClick={() => run(async () => setAblation(await engine.call<ChangeView>("ablate", { text, ablations: [kind === "head" ? { kind, layer, head, scale } : { kind, layer, scale }] })))}>Run</button>
        </div>
        {ablation !== undefined && <Change change={ablation} testId="ablation" />}
      </section>
      <section>
        <h3>Activation patching</h3>
        <p class="muted">The stream of the prompt above at (layer, position) is replaced by the second prompt's stream at the same place.</p>
        <textarea data-testid="patch-source" rows={2} value={source} onInput={(e) => setSource((e.target as HTMLTextAreaElement).value)} />
        <div class="controls">
          <label>after layer <select data-testid="patch-layer" value={pLayer} onChange={num(setPLayer)}>{Array.from({ length: nLayers }, (_, l) => <option key={l} value={l}>{l}</option>)}</select></label>
          <label>position <input type="number" data-testid="patch-pos" min={0} value={pos} onChange={num(setPos)} /></label>
          <button data-testid="patch-run" onClick={() => run(async () => setPatch(await engine.call<ChangeView>("patch", { text, sourceText: source, layer: pLayer, pos })))}>Patch</button>
        </div>
        {patch !== undefined && <Change change={patch} testId="patch" />}
      </section>
    </div>
  );
}
