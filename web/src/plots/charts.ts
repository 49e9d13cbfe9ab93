/**
 * The inspector's charts, all drawn by Observable Plot: probability bars, attention heatmaps, line charts of
 * norms and a scatter of projected embeddings. Every mark carries a title with the exact number it shows,
 * so a hover (or a test) reads the engine's value, not a rounded pixel.
 */
import * as Plot from "@observablehq/plot";

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly group?: string;
}

/** Horizontal bars, best first (labels kept unique by their rank). */
export function barChart(bars: readonly Bar[], opts: { readonly xLabel: string; readonly width?: number; readonly domainMax?: number }): Element {
  const rows = bars.map((b, i) => ({ ...b, key: `${i + 1}. ${b.label}` }));
  return Plot.plot({
    width: opts.width ?? 520,
    height: 24 + rows.length * 20,
    marginLeft: 150,
    x: { label: opts.xLabel, grid: true, domain: [0, opts.domainMax ?? Math.max(1e-9, ...rows.map((r) => r.value))] },
    y: { label: null, domain: rows.map((r) => r.key) },
    color: { legend: rows.some((r) => r.group !== undefined) },
    marks: [
      Plot.barX(rows, { x: "value", y: "key", fill: rows.some((r) => r.group !== undefined) ? "group" : "steelblue", title: (d: { value: number; label: string }) => `${d.label}: ${d.value}` }),
      Plot.ruleX([0]),
    ],
  });
}

export interface Cell {
  readonly query: number;
  readonly key: number;
  readonly weight: number;
}

/** One head's attention: rows are query positions, columns key positions, labelled with the tokens. */
/** Query rows × key columns; `keyLabels` for a rectangular map (cross-attention: decoder positions × input positions), else square. */
export function attentionHeatmap(cells: readonly Cell[], labels: readonly string[], opts: { readonly size?: number; readonly title?: string; readonly keyLabels?: readonly string[] }): Element {
  const keyLabels = opts.keyLabels ?? labels;
  const size = opts.size ?? Math.min(640, Math.max(240, 28 * Math.max(labels.length, keyLabels.length) + 120));
  const names = labels.map((l, i) => `${i}:${l}`);
  const keyNames = keyLabels.map((l, i) => `${i}:${l}`);
  return Plot.plot({
    width: size,
    height: opts.keyLabels === undefined ? size : Math.max(160, Math.round((size * (labels.length + 4)) / (keyLabels.length + 4))),
    marginLeft: 110,
    marginBottom: 90,
    caption: opts.title ?? null,
    x: { label: "key (attended to)", domain: keyNames, tickRotate: -60 },
    y: { label: "query", domain: names },
    color: { type: "linear", scheme: "blues", domain: [0, 1], legend: true, label: "attention weight" },
    marks: [
      Plot.cell(cells, { x: (d: Cell) => keyNames[d.key], y: (d: Cell) => names[d.query], fill: "weight", title: (d: Cell) => `q${d.query} → k${d.key}: ${d.weight}`, inset: 0.5 }),
    ],
  });
}

/** Lines of values per layer, one series per name. */
export function lineChart(points: ReadonlyArray<{ readonly x: number; readonly y: number; readonly series: string }>, opts: { readonly xLabel: string; readonly yLabel: string }): Element {
  return Plot.plot({
    width: 560,
    height: 260,
    x: { label: opts.xLabel, grid: true },
    y: { label: opts.yLabel, grid: true },
    color: { legend: true },
    marks: [
      Plot.line(points, { x: "x", y: "y", stroke: "series", marker: "circle" }),
      Plot.tip(points, Plot.pointer({ x: "x", y: "y", title: (d: { series: string; x: number; y: number }) => `${d.series} @ ${d.x}: ${d.y.toFixed(4)}` })),
    ],
  });
}

/** Labelled points of a 2-D projection. */
export function scatter(points: ReadonlyArray<{ readonly x: number; readonly y: number; readonly label: string }>, opts: { readonly xLabel: string; readonly yLabel: string }): Element {
  return Plot.plot({
    width: 560,
    height: 420,
    inset: 30,
    x: { label: opts.xLabel, grid: true },
    y: { label: opts.yLabel, grid: true },
    marks: [
      Plot.dot(points, { x: "x", y: "y", fill: "steelblue", r: 4, title: (d: { label: string; x: number; y: number }) => `${d.label}: (${d.x}, ${d.y})` }),
      Plot.text(points, { x: "x", y: "y", text: "label", dy: -10, fontSize: 12 }),
    ],
  });
}

/** A colour for a probability, from Plot's own scale (the lens grid's cells are HTML, not marks). */
const probScale = Plot.scale({ color: { type: "linear", scheme: "YlGnBu", domain: [0, 1] } });
export function probColor(p: number): string {
  return String(probScale.apply(p));
}
