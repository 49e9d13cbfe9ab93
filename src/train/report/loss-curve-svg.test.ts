// The loss chart: well-formed SVG (balanced tags, one root), one polyline vertex per point, dots on
// validation, nice tick labels, escaping, and the degenerate inputs (nothing, one point, flat loss, NaN).

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { escapeXml, lossCurveSvg, type LossPoint } from "./loss-curve-svg.js";

/** Checks tags nest and close, and returns the element names in order. */
function parseTags(svg: string): string[] {
  const stack: string[] = [], names: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m as unknown as [string, string, string, string];
    if (closing) assert.equal(stack.pop(), name, `closing </${name}>`);
    else {
      names.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  assert.deepEqual(stack, [], "all tags closed");
  assert.equal(names[0], "svg");
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  return names;
}

const polyline = (svg: string, cls: string): string[] =>
  (new RegExp(`<polyline class="${cls}"[^>]*points="([^"]*)"`).exec(svg)?.[1] ?? "").split(" ").filter(Boolean);
const ticks = (svg: string, cls: string): string[] => [...svg.matchAll(new RegExp(`class="${cls}">([^<]*)<`, "g"))].map((m) => m[1]!);
const curve = (n: number, every: number, f: (s: number) => number): LossPoint[] =>
  Array.from({ length: n }, (_, i) => ({ step: i * every, loss: f(i * every) }));

test("many points: one vertex per point, val dots, legend, nice ticks", () => {
  const train = curve(200, 5, (s) => 4 * Math.exp(-s / 300) + 1.2);
  const val = curve(10, 100, (s) => 4 * Math.exp(-s / 300) + 1.4);
  const svg = lossCurveSvg({ train, val }, { title: "tiny <model> & co" });
  const names = parseTags(svg);
  assert.equal(polyline(svg, "train").length, 200);
  assert.equal(polyline(svg, "val").length, 10);
  assert.equal(names.filter((x) => x === "circle").length, 10, "dots on validation only");
  assert.deepEqual(ticks(svg, "legend"), ["train", "validation"]);
  assert.ok(svg.includes("tiny &lt;model&gt; &amp; co"));
  assert.deepEqual(ticks(svg, "x-tick"), ["0", "200", "400", "600", "800", "1000"]);
  assert.deepEqual(ticks(svg, "y-tick"), ["1", "2", "3", "4", "5", "6"]);
  for (const v of polyline(svg, "train")) {
    const [x, y] = v.split(",").map(Number) as [number, number];
    assert.ok(x >= 64 && x <= 620 && y >= 40 && y <= 352, `vertex ${v} inside the plot`);
  }
});

test("nothing to plot: an SVG that says no data", () => {
  for (const pts of [{ train: [], val: [] }, { train: [{ step: 0, loss: NaN }], val: [] }]) {
    const svg = lossCurveSvg(pts);
    parseTags(svg);
    assert.ok(svg.includes(">no data<"));
    assert.ok(!svg.includes("<polyline"));
  }
});

test("one point and flat loss still give a valid chart with finite coordinates", () => {
  for (const pts of [{ train: [{ step: 0, loss: 3 }], val: [] }, { train: [], val: [{ step: 7, loss: 2 }] }, { train: curve(5, 1, () => 2), val: [] }]) {
    const svg = lossCurveSvg(pts);
    parseTags(svg);
    assert.ok(!/NaN|Infinity/.test(svg), svg);
    assert.ok(/<circle/.test(svg) || pts.train.length > 1, "a lone point is drawn as a dot");
    assert.ok(!ticks(svg, "x-tick").some((t) => t.startsWith("-")), "no negative steps");
  }
});

test("non-finite losses are skipped, small loss ranges get decimal ticks", () => {
  const svg = lossCurveSvg({ train: [{ step: 1, loss: 0.21 }, { step: 2, loss: Infinity }, { step: 3, loss: 0.24 }], val: [] });
  assert.equal(polyline(svg, "train").length, 2);
  assert.deepEqual(ticks(svg, "y-tick"), ["0.21", "0.22", "0.23", "0.24"]);
});

test("escaping and size validation", () => {
  assert.equal(escapeXml(`a<b>&"c'\u0001`), "a&lt;b&gt;&amp;&quot;c&apos;");
  for (const width of [0, NaN, 1e9]) assert.throws(() => lossCurveSvg({ train: [], val: [] }, { width }), PeelError);
  assert.ok(lossCurveSvg({ train: [], val: [] }, { width: 300, height: 200 }).includes('width="300" height="200"'));
});
