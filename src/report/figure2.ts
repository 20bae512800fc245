/**
 * Fig. 2 as a journal prints it: three panels on one time axis — (a) the voltage with the regimes shaded, (b) the
 * current density, (c) the contact fraction and the local current density — at single-column (85 mm) or
 * double-column (180 mm) width, with text of at least 7 pt at print size, typeset axis names (italic quantities,
 * subscripts, upright units), SI prefixes chosen from the data, round axis ends, the Okabe–Ito palette, and a caption
 * draft that says what is drawn and where R_ref came from. Runs in Node only (the page has its own charts).
 */
import { extent, niceStep, regimeBands, regimeColor, regimeLabel, tickLabel, wallText, withGaps, type ReportCell } from './charts.js';
import { formatOhm } from '../domain/detector/index.js';
import { OKABE_ITO } from './palette.js';

export type FigureWidth = 'single' | 'double' | number;

/** Width in mm of a journal's single and double column. */
export const COLUMN_MM = { single: 85, double: 180 } as const;

export function figureWidth_mm(w: FigureWidth): number {
  return typeof w === 'number' ? w : COLUMN_MM[w];
}

/** What the figure and its caption need beyond the chart data. */
export interface Figure2Context {
  /** R_ref at 25 °C (Ω), where it came from, and when it was calibrated (h since the start). */
  readonly rRef25_ohm?: number | null;
  readonly rRefSource?: string | null;
  readonly calibratedAt_h?: number | null;
  /** Soft-short episodes (h since the start): shaded as such, not as the regime under them. */
  readonly softShorts?: readonly (readonly [number, number])[];
  readonly notSymmetric?: string | null;
}

export interface Figure2 {
  readonly option: Record<string, unknown>;
  readonly width_mm: number;
  readonly height_mm: number;
  /** Pixel geometry at 96 px per inch (what ECharts lays out). */
  readonly widthPx: number;
  readonly heightPx: number;
  readonly fontSize_px: number;
  /** Each panel's plot area [left, top, width, height] in px, top to bottom. */
  readonly panels: readonly (readonly [number, number, number, number])[];
  /** Points of f above 1 drawn at 1. */
  readonly clipped: number;
  readonly caption: string;
}

const PX_PER_MM = 96 / 25.4;

/** 7 pt at print size, in px at 96 px per inch: the smallest text a journal prints. */
export const MIN_TEXT_PX = Math.ceil((7 * 96) / 72);

/** Values of f above this are marked where they are drawn at 1. */
export const F_MARKED_ABOVE = 1.1;

/** A quantity's scale: values × factor are in `unit` (`mV` below 1 V, `µA cm⁻²` below 1 mA cm⁻²). */
export function siScale(maxAbs: number, base: 'V' | 'mA cm⁻²'): { factor: number; unit: string } {
  if (base === 'V') return maxAbs > 0 && maxAbs < 1 ? { factor: 1000, unit: 'mV' } : { factor: 1, unit: 'V' };
  if (maxAbs > 0 && maxAbs < 1) return { factor: 1000, unit: 'µA cm⁻²' };
  return { factor: 1, unit: 'mA cm⁻²' };
}

/**
 * Round axis ends on a 1–2–5 step giving about four intervals; a series that barely moves (its spread under 10 %
 * of its size: a constant set current) gets a range from zero, so that noise is not drawn as a feature.
 */
export function roundAxis(values: readonly number[]): { min: number; max: number; interval: number } {
  let [lo, hi] = extent(values, false);
  if (!(lo <= hi)) return { min: 0, max: 1, interval: 0.25 };
  const size = Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo < 0.1 * size) {
    // From zero, with room above the value: a line on the frame is no line.
    if (lo > 0) [lo, hi] = [0, 1.2 * size];
    else if (hi < 0) [lo, hi] = [-1.2 * size, 0];
    else {
      lo = -size;
      hi = size;
    }
  }
  if (hi === lo) hi = lo + 1;
  const interval = niceStep((hi - lo) / 4);
  const round = (x: number): number => Number(x.toPrecision(12));
  return { min: round(Math.floor(lo / interval) * interval), max: round(Math.ceil(hi / interval) * interval), interval: round(interval) };
}

/** Whole decades around the positive values, at most `top`. */
function decades(values: readonly number[], top = Infinity): { min: number; max: number } {
  const [lo, hi] = extent(values, true);
  if (!(lo <= hi)) return { min: 0.1, max: Math.min(top, 10) };
  const min = Math.pow(10, Math.floor(Math.log10(lo)));
  const max = Math.min(top, Math.pow(10, Math.ceil(Math.log10(hi))));
  return { min, max: max > min ? max : min * 10 };
}

/** An axis name with typeset parts: `[['V', 'i'], [' / mV']]` — italic quantities, subscripts, upright units. */
type Typeset = readonly (readonly [text: string, style?: 'i' | 'sub'])[];

function rich(parts: Typeset): string {
  return parts.map(([text, style]) => (style === undefined ? `{u|${text}}` : `{${style}|${text}}`)).join('');
}

function richStyles(fontSize: number, font: string | undefined, color = '#000'): Record<string, unknown> {
  const base = { fontSize, fontFamily: font, color };
  return {
    u: base,
    i: { ...base, fontStyle: 'italic' },
    sub: { ...base, fontSize: Math.max(MIN_TEXT_PX, Math.round(fontSize * 0.8)), fontStyle: 'normal', padding: [Math.round(fontSize * 0.4), 0, 0, 0] },
  };
}

/** Text width estimate for a sans-serif face (DejaVu Sans averages about 0.6 em; generous on purpose). */
export const textWidth = (text: string, fontSize: number): number => text.length * 0.62 * fontSize;

interface LegendItem {
  readonly label: string;
  readonly kind: 'line' | 'dash' | 'area' | 'triangle' | 'circle';
  readonly color: string;
}

/**
 * Legend as drawn graphics in columns filled row by row, as many as fit `width` px (each column as wide as its widest
 * item): every item inside the figure, and a compact block at a single column's width.
 */
function legendGraphics(
  items: readonly LegendItem[],
  left: number,
  top: number,
  width: number,
  fontSize: number,
  font: string | undefined,
): { elements: Record<string, unknown>[]; height: number } {
  const swatch = 1.6 * fontSize;
  const gap = 1.2 * fontSize;
  const rowHeight = 1.5 * fontSize;
  const elements: Record<string, unknown>[] = [];
  const itemWidth = items.map((item) => swatch + 0.4 * fontSize + textWidth(item.label, fontSize));
  const widthsFor = (n: number): number[] => Array.from({ length: n }, (_, c) => Math.max(...itemWidth.filter((_, k) => k % n === c)));
  let columns = Math.max(1, items.length);
  while (columns > 1 && widthsFor(columns).reduce((a, b) => a + b, 0) + (columns - 1) * gap > width) columns--;
  const widths = widthsFor(columns);
  let x = left;
  let y = top;
  for (const [k, item] of items.entries()) {
    if (k > 0 && k % columns === 0) {
      x = left;
      y += rowHeight;
    }
    const cy = y + rowHeight / 2;
    if (item.kind === 'area')
      elements.push({ type: 'rect', shape: { x, y: cy - 0.4 * fontSize, width: swatch, height: 0.8 * fontSize }, style: { fill: item.color } });
    else if (item.kind === 'triangle')
      elements.push({
        type: 'polygon',
        shape: {
          points: [
            [x + swatch / 2, cy - 0.35 * fontSize],
            [x + swatch / 2 + 0.35 * fontSize, cy + 0.3 * fontSize],
            [x + swatch / 2 - 0.35 * fontSize, cy + 0.3 * fontSize],
          ],
        },
        style: { fill: item.color },
      });
    else if (item.kind === 'circle')
      elements.push({ type: 'circle', shape: { cx: x + swatch / 2, cy, r: 0.3 * fontSize }, style: { fill: '#fff', stroke: item.color, lineWidth: 1 } });
    else
      elements.push({
        type: 'line',
        shape: { x1: x, y1: cy, x2: x + swatch, y2: cy },
        style: { stroke: item.color, lineWidth: 1.5, lineDash: item.kind === 'dash' ? [4, 2] : null },
      });
    elements.push({
      type: 'text',
      x: x + swatch + 0.4 * fontSize,
      y: cy,
      style: { text: item.label, fontSize, fontFamily: font, fill: '#000', verticalAlign: 'middle' },
    });
    x += widths[k % columns]! + gap;
  }
  return { elements, height: items.length === 0 ? 0 : y + rowHeight - top };
}

/** Fig. 2 of a cell at a width (mm): the ECharts option, its geometry, and its caption. */
export function figure2(c: ReportCell, width: FigureWidth, ctx: Figure2Context = {}, font?: string): Figure2 {
  const width_mm = figureWidth_mm(width);
  const W = Math.round(width_mm * PX_PER_MM);
  // 8.25 pt at a single column, 9 pt at a double one (1 pt = 4/3 px at 96 px per inch); nothing under 7 pt.
  const fs = width_mm < 120 ? 11 : 12;
  const hours = c.duration_h > 0 ? c.duration_h : 1;

  const vRaw = c.series['voltage_V'] ?? [];
  const vScale = siScale(Math.max(...vRaw.map((p) => Math.abs(p[1])), 0), 'V');
  const v = vRaw.map((p) => [p[0], p[1] * vScale.factor] as [number, number]);
  const limit = c.complianceV;
  const [vLo, vHi] = extent(
    vRaw.map((p) => p[1]),
    false,
  );
  const limits = [...(vHi >= 0.8 * limit ? [limit] : []), ...(vLo <= -0.8 * limit ? [-limit] : [])];
  const vAxis = roundAxis([...v.map((p) => p[1]), ...limits.map((x) => x * vScale.factor)]);

  const jRaw = (c.series['current_mA'] ?? []).map((p) => [p[0], p[1] / c.areaCm2] as [number, number]);
  const jScale = siScale(Math.max(...jRaw.map((p) => Math.abs(p[1])), 0), 'mA cm⁻²');
  const j = jRaw.map((p) => [p[0], p[1] * jScale.factor] as [number, number]);
  const jAxis = roundAxis(j.map((p) => p[1]));

  const pos = (name: string): [number, number][] => (c.series[name] ?? []).filter((p) => p[1] > 0);
  const fAll = pos('contactFraction');
  // f is at most 1: above it the reference is off, not the contact. Drawn at 1; marked where it is more than the
  // plateau's noise above (a healthy cell's f scatters a few % around 1).
  const f = fAll.map((p) => [p[0], Math.min(1, p[1])] as [number, number]);
  const fClipped = fAll.filter((p) => p[1] > F_MARKED_ABOVE).map((p) => [p[0], 1] as [number, number]);
  const jl = pos('jLocal_mA_cm2');
  const jb = pos('jLocalLowerBound_mA_cm2');
  const jlScale = siScale(Math.max(...[...jl, ...jb].map((p) => p[1]), 0), 'mA cm⁻²');
  const scaleJl = (pts: [number, number][]): [number, number][] => pts.map((p) => [p[0], p[1] * jlScale.factor]);
  const fAxis = decades(
    f.map((p) => p[1]),
    1,
  );
  const jlAxis = decades([...scaleJl(jl), ...scaleJl(jb)].map((p) => p[1]));
  const hasContact = f.length > 0 || jl.length > 0;

  // The regimes under the voltage, a soft short over what lies under it: the bands the page shades.
  const bands = regimeBands({ t0_ms: c.t0_ms, segments: c.segments, softShorts: ctx.softShorts ?? c.softShorts ?? [] });
  const keys = [...new Set(bands.map((b) => b.key))];

  // What no axis name says: the limit, the shading and the markers. A panel's lines are named by its axes, (c)'s two
  // in their lines' colours.
  const legendItems: LegendItem[] = [
    ...(limits.length > 0 ? [{ label: `compliance ±${tickLabel(limit)} V`, kind: 'dash' as const, color: OKABE_ITO.vermillion }] : []),
    ...keys.map((k) => ({ label: regimeLabel(k), kind: 'area' as const, color: regimeColor(k) })),
    ...(hasContact
      ? [
          ...(fClipped.length > 0 ? [{ label: `f > ${F_MARKED_ABOVE}, drawn at 1`, kind: 'circle' as const, color: OKABE_ITO.bluishGreen }] : []),
          ...(jb.length > 0 ? [{ label: 'lower bound', kind: 'triangle' as const, color: OKABE_ITO.vermillion }] : []),
        ]
      : []),
  ];

  // Margins from the widest tick label beside each axis, the axis name beyond it.
  const labelsWidth = (ticks: number[]): number => Math.max(...ticks.map((t) => textWidth(tickLabel(t), fs)), 0);
  const stepped = (a: { min: number; max: number; interval: number }): number[] =>
    Array.from({ length: Math.round((a.max - a.min) / a.interval) + 1 }, (_, k) => a.min + k * a.interval);
  const decadeTicks = (a: { min: number; max: number }): number[] =>
    Array.from({ length: Math.round(Math.log10(a.max / a.min)) + 1 }, (_, k) => Number((a.min * Math.pow(10, k)).toPrecision(6)));
  const leftLabels = Math.max(labelsWidth(stepped(vAxis)), labelsWidth(stepped(jAxis)), hasContact ? labelsWidth(decadeTicks(fAxis)) : 0);
  const nameGapLeft = Math.round(leftLabels + 0.6 * fs + 0.6 * fs);
  const left = Math.round(nameGapLeft + 1.8 * fs);
  const nameGapRight = Math.round(labelsWidth(decadeTicks(jlAxis)) + 1.2 * fs);
  const right = hasContact ? Math.round(nameGapRight + 1.8 * fs) : Math.round(1.5 * fs);
  const plotWidth = W - left - right;
  // Across the whole figure, not only above the plots: fewer rows at a single column's width.
  const legend = legendGraphics(legendItems, Math.round(0.5 * fs), Math.round(0.5 * fs), W - fs, fs, font);
  const top = Math.round(legend.height + 1.2 * fs);
  // Panel heights in proportion 3 : 1.4 : 2.2 (the voltage tells the story), one gap between them.
  const gap = Math.round(1.2 * fs);
  const unitHeight = width_mm < 120 ? 30 : 44;
  const heights = hasContact ? [3 * unitHeight, 1.4 * unitHeight, 2.2 * unitHeight] : [3 * unitHeight, 1.4 * unitHeight];
  const panels: [number, number, number, number][] = [];
  let y = top;
  for (const ph of heights) {
    panels.push([left, y, plotWidth, Math.round(ph)]);
    y += Math.round(ph) + gap;
  }
  const bottomAxis = Math.round(3.4 * fs);
  const H = y - gap + bottomAxis;

  const start = wallText(c.clock, 0);
  // The time axis' name, as long as it fits: the date of 0 h is in the caption too.
  const timeName = [`time since start / h${start === '' ? '' : ` (0 h = ${start})`}`, `time / h${start === '' ? '' : ` (0 h = ${start})`}`, 'time / h'].find(
    (t) => textWidth(t, fs) <= W - 2 * fs,
  )!;
  const names: Typeset[] = [
    [['V', 'i'], [` / ${vScale.unit}`]],
    [['j', 'i'], [` / ${jScale.unit}`]],
    [['A', 'i'], ['eff', 'sub'], [' / '], ['A', 'i']],
    [['j', 'i'], ['local', 'sub'], [` / ${jlScale.unit}`]],
  ];
  const styles = richStyles(fs, font);
  // Exactly where they are put: ECharts would otherwise shrink a panel whose labels it thinks overflow, and the
  // panels would no longer line up (the margins above leave the labels their room; a test checks it).
  const grid = panels.map(([l, t, w, hh]) => ({
    left: l,
    top: t,
    width: w,
    height: hh,
    show: true,
    borderWidth: 0.8,
    borderColor: '#000',
    outerBoundsMode: 'none',
  }));
  const xAxis = panels.map((_, k) => ({
    type: 'value',
    gridIndex: k,
    min: 0,
    max: Number(hours.toPrecision(6)),
    splitLine: { show: true, lineStyle: { color: '#e0e0e0', width: 0.6 } },
    axisLine: { show: false },
    axisTick: { show: k === panels.length - 1, inside: false, length: 3 },
    axisLabel: { show: k === panels.length - 1, formatter: tickLabel, hideOverlap: true, fontSize: fs, showMinLabel: true, showMaxLabel: false },
    ...(k === panels.length - 1
      ? {
          name: timeName,
          nameLocation: 'middle',
          nameGap: Math.round(1.9 * fs),
          nameTextStyle: { fontSize: fs },
        }
      : {}),
  }));
  const yName = (k: number, parts: Typeset, o: Record<string, unknown> = {}): Record<string, unknown> => ({
    name: rich(parts),
    nameLocation: 'middle',
    nameGap: nameGapLeft,
    nameTextStyle: { rich: styles },
    gridIndex: k,
    axisLabel: { formatter: tickLabel, fontSize: fs, hideOverlap: true },
    axisTick: { length: 3 },
    splitLine: { show: true, lineStyle: { color: '#e0e0e0', width: 0.6 } },
    ...o,
  });
  const yAxis: Record<string, unknown>[] = [
    yName(0, names[0]!, { type: 'value', min: vAxis.min, max: vAxis.max, interval: vAxis.interval }),
    yName(1, names[1]!, { type: 'value', min: jAxis.min, max: jAxis.max, interval: jAxis.interval }),
  ];
  if (hasContact) {
    // Two lines in one panel: each axis name in its line's colour says which is which.
    const inColour = (color: string): Record<string, unknown> => ({ nameTextStyle: { rich: richStyles(fs, font, color), color } });
    yAxis.push(yName(2, names[2]!, { type: 'log', logBase: 10, min: fAxis.min, max: fAxis.max, ...inColour(OKABE_ITO.bluishGreen) }));
    yAxis.push(
      yName(2, names[3]!, {
        type: 'log',
        logBase: 10,
        min: jlAxis.min,
        max: jlAxis.max,
        position: 'right',
        nameGap: nameGapRight,
        splitLine: { show: false },
        ...inColour(OKABE_ITO.orange),
      }),
    );
  }
  const line = (name: string, xi: number, yi: number, data: [number, number | null][], color: string): Record<string, unknown> => ({
    name,
    type: 'line',
    xAxisIndex: xi,
    yAxisIndex: yi,
    data,
    showSymbol: false,
    color,
    lineStyle: { width: 1 },
    animation: false,
  });
  const series: Record<string, unknown>[] = [
    ...keys.map((k) => ({
      name: regimeLabel(k),
      type: 'line',
      xAxisIndex: 0,
      yAxisIndex: 0,
      data: [],
      markArea: {
        silent: true,
        itemStyle: { color: regimeColor(k) },
        data: bands.filter((b) => b.key === k).map((b) => [{ xAxis: b.from }, { xAxis: b.to }]),
      },
    })),
    line('voltage', 0, 0, withGaps(v), OKABE_ITO.blue),
    ...(limits.length > 0
      ? [
          {
            name: 'compliance',
            type: 'line',
            xAxisIndex: 0,
            yAxisIndex: 0,
            data: [],
            markLine: {
              silent: true,
              symbol: 'none',
              label: { show: false },
              lineStyle: { type: 'dashed', color: OKABE_ITO.vermillion, width: 1 },
              data: limits.map((x) => ({ yAxis: x * vScale.factor })),
            },
          },
        ]
      : []),
    line('current density', 1, 1, withGaps(j), OKABE_ITO.black),
  ];
  if (hasContact) {
    series.push(line('contact fraction', 2, 2, withGaps(f), OKABE_ITO.bluishGreen));
    if (fClipped.length > 0)
      series.push({
        name: 'f > 1',
        type: 'scatter',
        xAxisIndex: 2,
        yAxisIndex: 2,
        data: fClipped,
        symbol: 'emptyCircle',
        symbolSize: 3,
        color: OKABE_ITO.bluishGreen,
      });
    series.push(line('local current density', 2, 3, withGaps(scaleJl(jl)), OKABE_ITO.orange));
    if (jb.length > 0)
      series.push({
        name: 'lower bound',
        type: 'scatter',
        xAxisIndex: 2,
        yAxisIndex: 3,
        data: scaleJl(jb),
        symbol: 'triangle',
        symbolSize: 5,
        color: OKABE_ITO.vermillion,
      });
  }
  // Inside each plot's top-left corner, on white: clear of the axis names and tick labels.
  const letters = panels.map(([l, t], k) => ({
    type: 'text',
    x: l + Math.round(0.35 * fs),
    y: t + Math.round(0.3 * fs),
    z: 100,
    style: {
      text: `(${'abc'[k]})`,
      fontSize: fs,
      fontWeight: 'bold',
      fontFamily: font,
      fill: '#000',
      verticalAlign: 'top',
      backgroundColor: '#fff',
      padding: [1, 2],
    },
  }));
  const option: Record<string, unknown> = {
    animation: false,
    backgroundColor: '#fff',
    textStyle: { fontFamily: font ?? 'sans-serif', fontSize: fs, color: '#000' },
    grid,
    xAxis,
    yAxis,
    series,
    graphic: { elements: [...legend.elements, ...letters] },
  };
  return {
    option,
    width_mm,
    height_mm: Number((H / PX_PER_MM).toFixed(1)),
    widthPx: W,
    heightPx: H,
    fontSize_px: fs,
    panels,
    clipped: fClipped.length,
    caption: caption(c, ctx, { vUnit: vScale.unit, limits: limits.length > 0, keys, hasContact, clipped: fClipped.length, lowerBounds: jb.length > 0 }),
  };
}

function caption(
  c: ReportCell,
  ctx: Figure2Context,
  d: { vUnit: string; limits: boolean; keys: string[]; hasContact: boolean; clipped: number; lowerBounds: boolean },
): string {
  const shaded = d.keys.length === 0 ? 'no regime other than stable was called' : d.keys.map((k) => `${regimeLabel(k)} (${colourName(k)})`).join(', ');
  const ref =
    ctx.rRef25_ohm == null
      ? 'no reference resistance was established, so no contact fraction is drawn'
      : `R_ref = ${formatOhm(ctx.rRef25_ohm)} at 25 °C, ${
          ctx.rRefSource === 'configured'
            ? 'from the registry (σ, d, A)'
            : `calibrated on the cell's own plateau${ctx.calibratedAt_h == null ? '' : ` (at ${ctx.calibratedAt_h.toFixed(1)} h)`}`
        }`;
  const start = wallText(c.clock, 0);
  const parts = [
    `Fig. 2. ${c.id}: ${ctx.notSymmetric ? `not a symmetric cell (${ctx.notSymmetric}); no regime was called. ` : ''}` +
      `(a) Cell voltage V (${d.vUnit}) with the regimes the monitor called shaded: ${shaded}; stable is unshaded` +
      `${d.limits ? `; dashed: the compliance limit ±${tickLabel(c.complianceV)} V` : ''}.`,
    `(b) Set current density j.`,
    d.hasContact
      ? `(c) Effective contact fraction f = A_eff/A from Ohm's law (Eq. 2, f = R_ref/R_app; bluish green, left axis, log) and local current density j_local = j/f (orange, right axis, log); ${ref}.` +
        `${d.lowerBounds ? ' Triangles: lower bounds of j_local, where the cycler held the voltage at its limit.' : ''}` +
        ` Values of f above 1 (R_app below R_ref: a leak such as a soft short, a noisy plateau or a reference that is off, not more contact) are drawn at 1${d.clipped > 0 ? `; the ${d.clipped} above ${F_MARKED_ABOVE} as open circles` : ''}.` +
        ' f is not drawn while the cell is shorted (the current bypasses the contact).'
      : `No contact fraction: ${ref.startsWith('no ') ? ref : 'none was computed for this cell'}.`,
    `Time in hours since the first sample${start === '' ? ' (the data give no date)' : `; 0 h = ${start}${c.clock && !start.endsWith(c.clock.zone) ? ` (${c.clock.zone})` : ''}`}.`,
  ];
  return parts.join(' ') + '\n';
}

function colourName(key: string): string {
  const names: Record<string, string> = {
    polarization: 'orange',
    short: 'vermillion',
    'isolated-short': 'reddish purple',
    'soft-short': 'yellow',
    learning: 'grey',
    'not-symmetric': 'grey',
  };
  return names[key] ?? 'grey';
}
