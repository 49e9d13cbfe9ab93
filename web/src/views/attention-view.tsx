/**
 * Attention heatmaps: for a chosen layer, each query head's softmax weights over earlier positions (row =
 * query, column = key), from the engine's `attention` call on the last traced prompt. Grouped-query heads
 * say which key/value head they read; a sliding-window layer says its window; a map too large to keep whole
 * arrives summarised as each row's top keys and is drawn as such, with a note.
 */
import { useEffect, useState } from "preact/hooks";
import type { AnalyzeResult, AttentionView as AttentionMap } from "peel";
import type { Engine } from "../engine/engine";
import { attentionHeatmap, type Cell } from "../plots/charts";
import { Figure } from "../plots/figure";
import { visible } from "./format";

function cellsOf(map: AttentionMap, head: number): Cell[] {
  const n = map.nTokens;
  const out: Cell[] = [];
  if (!map.summarised) {
    for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) out.push({ query: q, key: k, weight: map.weights[(head * n + q) * n + k] ?? 0 });
    return out;
  }
  const kk = map.k ?? 0;
  for (let q = 0; q < n; q++) {
    for (let j = 0; j < kk; j++) {
      const at = (head * n + q) * kk + j;
      const key = map.positions?.[at] ?? -1;
      if (key >= 0) out.push({ query: q, key, weight: map.weights[at] ?? 0 });
    }
  }
  return out;
}

export function AttentionView({ engine, analysis }: { readonly engine: Engine; readonly analysis: AnalyzeResult | undefined }) {
  const [layer, setLayer] = useState(0);
  const [head, setHead] = useState(0);
  const [map, setMap] = useState<AttentionMap | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (analysis === undefined) return;
    let live = true;
    engine.call<AttentionMap>("attention", { layer })
      .then((m) => { if (live) { setMap(m); setError(undefined); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [engine, analysis, layer]);

  if (analysis === undefined) return <p class="muted">Run a forward pass to see attention.</p>;
  const labels = analysis.tokens.map((t) => visible(t.text));
  const h = Math.min(head, analysis.nHeads - 1);
  return (
    <div data-testid="view-attention">
      <div class="controls">
        <label>layer <select data-testid="attention-layer" value={layer} onChange={(e) => setLayer(Number((e.target as HTMLSelectElement).value))}>
          {Array.from({ length: analysis.nLayers }, (_, l) => <option key={l} value={l}>{l}{(analysis.windows[l] ?? 0) > 0 ? ` (window ${analysis.windows[l]})` : ""}</option>)}
        </select></label>
        <label>head <select data-testid="attention-head" value={h} onChange={(e) => setHead(Number((e.target as HTMLSelectElement).value))}>
          {Array.from({ length: analysis.nHeads }, (_, i) => <option key={i} value={i}>{i}</option>)}
        </select></label>
      </div>
      {error !== undefined && <p class="error">{error}</p>}
      {map !== undefined && map.layer === layer && (
        <>
          <p class="muted" data-testid="attention-note">
            Layer {map.layer}: {map.nHeads} query heads reading {new Set(map.kvHeadOf).size} key/value heads
            {new Set(map.kvHeadOf).size < map.nHeads ? ` (grouped-query: head ${h} reads kv head ${map.kvHeadOf[h]})` : ""}
            {map.window > 0 ? `; sliding window of ${map.window} positions (weights outside it are 0)` : "; every earlier position is visible"}
            {map.summarised ? `; summarised to each row's top ${map.k} keys because the full map is too large` : ""}.
          </p>
          <Figure testId="attention-heatmap" deps={[map, h]} make={() => attentionHeatmap(cellsOf(map, h), labels, { title: `layer ${map.layer}, head ${h}` })} />
          <h3>All heads of layer {map.layer}</h3>
          <div class="small-multiples">
            {Array.from({ length: map.nHeads }, (_, i) => (
              <button key={i} class={i === h ? "thumb active" : "thumb"} onClick={() => setHead(i)}>
                <Figure deps={[map]} make={() => attentionHeatmap(cellsOf(map, i), labels.map(() => ""), { size: 200, title: `head ${i}` })} />
              </button>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
