/**
 * A loss-curve chart as a self-contained SVG string (no dependencies, no scripts, no external fonts):
 * train loss as a line, validation loss as a line with dots, steps on x, loss on y, "nice" tick values,
 * a legend. Non-finite losses (a diverged step) are left out rather than breaking the scale.
 */

import { PeelError } from "../../util/errors.js";

export interface LossPoint {
  readonly step: number;
  readonly loss: number;
}

export interface LossCurves {
  readonly train: readonly LossPoint[];
  readonly val: readonly LossPoint[];
}

export interface LossCurveOptions {
  readonly title?: string;
  /** Pixels; default 640. */
  readonly width?: number;
  /** Pixels; default 400. */
  readonly height?: number;
}

const COLORS = { train: "#1f77b4", val: "#d62728" } as const;
const MARGIN = { left: 64, right: 20, top: 40, bottom: 48 } as const;

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly x: Axis;
  readonly y: Axis;
}

interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
  /** Data value → pixel. */
  readonly px: (v: number) => number;
}

export function lossCurveSvg(points: LossCurves, opts: LossCurveOptions = {}): string {
  const width = size("width", opts.width ?? 640, 160), height = size("height", opts.height ?? 400, 120);
  const train = points.train.filter(finite), val = points.val.filter(finite);
  const title = opts.title === undefined ? "" : text(width / 2, 24, opts.title, 'text-anchor="middle" font-size="15"');
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`;
  const background = `<rect width="${width}" height="${height}" fill="white"/>`;
  if (train.length === 0 && val.length === 0) {
    return [open, background, title, text(width / 2, height / 2, "no data", 'text-anchor="middle" fill="#666"'), "</svg>"].join("\n");
  }
  const all = [...train, ...val];
  const f: Frame = {
    width, height,
    x: axis(all.map((p) => p.step), MARGIN.left, width - MARGIN.right, true),
    y: axis(all.map((p) => p.loss), height - MARGIN.bottom, MARGIN.top, false),
  };
  return [open, background, title, axes(f), series(f, train, "train", false), series(f, val, "val", true), legend(f, train.length > 0, val.length > 0), "</svg>"].join("\n");
}

function finite(p: LossPoint): boolean {
  return Number.isFinite(p.step) && Number.isFinite(p.loss);
}

function size(name: string, v: number, min: number): number {
  if (!(Number.isFinite(v) && v >= min && v <= 100_000)) throw new PeelError("INVALID_ARGUMENT", `loss curve ${name} must be a number in ${min}..100000, got ${v}`);
  return v;
}

/** A linear axis over `values` stretched to nice tick bounds, mapped onto pixels from0 → to1. */
function axis(values: readonly number[], from: number, to: number, integer: boolean): Axis {
  // a loop, not Math.min(...values): a long run's log can exceed the engine's argument limit
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === hi) {
    const pad = integer ? 1 : Math.abs(lo) * 0.1 || 1;
    // step 0 alone should not get a "-1" tick
    lo = integer && lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 5, integer);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let k = 0; lo + k * step <= hi + step * 1e-9; k++) ticks.push(lo + k * step);
  return { lo, hi, ticks, px: (v) => from + ((v - lo) / (hi - lo)) * (to - from) };
}

/** The nearest of 1, 2, 5 × 10^k at or above `raw` (at least 1 for integer axes). */
function niceStep(raw: number, integer: boolean): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  return integer ? Math.max(1, step) : step;
}

function axes(f: Frame): string {
  const { x, y } = f;
  const left = x.px(x.lo), right = x.px(x.hi), bottom = y.px(y.lo), top = y.px(y.hi);
  const xStep = (x.ticks[1] ?? x.lo + 1) - x.lo, yStep = (y.ticks[1] ?? y.lo + 1) - y.lo;
  const out: string[] = [];
  for (const t of x.ticks) {
    out.push(`<line x1="${n(x.px(t))}" y1="${n(bottom)}" x2="${n(x.px(t))}" y2="${n(bottom + 5)}" stroke="#333"/>`);
    out.push(text(x.px(t), bottom + 18, label(t, xStep), 'text-anchor="middle" class="x-tick"'));
  }
  for (const t of y.ticks) {
    out.push(`<line x1="${n(left)}" y1="${n(y.px(t))}" x2="${n(right)}" y2="${n(y.px(t))}" stroke="#eee"/>`);
    out.push(text(left - 6, y.px(t) + 4, label(t, yStep), 'text-anchor="end" class="y-tick"'));
  }
  // the axis lines go last so the light grid lines do not paint over them
  out.push(`<g class="axes" stroke="#333" fill="none"><path d="M${n(left)},${n(top)}V${n(bottom)}H${n(right)}"/></g>`);
  out.push(text((left + right) / 2, f.height - 8, "step", 'text-anchor="middle"'));
  out.push(text(16, (top + bottom) / 2, "loss", `text-anchor="middle" transform="rotate(-90 16 ${n((top + bottom) / 2)})"`));
  return out.join("\n");
}

function series(f: Frame, pts: readonly LossPoint[], kind: "train" | "val", dots: boolean): string {
  if (pts.length === 0) return "";
  const xy = pts.map((p) => [f.x.px(p.step), f.y.px(p.loss)] as const);
  const color = COLORS[kind];
  const line = `<polyline class="${kind}" fill="none" stroke="${color}" stroke-width="1.5" points="${xy.map(([a, b]) => `${n(a)},${n(b)}`).join(" ")}"/>`;
  // a single point draws no line, so it always gets a dot
  if (!dots && pts.length > 1) return line;
  return [line, ...xy.map(([a, b]) => `<circle class="${kind}" cx="${n(a)}" cy="${n(b)}" r="3" fill="${color}"/>`)].join("\n");
}

function legend(f: Frame, hasTrain: boolean, hasVal: boolean): string {
  const entries = [...(hasTrain ? [["train", "train"] as const] : []), ...(hasVal ? [["val", "validation"] as const] : [])];
  const x = f.width - MARGIN.right - 100;
  // an opaque box so curves passing under the legend do not run through its text
  const box = `<rect x="${x - 6}" y="${MARGIN.top}" width="100" height="${entries.length * 18 + 4}" fill="white" fill-opacity="0.85"/>`;
  return box + "\n" + entries.map(([kind, name], i) => {
    const y = MARGIN.top + 8 + i * 18;
    return `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${COLORS[kind]}" stroke-width="2"/>\n${text(x + 26, y + 4, name, 'class="legend"')}`;
  }).join("\n");
}

function text(x: number, y: number, s: string, attrs: string): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeXml(s)}</text>`;
}

/** A tick value with as many decimals as the tick spacing needs (so 0.1 steps never print 0.30000000000000004). */
function label(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

const n = (v: number): string => String(Math.round(v * 100) / 100);

const XML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes markup characters and drops control characters, which XML 1.0 does not allow at all. */
export function escapeXml(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "").replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}
