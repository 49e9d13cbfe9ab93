/**
 * The logit lens: every layer's residual stream read through the final norm and the LM head, as a grid of
 * (layer, position) cells showing the top token and its probability, with the rank of the token the model
 * finally predicts there. Below, the real next-token distribution and the norms of the stream and of each
 * sub-block's output per layer. All numbers are the engine's `analyze` result.
 */
import type { AnalyzeResult } from "peel";
import { barChart, lineChart, probColor } from "../plots/charts";
import { Figure } from "../plots/figure";
import { pct, visible } from "./format";

export function LensView({ analysis }: { readonly analysis: AnalyzeResult | undefined }) {
  if (analysis === undefined) return <p class="muted">Run a forward pass to see the lens.</p>;
  const a = analysis;
  const norms: Array<{ x: number; y: number; series: string }> = [];
  const last = a.tokens.length - 1;
  if (a.norms.embed !== null) norms.push({ x: -1, y: a.norms.embed[last] ?? 0, series: "residual stream" });
  for (const l of a.norms.layers) {
    if (l.resid !== null) norms.push({ x: l.layer, y: l.resid[last] ?? 0, series: "residual stream" });
    if (l.attnOut !== null) norms.push({ x: l.layer, y: l.attnOut[last] ?? 0, series: "attention output" });
    if (l.ffnOut !== null) norms.push({ x: l.layer, y: l.ffnOut[last] ?? 0, series: "feed-forward output" });
  }
  return (
    <div data-testid="view-lens">
      <h3>Next token (the model's real distribution)</h3>
      <Figure testId="next-chart" deps={[a]} make={() => barChart(a.next.slice(0, 12).map((t) => ({ label: visible(t.text), value: t.prob })), { xLabel: "probability" })} />
      <table class="hidden-data" data-testid="next-table">
        <tbody>{a.next.map((t) => <tr key={t.id} data-id={t.id} data-prob={t.prob}><td>{t.text}</td></tr>)}</tbody>
      </table>
      <h3>Logit lens</h3>
      <p class="muted">Each cell: the top token when that layer's stream goes straight to the head; colour = its probability; the small number is the rank of the model's final prediction (shown in the last row).</p>
      <div class="lens-scroll">
        <table class="lens" data-testid="lens-grid">
          <thead>
            <tr><th>layer</th>{a.tokens.map((t, i) => <th key={i} title={`id ${t.id}`}>{visible(t.text)}</th>)}</tr>
          </thead>
          <tbody>
            {[...a.lens.layers].reverse().map((row) => (
              <tr key={row.layer} data-layer={row.layer}>
                <th>{row.layer < 0 ? "embed" : row.layer}</th>
                {row.cells.map((cell, pos) => {
                  const top = cell.top[0];
                  return (
                    <td key={pos} data-testid="lens-cell" data-layer={row.layer} data-pos={pos} data-id={top?.id} data-prob={top?.prob} data-target-rank={cell.targetRank} data-target-prob={cell.targetProb}
                      style={{ background: probColor(top?.prob ?? 0), color: (top?.prob ?? 0) > 0.6 ? "white" : "black" }}
                      title={cell.top.map((t) => `${JSON.stringify(t.text)} ${pct(t.prob)}`).join("\n") + `\nfinal prediction: rank ${cell.targetRank}, ${pct(cell.targetProb)}`}>
                      <span>{visible(top?.text ?? "")}</span>
                      <small>{pct(top?.prob ?? 0)} · r{cell.targetRank}</small>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Norms at the last position, per layer</h3>
      <Figure testId="norms-chart" deps={[a]} make={() => lineChart(norms, { xLabel: "layer (−1 = embeddings)", yLabel: "L2 norm" })} />
    </div>
  );
}
