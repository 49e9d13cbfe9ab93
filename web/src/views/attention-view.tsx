/**
 * Attention heatmaps: for a chosen map and layer, each query head's softmax weights (row = query, column =
 * key), from the engine's `attention` call on the last traced prompt. A decoder's self-attention is causal
 * (earlier positions only); an encoder's (BERT, T5's encoder) is bidirectional (every position of the text);
 * a T5 decoder's cross-attention is rectangular, decoder positions over the encoded input. Grouped-query heads
 * say which key/value head they read; a sliding-window layer says its window; a map too large to keep whole
 * arrives summarised as each row's top keys and is drawn as such, with a note.
 */
import { useEffect, useState } from "preact/hooks";
import type { AnalyzeResult, AttentionView as AttentionMap, TokenView } from "peel";
import type { Engine } from "../engine/engine";
import { attentionHeatmap, type Cell } from "../plots/charts";
import { Figure } from "../plots/figure";
import { visible } from "./format";

type MapChoice = AnalyzeResult["maps"][number];

function cellsOf(map: AttentionMap, head: number): Cell[] {
  const n = map.nTokens, nk = map.nKeys;
  const out: Cell[] = [];
  if (!map.summarised) {
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < (map.causal ? Math.min(q + 1, nk) : nk); k++) out.push({ query: q, key: k, weight: map.weights[(head * n + q) * nk + k] ?? 0 });
    }
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

const mapName = (m: MapChoice) => `${m.stack} ${m.source}-attention`;

/** Query and key labels: a T5 decoder's rows are its own tokens; cross-attention's keys are the input's. */
function labelsOf(a: AnalyzeResult, m: MapChoice): { queries: string[]; keys: string[] | undefined } {
  const text = (ts: readonly TokenView[]) => ts.map((t) => visible(t.text));
  const queries = m.stack === "decoder" && a.decoderTokens !== null ? text(a.decoderTokens) : text(a.tokens);
  return { queries, keys: m.source === "cross" ? text(a.tokens) : undefined };
}

function note(map: AttentionMap, h: number): string {
  const kv = new Set(map.kvHeadOf).size;
  const what = map.source === "cross" ? "; decoder positions (rows) over the encoded input (columns), every input position visible"
    : !map.causal ? "; bidirectional: every position of the text is visible, later ones included"
      : map.window > 0 ? `; sliding window of ${map.window} positions (weights outside it are 0)` : "; every earlier position is visible";
  return `Layer ${map.layer}: ${map.stack} ${map.source}-attention, ${map.nHeads} query heads reading ${kv} key/value heads` +
    (kv < map.nHeads ? ` (grouped-query: head ${h} reads kv head ${map.kvHeadOf[h]})` : "") + what +
    (map.summarised ? `; summarised to each row's top ${map.k} keys because the full map is too large` : "") + ".";
}

export function AttentionView({ engine, analysis }: { readonly engine: Engine; readonly analysis: AnalyzeResult | undefined }) {
  const [choice, setChoice] = useState(0);
  const [layer, setLayer] = useState(0);
  const [head, setHead] = useState(0);
  const [map, setMap] = useState<AttentionMap | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const chosen = analysis?.maps[Math.min(choice, analysis.maps.length - 1)];
  const l = chosen === undefined ? 0 : Math.min(layer, chosen.nLayers - 1);

  useEffect(() => {
    if (analysis === undefined || chosen === undefined) return;
    let live = true;
    engine.call<AttentionMap>("attention", { layer: l, stack: chosen.stack, source: chosen.source })
      .then((m) => { if (live) { setMap(m); setError(undefined); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [engine, analysis, l, chosen?.stack, chosen?.source]);

  if (analysis === undefined || chosen === undefined) return <p class="muted">Run a forward pass to see attention.</p>;
  const { queries, keys } = labelsOf(analysis, chosen);
  const h = Math.min(head, analysis.nHeads - 1);
  const current = map !== undefined && map.layer === l && map.stack === chosen.stack && map.source === chosen.source ? map : undefined;
  return (
    <div data-testid="view-attention">
      <div class="controls">
        {analysis.maps.length > 1 && (
          <label>map <select data-testid="attention-map" value={choice} onChange={(e) => setChoice(Number((e.target as HTMLSelectElement).value))}>
            {analysis.maps.map((m, i) => <option key={i} value={i}>{mapName(m)}</option>)}
          </select></label>
        )}
        <label>layer <select data-testid="attention-layer" value={l} onChange={(e) => setLayer(Number((e.target as HTMLSelectElement).value))}>
          {Array.from({ length: chosen.nLayers }, (_, i) => <option key={i} value={i}>{i}{chosen.source === "self" && (analysis.windows[i] ?? 0) > 0 && chosen.stack === (analysis.role === "decoder" ? "decoder" : "encoder") ? ` (window ${analysis.windows[i]})` : ""}</option>)}
        </select></label>
        <label>head <select data-testid="attention-head" value={h} onChange={(e) => setHead(Number((e.target as HTMLSelectElement).value))}>
          {Array.from({ length: analysis.nHeads }, (_, i) => <option key={i} value={i}>{i}</option>)}
        </select></label>
      </div>
      {analysis.decoderTokens !== null && (
        <p class="muted" data-testid="attention-output">Decoder positions: {analysis.decoderTokens.map((t) => visible(t.text)).join(" · ")}</p>
      )}
      {error !== undefined && <p class="error">{error}</p>}
      {current !== undefined && (
        <>
          <p class="muted" data-testid="attention-note">{note(current, h)}</p>
          <Figure testId="attention-heatmap" deps={[current, h]} make={() => attentionHeatmap(cellsOf(current, h), queries, { title: `${mapName(chosen)}, layer ${current.layer}, head ${h}`, ...(keys !== undefined ? { keyLabels: keys } : {}) })} />
          <h3>All heads of layer {current.layer}</h3>
          <div class="small-multiples">
            {Array.from({ length: current.nHeads }, (_, i) => (
              <button key={i} class={i === h ? "thumb active" : "thumb"} onClick={() => setHead(i)}>
                <Figure deps={[current]} make={() => attentionHeatmap(cellsOf(current, i), queries.map(() => ""), { size: 200, title: `head ${i}`, ...(keys !== undefined ? { keyLabels: keys.map(() => "") } : {}) })} />
              </button>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
