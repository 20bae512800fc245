/**
 * ECharts options of the run report. A builder uses nothing but its arguments and the helpers in CHART_HELPERS,
 * because the same functions run in the page, where their source is inlined (helpers first), and in Node for the
 * figure export (SVG and PNG).
 */

export interface ReportCell {
  readonly id: string;
  readonly t0_ms: number;
  /** Hours from t0 to the last sample. */
  readonly duration_h: number;
  readonly complianceV: number;
  readonly areaCm2: number;
  readonly segments: readonly { regime: string; start_ms: number; end_ms: number }[];
  readonly halfCycles: readonly { index: number; start_ms: number; duration_s: number; tMax_s: number; peakAbsVoltage_V: number; cutByCompliance: boolean }[];
  /** Display series as [hours since t0, value]. */
  readonly series: Record<string, [number, number][]>;
  /** High-frequency intercepts of the impedance spectra inside the run, as [hours since t0, Ω]. */
  readonly impedance?: readonly [number, number][];
  /** Noise windows as [hours since t0 of the window's middle, mV, the usual noise in mV or null]. */
  readonly noise?: readonly [number, number, number | null][];
  /** The lab's wall clock over the run, for times people read; none when the data give no absolute start. */
  readonly clock?: LabClock;
  /** Soft-short episodes as [from, to] hours since t0: shaded as such, not as the regime under them. */
  readonly softShorts?: readonly (readonly [number, number])[];
}

/**
 * The lab's wall clock over a run, precomputed from the platform's zone data (src/report/html.ts), so that the page
 * and the figures name absolute times without a zone library: from `spans[k][0]` hours on, the offset from UTC is
 * `spans[k][1]` ms and the zone is called `spans[k][2]` (`CET`, `CEST`, `UTC+9`).
 */
export interface LabClock {
  readonly zone: string;
  readonly t0_ms: number;
  readonly spans: readonly (readonly [number, number, string])[];
}

/** The lab's wall clock `h` hours after the start, zone named (`2023-11-09 14:03 CET`); '' when no date is known. */
export function wallText(clock: LabClock | undefined, h: number): string {
  if (clock === undefined || clock.spans.length === 0 || !Number.isFinite(h)) return '';
  let span = clock.spans[0]!;
  for (const s of clock.spans) if (s[0] <= h) span = s;
  const wall = new Date(clock.t0_ms + h * 3.6e6 + span[1]).toISOString();
  return wall.slice(0, 10) + ' ' + wall.slice(11, 16) + ' ' + span[2];
}

/** Hours since the start as people read them, with the lab's wall clock when known: `24.05 h · 2023-11-09 14:03 CET`. */
export function clockText(clock: LabClock | undefined, h: number): string {
  if (typeof h !== 'number' || !Number.isFinite(h)) return '';
  const wall = wallText(clock, h);
  return h.toFixed(2) + ' h' + (wall === '' ? '' : ' · ' + wall);
}

export interface ChartLook {
  /** Font family of every text (the export embeds it as outlines). */
  readonly font?: string;
  readonly fontSize?: number;
}

/** An axis or tooltip number: at most 4 significant digits, no binary noise (`3.6666666666666665` → `3.667`). */
export function tickLabel(v: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '';
}

/** A tooltip formatter giving the value with its unit. */
export function withUnit(unit: string): (v: unknown) => string {
  return function (v: unknown): string {
    return typeof v === 'number' ? tickLabel(v) + (unit ? ' ' + unit : '') : '—';
  };
}

/**
 * The colour of each drawn quantity, from Okabe & Ito's palette (palette.ts; colour-blind safe), one per meaning in
 * the page, the figures and the Grafana dashboards (a test holds them to it). Literal here: the page inlines it.
 */
export function ink(role: string): string {
  const inks: Record<string, string> = {
    voltage: '#0072B2',
    current: '#000000',
    limit: '#D55E00',
    contact: '#009E73',
    jLocal: '#E69F00',
    lowerBound: '#D55E00',
    ratio: '#000000',
    rApp: '#000000',
    rHf: '#CC79A7',
    pressure: '#56B4E9',
    temperature: '#D55E00',
    duration: '#0072B2',
    tMax: '#000000',
    peak: '#E69F00',
    threshold: '#000000',
    forecast: '#D55E00',
    forecastBand: '#E69F00',
    noise: '#0072B2',
    noiseBaseline: '#000000',
  };
  return inks[role] ?? '#000000';
}

/** What a regime is called in legends and captions, the same in the page and the figures. */
export function regimeLabel(regime: string): string {
  const labels: Record<string, string> = { 'isolated-short': 'isolated short', 'soft-short': 'soft short', 'not-symmetric': 'not symmetric' };
  return labels[regime] ?? regime;
}

/**
 * Shading of a regime on the voltage chart (stable is left clear), in the Okabe–Ito colours, as in the figures and
 * Grafana: polarization orange, short vermillion, isolated short reddish purple, soft short yellow, learning grey.
 */
export function regimeColor(regime: string): string {
  const colors: Record<string, string> = {
    polarization: 'rgba(230,159,0,0.30)',
    short: 'rgba(213,94,0,0.35)',
    'isolated-short': 'rgba(204,121,167,0.40)',
    'soft-short': 'rgba(240,228,66,0.45)',
    learning: 'rgba(128,128,128,0.20)',
    'not-symmetric': 'rgba(128,128,128,0.30)',
  };
  return colors[regime] ?? 'rgba(128,128,128,0.20)';
}

/** Smallest and largest finite value (positive ones only if asked); [Infinity, -Infinity] when there is none. */
export function extent(values: readonly number[], positive: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positive && !(v > 0))) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The 1–2–5 step (…, 0.2, 0.5, 1, 2, 5, …) at or above `raw`. */
export function niceStep(raw: number): number {
  const decade = Math.pow(10, Math.floor(Math.log10(raw)));
  return (raw <= decade ? 1 : raw <= 2 * decade ? 2 : raw <= 5 * decade ? 5 : 10) * decade;
}

/**
 * A linear axis from the data: all of it, its ends on a round step of a fortieth of the span or so (a flat run at
 * ±0.07 V is not a line in an empty box, and the axis stays within about 12 % of the data's range).
 */
export function linearAxis(values: readonly number[], o: Record<string, unknown>): Record<string, unknown> {
  const [lo, hi] = extent(values, false);
  let min: number | undefined;
  let max: number | undefined;
  if (lo <= hi) {
    const span = hi > lo ? hi - lo : Math.abs(hi) > 0 ? Math.abs(hi) : 1;
    const step = niceStep(span / 40);
    min = Number((Math.floor((lo - 0.01 * span) / step) * step).toPrecision(12));
    max = Number((Math.ceil((hi + 0.01 * span) / step) * step).toPrecision(12));
  }
  return {
    type: 'value',
    min,
    max,
    // The name beside the axis, not above it where the legend is.
    nameLocation: 'middle',
    nameGap: 50,
    // The ends are rarely round ticks: only the axis' own ticks are labelled.
    axisLabel: { formatter: tickLabel, hideOverlap: true, showMinLabel: false, showMaxLabel: false },
    ...o,
  };
}

/**
 * A series with a break wherever its points are far apart (a short, a rest, a data gap): more than 10 times the
 * spacing of 9 in 10 of its points, and at least `minGap_h` (the detector's 5 min). A line drawn across those would
 * show values that were never measured. Not the median spacing: a display series keeps each bucket's minimum and
 * maximum, which for a smooth signal sit at the bucket's two ends, so half its steps are a row apart.
 */
export function withGaps(points: readonly (readonly [number, number])[], minGap_h = 300 / 3600): [number, number | null][] {
  if (points.length < 3) return points.map((p) => [p[0], p[1]]);
  const steps: number[] = [];
  for (let k = 1; k < points.length; k++) steps.push(points[k]![0] - points[k - 1]![0]);
  steps.sort((a, b) => a - b);
  const limit = Math.max(10 * steps[Math.floor(0.9 * (steps.length - 1))]!, minGap_h);
  const out: [number, number | null][] = [[points[0]![0], points[0]![1]]];
  for (let k = 1; k < points.length; k++) {
    if (points[k]![0] - points[k - 1]![0] > limit) out.push([(points[k]![0] + points[k - 1]![0]) / 2, null]);
    out.push([points[k]![0], points[k]![1]]);
  }
  return out;
}

/** A log axis from whole decades around the positive data. */
export function logAxis(values: readonly number[], o: Record<string, unknown>): Record<string, unknown> {
  const [lo, hi] = extent(values, true);
  return {
    type: 'log',
    logBase: 10,
    nameLocation: 'middle',
    nameGap: 50,
    min: lo <= hi ? Math.pow(10, Math.floor(Math.log10(lo))) : undefined,
    max: lo <= hi ? Math.pow(10, Math.ceil(Math.log10(hi))) : undefined,
    axisLabel: { formatter: tickLabel, hideOverlap: true },
    ...o,
  };
}

/**
 * The plot area's left and right margins (px), the same on every time chart of a cell: their plot areas line up
 * above one another, and a zoom shared between them shows the same hours at the same place.
 */
export const PLOT_LEFT_PX = 76;
export const PLOT_RIGHT_PX = 80;

/** What every chart shares: title, tooltip, legend, grid, an x axis in hours and, in the page, zoom. */
export function timeChart(
  title: string,
  interactive: boolean,
  o: {
    legend?: (string | { name: string; icon?: string })[];
    range?: [number, number] | null;
    tooltip?: string;
    look?: ChartLook;
    /** The cell: every chart of it spans its whole run (panels line up whatever their data cover) on its clock. */
    cell?: Pick<ReportCell, 'clock' | 'duration_h'>;
  } = {},
): Record<string, unknown> {
  const clock = o.cell?.clock;
  const start = wallText(clock, 0);
  const zoomable = interactive && !o.range;
  const size = o.look?.fontSize ?? 12;
  return {
    animation: false,
    textStyle: { fontFamily: o.look?.font ?? 'system-ui, sans-serif', fontSize: size },
    title: { top: 2, text: title, left: 'center', textStyle: { fontSize: size + 1 } },
    tooltip: {
      trigger: o.tooltip ?? 'axis',
      axisPointer: { label: { formatter: (p: { value: number }) => clockText(clock, p.value) } },
    },
    legend: o.legend ? { top: 24, data: o.legend } : undefined,
    // Exactly there: ECharts 6 would otherwise move a plot area's edges to fit its labels, and the charts would not line up.
    grid: { left: 76, right: 80, top: o.legend ? 56 : 40, bottom: zoomable ? 70 : 40, outerBoundsMode: 'none' },
    xAxis: {
      type: 'value',
      name: 'time since start / h' + (start === '' ? '' : ' (0 h = ' + start + ')'),
      nameLocation: 'middle',
      nameGap: 25,
      min: o.range ? o.range[0] : o.cell ? 0 : 'dataMin',
      max: o.range ? o.range[1] : (o.cell?.duration_h ?? 'dataMax'),
      axisLabel: { formatter: tickLabel, hideOverlap: true },
    },
    // The wheel scrolls the page; Ctrl + wheel, a drag or the slider zoom.
    dataZoom: zoomable
      ? [
          { type: 'inside', xAxisIndex: 'all', filterMode: 'none', zoomOnMouseWheel: 'ctrl', moveOnMouseWheel: false },
          { type: 'slider', xAxisIndex: 'all', filterMode: 'none', height: 18, bottom: 12, labelFormatter: (v: number) => tickLabel(v) + ' h' },
        ]
      : [],
  };
}

/**
 * The shaded bands in hours since t0, stable left clear. A soft short is shaded as one, cut out of the polarization or
 * learning under it; shorts stay shorts. The page and Fig. 2 shade the same bands.
 */
export function regimeBands(c: Pick<ReportCell, 't0_ms' | 'segments' | 'softShorts'>): { key: string; from: number; to: number }[] {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const soft = c.softShorts ?? [];
  const bands: { key: string; from: number; to: number }[] = [];
  for (const s of c.segments) {
    if (s.regime === 'stable') continue;
    let pieces: [number, number][] = [[h(s.start_ms), h(s.end_ms)]];
    if (s.regime !== 'short' && s.regime !== 'isolated-short')
      for (const w of soft) {
        const a = w[0];
        const b = w[1];
        const next: [number, number][] = [];
        for (const p of pieces) {
          if (b <= p[0] || a >= p[1]) next.push(p);
          else {
            if (a > p[0]) next.push([p[0], a]);
            if (b < p[1]) next.push([b, p[1]]);
          }
        }
        pieces = next;
      }
    for (const p of pieces) bands.push({ key: s.regime, from: p[0], to: p[1] });
  }
  for (const w of soft) bands.push({ key: 'soft-short', from: w[0], to: w[1] });
  return bands;
}

/**
 * The regimes as shaded bands, one series per regime present (legend item, shading and tooltip share its colour;
 * clicking the legend hides it).
 */
export function regimeSeries(c: ReportCell): Record<string, unknown>[] {
  const bands = regimeBands(c);
  const present: string[] = [];
  for (const b of bands) if (present.indexOf(b.key) < 0) present.push(b.key);
  return present.map((regime) => ({
    name: regimeLabel(regime),
    type: 'line',
    data: [],
    color: regimeColor(regime),
    markArea: {
      silent: true,
      label: { show: false },
      itemStyle: { color: regimeColor(regime) },
      data: bands.filter((b) => b.key === regime).map((b) => [{ name: regime, xAxis: b.from }, { xAxis: b.to }]),
    },
  }));
}

/**
 * Voltage vs time with the regimes shaded and the compliance limit: the paper's Fig. 2 view. The axis follows the
 * data (the limit is drawn when the data reach it, else named in the legend as off scale); `absLog` draws |V| on a
 * log axis, which shows a short's millivolts and the limit's volts together.
 */
export function voltageOption(c: ReportCell, interactive: boolean, zoom?: [number, number] | null, absLog = false, look?: ChartLook): Record<string, unknown> {
  const data = c.series['voltage_V'] ?? [];
  const values = data.map((p) => p[1]);
  const limit = c.complianceV;
  const [bottom, top] = extent(values, false);
  const reachesTop = top >= 0.8 * limit;
  const reachesBottom = bottom <= -0.8 * limit;
  const shown = absLog ? (reachesTop || reachesBottom ? [limit] : []) : [...(reachesTop ? [limit] : []), ...(reachesBottom ? [-limit] : [])];
  const limitName = `compliance ±${tickLabel(limit)} V${shown.length === 0 ? ' (off scale)' : ''}`;
  // Four decades below the top are enough for a short's millivolts; the instants of a crossing of 0 V would otherwise
  // stretch the axis down to microvolts.
  const floor = 1e-4 * Math.max(Math.abs(top), Math.abs(bottom), ...shown);
  const plotted = absLog ? data.map((p) => [p[0], Math.abs(p[1])] as [number, number]).filter((p) => p[1] > 0 && p[1] >= floor) : data;
  const yAxis = absLog
    ? logAxis([...plotted.map((p) => p[1]), ...shown], { name: '|V| (V)' })
    : linearAxis([...values, ...shown.map((v) => v * 1.02)], { name: 'voltage (V)' });
  const regimes = regimeSeries(c);
  const title = zoom ? `${c.id}: voltage, ${tickLabel(zoom[0])}–${tickLabel(zoom[1])} h` : `${c.id}: voltage and regimes${absLog ? ' (|V|, log axis)' : ''}`;
  return {
    ...timeChart(title, interactive, {
      legend: [absLog ? '|V|' : 'voltage', limitName, ...regimes.map((r) => ({ name: String(r['name']), icon: 'rect' }))],
      range: zoom,
      look,
      cell: c,
    }),
    yAxis,
    series: [
      {
        name: absLog ? '|V|' : 'voltage',
        type: 'line',
        // A paused test or a logger gap is a break, not a line through values never measured.
        data: withGaps(plotted),
        showSymbol: false,
        color: ink('voltage'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('V') },
      },
      {
        name: limitName,
        type: 'line',
        data: [],
        color: ink('limit'),
        lineStyle: { type: 'dashed' },
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed', color: ink('limit') },
          label: { formatter: (p: { value: number }) => tickLabel(p.value) + ' V' },
          data: shown.map((v) => ({ yAxis: v })),
        },
      },
      ...regimes,
    ],
  };
}

/** Contact fraction and local current density (Eq. 2) on log axes; points at the compliance limit are lower bounds. */
export function contactOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const pts = (name: string): [number, number][] => (c.series[name] ?? []).filter((p) => p[1] > 0);
  const f = pts('contactFraction');
  const j = pts('jLocal_mA_cm2');
  const jb = pts('jLocalLowerBound_mA_cm2');
  return {
    ...timeChart(`${c.id}: contact fraction and local current density`, interactive, {
      legend: ['contact fraction f', 'j_local', 'j_local ≥ (at compliance)'],
      look,
      cell: c,
    }),
    yAxis: [
      logAxis(
        f.map((p) => p[1]),
        { name: 'f = A_eff / A' },
      ),
      logAxis(
        [...j, ...jb].map((p) => p[1]),
        { name: 'j_local (mA cm⁻²)', splitLine: { show: false } },
      ),
    ],
    series: [
      {
        name: 'contact fraction f',
        type: 'line',
        data: withGaps(f),
        showSymbol: false,
        color: ink('contact'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('') },
      },
      {
        name: 'j_local',
        type: 'line',
        yAxisIndex: 1,
        data: withGaps(j),
        showSymbol: false,
        color: ink('jLocal'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('mA cm⁻²') },
      },
      {
        name: 'j_local ≥ (at compliance)',
        type: 'scatter',
        yAxisIndex: 1,
        data: jb,
        symbol: 'triangle',
        symbolSize: 6,
        color: ink('lowerBound'),
        tooltip: { valueFormatter: withUnit('mA cm⁻²') },
      },
    ],
  };
}

/** R_app / R_ref(T) with the regime thresholds. */
export function ratioOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const data = (c.series['ratio'] ?? []).filter((p) => p[1] > 0);
  return {
    ...timeChart(`${c.id}: R_app / R_ref(T)`, interactive, { legend: ['R_app/R_ref'], look, cell: c }),
    yAxis: logAxis([...data.map((p) => p[1]), 0.5, 1.5], { name: 'R_app / R_ref' }),
    series: [
      {
        name: 'R_app/R_ref',
        type: 'line',
        data: withGaps(data),
        showSymbol: false,
        color: ink('ratio'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('') },
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dotted', color: ink('threshold') },
          label: { formatter: (p: { name: string }) => p.name, position: 'insideEndTop' },
          data: [
            { yAxis: 1.5, name: 'polarization' },
            { yAxis: 0.5, name: 'short' },
          ],
        },
      },
    ],
  };
}

/**
 * The voltage's noise per window of active current (`noise` events) beside the median of the cell's quiet windows:
 * three windows in a row at twice it raise `noise-rising`, a soft-short precursor (domain/noise.ts).
 */
export function noiseOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const windows = c.noise ?? [];
  const noise = windows.map((w) => [w[0], w[1]] as [number, number]);
  const usual = windows.filter((w) => w[2] !== null).map((w) => [w[0], w[2]!] as [number, number]);
  return {
    ...timeChart(`${c.id}: voltage noise per window of current`, interactive, { legend: ['noise', 'usual noise'], look, cell: c }),
    yAxis: linearAxis([...noise.map((p) => p[1]), ...usual.map((p) => p[1]), 0], { name: 'noise (mV)' }),
    series: [
      {
        name: 'noise',
        type: 'line',
        data: noise,
        showSymbol: true,
        symbolSize: 3,
        color: ink('noise'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('mV') },
      },
      {
        name: 'usual noise',
        type: 'line',
        data: usual,
        showSymbol: false,
        color: ink('noiseBaseline'),
        lineStyle: { width: 1, type: 'dashed' },
        tooltip: { valueFormatter: withUnit('mV') },
      },
    ],
  };
}

/**
 * DC against AC resistance: R_app = V/I through the run and the high-frequency intercept of each impedance spectrum.
 * Contact loss raises R_app (constriction) while R_hf stays put; a rising R_hf points at the electrolyte itself.
 */
export function resistanceOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const rApp = (c.series['rApp_Ohm'] ?? []).filter((p) => p[1] > 0);
  const rHf = (c.impedance ?? []).filter((p) => p[1] > 0);
  return {
    ...timeChart(`${c.id}: R_app (DC) and impedance R_hf (AC)`, interactive, { legend: ['R_app = V/I', 'R_hf (impedance)'], look, cell: c }),
    yAxis: logAxis(
      [...rApp, ...rHf].map((p) => p[1]),
      { name: 'R (Ω)' },
    ),
    series: [
      {
        name: 'R_app = V/I',
        type: 'line',
        data: withGaps(rApp),
        showSymbol: false,
        color: ink('rApp'),
        lineStyle: { width: 1 },
        tooltip: { valueFormatter: withUnit('Ω') },
      },
      {
        name: 'R_hf (impedance)',
        type: 'line',
        data: rHf,
        symbol: 'circle',
        symbolSize: 7,
        color: ink('rHf'),
        lineStyle: { width: 1, type: 'dashed' },
        tooltip: { valueFormatter: withUnit('Ω') },
      },
    ],
  };
}

/** Pressure and temperature, each when the cell has it (the page says which is missing). */
export function auxOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const p = c.series['pressure_MPa'] ?? [];
  const t = c.series['temperature_C'] ?? [];
  const shown: { name: string; unit: string; data: [number, number][]; role: string }[] = [];
  if (p.length > 0) shown.push({ name: 'pressure', unit: 'MPa', data: p, role: 'pressure' });
  if (t.length > 0) shown.push({ name: 'temperature', unit: '°C', data: t, role: 'temperature' });
  return {
    ...timeChart(`${c.id}: ${shown.map((x) => x.name).join(' and ') || 'pressure and temperature'}`, interactive, {
      legend: shown.map((x) => x.name),
      look,
      cell: c,
    }),
    // No axis at all would not draw: an empty one stands when neither was logged (the page says so instead).
    yAxis: (shown.length === 0 ? [{ name: 'pressure', unit: 'MPa', data: [] as [number, number][] }] : shown).map((x, k) =>
      linearAxis(
        x.data.map((d) => d[1]),
        k === 0 ? { name: x.name + ' (' + x.unit + ')' } : { name: x.name + ' (' + x.unit + ')', splitLine: { show: false } },
      ),
    ),
    series: shown.map((x, k) => ({
      name: x.name,
      type: 'line',
      yAxisIndex: k,
      data: withGaps(x.data),
      showSymbol: false,
      color: ink(x.role),
      lineStyle: { width: 1 },
      tooltip: { valueFormatter: withUnit(x.unit) },
    })),
  };
}

/**
 * Per half cycle, in two panels on one time axis: duration against t_max (Eq. 1), with the half cycles the cycler cut
 * at the compliance limit marked at their (shortened) duration; below, the spike-filtered peak |V|. A run of one to
 * three half cycles gets bars, one per half cycle, that a reader can see (a point or two on the run's time axis is
 * lost at its edge).
 */
export function halfCycleOption(c: ReportCell, interactive: boolean, look?: ChartLook): Record<string, unknown> {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const hc = c.halfCycles;
  if (hc.length > 0 && hc.length <= 3) return halfCycleBars(c, look);
  const durations = hc.filter((x) => x.duration_s > 0).map((x) => [h(x.start_ms), x.duration_s / 60] as [number, number]);
  const tMax = hc.filter((x) => Number.isFinite(x.tMax_s) && x.tMax_s > 0).map((x) => [h(x.start_ms), x.tMax_s / 60] as [number, number]);
  const cut = hc.filter((x) => x.cutByCompliance && x.duration_s > 0).map((x) => [h(x.start_ms), x.duration_s / 60] as [number, number]);
  const peaks = hc.map((x) => [h(x.start_ms), x.peakAbsVoltage_V] as [number, number]);
  const base = timeChart(`${c.id}: half cycles`, interactive, {
    legend: ['duration', 't_max (Eq. 1)', 'cut by compliance', 'peak |V|'],
    tooltip: 'item',
    cell: c,
    look,
  });
  const x = base['xAxis'] as Record<string, unknown>;
  const grid = base['grid'] as Record<string, unknown>;
  return {
    ...base,
    grid: [
      { left: grid['left'], right: grid['right'], top: 56, height: '40%', outerBoundsMode: 'none' },
      { left: grid['left'], right: grid['right'], bottom: interactive ? 70 : 40, height: '22%', outerBoundsMode: 'none' },
    ],
    xAxis: [
      { ...x, gridIndex: 0, name: '', axisLabel: { ...(x['axisLabel'] as object), show: false } },
      { ...x, gridIndex: 1 },
    ],
    yAxis: [
      logAxis(
        [...durations, ...tMax].map((p) => p[1]),
        { gridIndex: 0, name: 'duration (min)' },
      ),
      linearAxis(
        peaks.map((p) => p[1]),
        { gridIndex: 1, name: 'peak |V| (V)', splitNumber: 3 },
      ),
    ],
    series: [
      { name: 'duration', type: 'scatter', symbolSize: 4, data: durations, color: ink('duration'), tooltip: { valueFormatter: withUnit('min') } },
      {
        name: 't_max (Eq. 1)',
        type: 'line',
        showSymbol: false,
        data: tMax,
        color: ink('tMax'),
        lineStyle: { type: 'dashed' },
        tooltip: { valueFormatter: withUnit('min') },
      },
      {
        name: 'cut by compliance',
        type: 'scatter',
        symbol: 'diamond',
        symbolSize: 7,
        data: cut,
        color: ink('limit'),
        tooltip: { valueFormatter: withUnit('min') },
      },
      {
        name: 'peak |V|',
        type: 'scatter',
        xAxisIndex: 1,
        yAxisIndex: 1,
        symbolSize: 3,
        data: peaks,
        color: ink('peak'),
        tooltip: { valueFormatter: withUnit('V') },
      },
    ],
  };
}

/** One to three half cycles as bars: duration beside t_max (Eq. 1), each named by its index and hours. */
export function halfCycleBars(c: ReportCell, look?: ChartLook): Record<string, unknown> {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const hc = c.halfCycles;
  const size = look?.fontSize ?? 12;
  const names = hc.map(
    (x) =>
      'half cycle ' +
      x.index +
      ' (' +
      tickLabel(h(x.start_ms)) +
      '–' +
      tickLabel(h(x.start_ms) + x.duration_s / 3600) +
      ' h)' +
      (x.cutByCompliance ? ', cut at the limit' : ''),
  );
  const minutes = (s: number): number | null => (Number.isFinite(s) && s > 0 ? Number((s / 60).toPrecision(4)) : null);
  const hasTMax = hc.some((x) => minutes(x.tMax_s) !== null);
  return {
    animation: false,
    textStyle: { fontFamily: look?.font ?? 'system-ui, sans-serif', fontSize: size },
    title: { top: 2, text: c.id + ': half cycles', left: 'center', textStyle: { fontSize: size + 1 } },
    tooltip: { trigger: 'axis' },
    legend: { top: 24, data: ['duration', ...(hasTMax ? ['t_max (Eq. 1)'] : [])] },
    grid: { left: 76, right: 80, top: 56, bottom: 40, outerBoundsMode: 'none' },
    xAxis: { type: 'category', data: names },
    yAxis: linearAxis([0, ...hc.map((x) => x.duration_s / 60), ...hc.map((x) => minutes(x.tMax_s) ?? 0)], { name: 'duration (min)', min: 0 }),
    series: [
      {
        name: 'duration',
        type: 'bar',
        barMaxWidth: 60,
        data: hc.map((x) => minutes(x.duration_s)),
        color: ink('duration'),
        label: {
          show: true,
          position: 'top',
          formatter: (p: { dataIndex: number; value: number }) => tickLabel(p.value) + ' min · peak |V| ' + tickLabel(hc[p.dataIndex]!.peakAbsVoltage_V) + ' V',
        },
        tooltip: { valueFormatter: withUnit('min') },
      },
      ...(hasTMax
        ? [
            {
              name: 't_max (Eq. 1)',
              type: 'bar',
              barMaxWidth: 60,
              data: hc.map((x) => minutes(x.tMax_s)),
              color: ink('tMax'),
              tooltip: { valueFormatter: withUnit('min') },
            },
          ]
        : []),
    ],
  };
}

/** Helpers the builders call: inlined into the page before them. */
export const CHART_HELPERS = [
  ink,
  tickLabel,
  wallText,
  clockText,
  withUnit,
  regimeColor,
  regimeLabel,
  extent,
  niceStep,
  linearAxis,
  withGaps,
  logAxis,
  timeChart,
  regimeBands,
  regimeSeries,
  halfCycleBars,
] as const;

export const CHART_BUILDERS = { voltageOption, contactOption, ratioOption, resistanceOption, noiseOption, auxOption, halfCycleOption } as const;
