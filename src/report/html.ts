/**
 * The run report: one self-contained HTML file (ECharts and the data inlined, no network) built from an
 * analysis directory (summary.json, events.jsonl, segments.jsonl, series.json), and on request the figures as SVG/PNG
 * (src/report/figures.ts).
 */
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHART_BUILDERS, CHART_HELPERS, clockText, regimeColor, wallText, type LabClock, type ReportCell } from './charts.js';
import { isAbsolute, zoneAbbreviation, zoneOffset_ms } from '../domain/labTime.js';
import { emptyPanel, softShortWindows, writeFigures, type FigureOptions } from './figures.js';

const require = createRequire(import.meta.url);

interface Json {
  [k: string]: unknown;
}

export interface ReportInput {
  readonly title: string;
  /** The registry groups' batch view (summary.json → batches). */
  readonly batches?: readonly Json[];
  readonly cells: readonly (ReportCell & { summary: Json; alerts: Json[]; table2: Record<string, string>; zone: string; zoneSource: string | null })[];
}

async function readJsonLines(path: string): Promise<Json[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Json);
}

const fmt = (x: unknown, digits = 3): string =>
  typeof x === 'number' && Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : x === null || x === undefined ? '—' : String(x);

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The programmed protocol the instrument's header gave, with Eq. 1 per step, for the steps that carry current. */
function protocolLine(s: Json): string {
  const p = s['protocol'] as { technique: string; ccdRamp: boolean; steps: Json[] } | undefined;
  const steps = (p?.steps ?? []).filter((x) => typeof x['current_mA'] === 'number' && x['current_mA'] !== 0);
  if (p === undefined || steps.length === 0) return '';
  const h = (x: unknown): string => (typeof x !== 'number' || !(x > 0) ? 'no limit' : x < 3600 ? `${fmt(x / 60, 3)} min` : `${fmt(x / 3600, 3)} h`);
  // A step ends at its time limit, its voltage cut-off, or whichever comes first.
  const ends = (x: Json): string => {
    const time = typeof x['duration_s'] === 'number' && x['duration_s'] > 0 ? `up to ${h(x['duration_s'])}` : null;
    const volts = typeof x['voltageLimit_V'] === 'number' ? `to ${fmt(x['voltageLimit_V'])} V` : null;
    return time !== null && volts !== null ? `${time} or ${volts}` : (time ?? volts ?? 'up to no limit');
  };
  const parts = steps.map(
    (x) =>
      `sequence ${fmt(x['sequence'])}: ${fmt(x['current_mA'])} mA (${fmt(x['currentDensity_mA_cm2'])} mA cm⁻²), ${ends(x)}` +
      (typeof x['tMax_s'] === 'number' ? `, t_max ${h(x['tMax_s'])}${x['exceedsTMax'] === true ? ' <b class="warn">exceeded</b>' : ''}` : ''),
  );
  return `<p>Programmed (${esc(p.technique)}, from the file's header): ${parts.join(' · ')}${p.ccdRamp ? ' · a CCD ramp' : ''}</p>`;
}

/**
 * The lab's wall clock over a run from `t0_ms` for `duration_h` hours in `zone`: the offsets and zone names from the
 * platform's zone data, each change (DST) found to the second. None for a start that is not a date.
 */
export function labClockOf(t0_ms: number, duration_h: number, zone: string): LabClock | undefined {
  if (!Number.isFinite(t0_ms) || !isAbsolute(t0_ms)) return undefined;
  const at = (h: number): number => zoneOffset_ms(zone, t0_ms + h * 3.6e6);
  let prev = at(0);
  const spans: [number, number, string][] = [[0, prev, zoneAbbreviation(zone, t0_ms)]];
  for (let h = 1; h <= Math.ceil(Math.max(0, duration_h)) + 1; h++) {
    const o = at(h);
    if (o === prev) continue;
    let lo = h - 1;
    let hi = h;
    while ((hi - lo) * 3600 > 0.5) {
      const mid = (lo + hi) / 2;
      if (at(mid) === prev) lo = mid;
      else hi = mid;
    }
    spans.push([hi, o, zoneAbbreviation(zone, t0_ms + hi * 3.6e6)]);
    prev = o;
  }
  return { zone, t0_ms, spans };
}

/** Everything the page needs, from the files an analysis wrote; absolute times in `timeZone`, else each cell's zone. */
export async function loadReportInput(dir: string, timeZone?: string): Promise<ReportInput> {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { cells: Record<string, Json>; files?: string[]; batches?: Json[] };
  const events = await readJsonLines(join(dir, 'events.jsonl'));
  const segments = await readJsonLines(join(dir, 'segments.jsonl'));
  // Written only when the files held impedance spectra.
  const spectra = await readJsonLines(join(dir, 'impedance.jsonl')).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  let series: { cells: { cell: string; complianceV: number; areaCm2?: number; series: Record<string, [number, number][]> }[] } = { cells: [] };
  try {
    series = JSON.parse(await readFile(join(dir, 'series.json'), 'utf8')) as typeof series;
  } catch {
    // an analysis without display series: the report still has the tables and half cycles
  }
  const cells = Object.entries(summary.cells).map(([id, s]) => {
    const sr = series.cells.find((c) => c.cell === id);
    const hc = events.filter((e) => e['cell'] === id && e['type'] === 'half-cycle');
    const t0 = Date.parse(String(s['start']));
    const pressures = (sr?.series['pressure_MPa'] ?? []).map((p) => p[1]);
    // The protocol's values: half cycles before the failure (after it, the cycler cuts them short).
    const failure_ms = typeof s['timeToFailure_h'] === 'number' ? t0 + (s['timeToFailure_h'] as number) * 3.6e6 : Infinity;
    const before = hc.filter((e) => Date.parse(String(e['end'])) <= failure_ms);
    const protocol = before.length > 0 ? before : hc;
    const j = median(protocol.map((e) => Math.abs(Number(e['currentDensity_mA_cm2']))).filter((x) => x > 0));
    const q = median(protocol.map((e) => Number(e['charge_mAh_cm2'])).filter((x) => x > 0));
    const table2: Record<string, string> = {
      'current density (mA cm⁻²)': fmt(j),
      'capacity per half cycle (mAh cm⁻²)': fmt(q),
      'total capacity before failure (mAh cm⁻²)': fmt(s['capacityBeforeFailure_mAh_cm2'] ?? s['cumulativeCapacity_mAh_cm2'], 4),
      'time to failure (h)':
        s['timeToFailureBasis'] == null ? fmt(s['timeToFailure_h'], 4) : `${fmt(s['timeToFailure_h'], 4)} (first ${String(s['timeToFailureBasis'])})`,
      'pressure (MPa)': pressures.length > 0 ? `${fmt(Math.min(...pressures))}–${fmt(Math.max(...pressures))}` : '—',
      'failure mode': s['failureModeOnset_h'] == null ? String(s['failureMode']) : `${String(s['failureMode'])} from ${fmt(s['failureModeOnset_h'], 4)} h`,
      'CCD (mA cm⁻²)': fmt(s['ccd_mA_cm2']),
    };
    const areaCm2 = typeof s['areaCm2'] === 'number' ? (s['areaCm2'] as number) : (sr?.areaCm2 ?? 1);
    const duration_h = typeof s['duration_h'] === 'number' ? (s['duration_h'] as number) : (Date.parse(String(s['end'])) - t0) / 3.6e6;
    const zone = timeZone ?? (typeof s['timeZone'] === 'string' ? (s['timeZone'] as string) : 'UTC');
    const analysedIn = (s['configSources'] as Record<string, unknown> | undefined)?.['timeZone'];
    const zoneSource =
      timeZone !== undefined ? 'report --tz' : analysedIn === 'machine' ? "the analysing machine's zone" : typeof analysedIn === 'string' ? analysedIn : null;
    const clock = labClockOf(t0, duration_h, zone);
    const alerts = events.filter((e) => e['cell'] === id && e['type'] === 'alert');
    const cellSegments = segments
      .filter((g) => g['cell'] === id)
      .map((g) => ({ regime: String(g['regime']), start_ms: Date.parse(String(g['start'])), end_ms: Date.parse(String(g['end'])) }));
    return {
      id,
      t0_ms: t0,
      duration_h,
      zone,
      zoneSource,
      ...(clock === undefined ? {} : { clock }),
      complianceV: typeof s['complianceV'] === 'number' ? (s['complianceV'] as number) : (sr?.complianceV ?? 8),
      areaCm2,
      segments: cellSegments,
      softShorts: softShortWindows({ t0_ms: t0, duration_h, segments: cellSegments }, alerts),
      halfCycles: hc.map((e) => ({
        index: Number(e['index']),
        start_ms: Date.parse(String(e['start'])),
        duration_s: Number(e['duration_s']),
        tMax_s: Number(e['tMax_s']),
        peakAbsVoltage_V: Number(e['peakAbsVoltage_V']),
        cutByCompliance: e['cutByCompliance'] === true,
      })),
      // Hours since the start, 4 significant digits: the page stays small and the eye sees no difference.
      series: Object.fromEntries(
        Object.entries(sr?.series ?? {}).map(([k, pts]) => [
          k,
          pts.map(([t, v]) => [Math.round((t - t0) / 36) / 1e5, Number(v.toPrecision(4))] as [number, number]),
        ]),
      ),
      noise: events
        .filter((e) => e['cell'] === id && e['type'] === 'noise')
        .map(
          (e) =>
            [
              Math.round(((Date.parse(String(e['start'])) + Date.parse(String(e['end']))) / 2 - t0) / 36) / 1e5,
              Number(e['voltageNoise_mV']),
              typeof e['baseline_mV'] === 'number' ? (e['baseline_mV'] as number) : null,
            ] as [number, number, number | null],
        ),
      impedance: spectra
        .filter((b) => b['cell'] === id && typeof b['rHf_Ohm'] === 'number')
        .map((b) => [Math.round((Date.parse(String(b['start'])) - t0) / 36) / 1e5, Number(b['rHf_Ohm'])] as [number, number]),
      summary: s,
      alerts,
      table2,
    };
  });
  return { title: `cyclewatch report: ${(summary.files ?? []).map((f) => f.split('/').pop()).join(', ') || dir}`, cells, batches: summary.batches };
}

/**
 * Windows worth enlarging: around the first short, and over the first polarization/short loop; always inside the
 * run (a window that would reach past an end is moved, not cut, while the run is long enough).
 */
export function zoomWindows(c: ReportCell): { label: string; range: [number, number] }[] {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const end = c.duration_h;
  const inside = (a: number, b: number): [number, number] => {
    const width = Math.min(b - a, end);
    const from = Math.min(Math.max(0, a), end - width);
    return [from, from + width];
  };
  const out: { label: string; range: [number, number] }[] = [];
  const shorts = c.segments.filter((s) => s.regime === 'short' || s.regime === 'isolated-short');
  const first = shorts[0];
  if (first !== undefined) out.push({ label: 'first short', range: inside(h(first.start_ms) - 3, h(first.start_ms) + 3) });
  const isolated = c.segments.filter((s) => s.regime === 'isolated-short');
  if (isolated.length >= 2)
    out.push({ label: 'polarization/short loop', range: inside(h(isolated[0]!.start_ms) - 2, h(isolated[Math.min(2, isolated.length - 1)]!.end_ms) + 4) });
  // Not worth a window on a run shorter than the window: the main chart shows it all.
  return out.filter((z) => z.range[1] - z.range[0] > 0 && end > 6);
}

/** What a drawn panel lacks, in words under it (a chart of temperature alone: "no pressure telemetry"). */
function missingLine(c: ReportCell, kind: string): string {
  if (kind !== 'auxOption') return '';
  const p = (c.series['pressure_MPa'] ?? []).length > 0;
  const t = (c.series['temperature_C'] ?? []).length > 0;
  return p === t ? '' : `<p class="empty">No ${p ? 'temperature' : 'pressure'} telemetry.</p>`;
}

/** A chart of a cell, or the line that says why it has nothing to draw. */
function panel(c: ReportCell & { summary: Json }, i: number, kind: string): string {
  const empty = emptyPanel(c, kind);
  if (empty !== null) return `<p class="empty" data-cell="${i}" data-kind="${kind}">${esc(empty)}</p>`;
  return `<div class="chart" data-cell="${i}" data-kind="${kind}"></div>${missingLine(c, kind)}`;
}

/** An event time (ISO) as people read it: hours since the cell's start and the lab's wall clock, `24.05 h · 2023-11-09 14:03 CET`. */
const when = (c: ReportCell, t: unknown): string => {
  const t_ms = typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isFinite(t_ms) ? clockText(c.clock, (t_ms - c.t0_ms) / 3.6e6) : String(t);
};

/** Where the cell's times are counted from, in words. */
function startLine(c: ReportCell & { zone: string; zoneSource: string | null }): string {
  if (c.clock === undefined) return '<p>Times are hours since the first sample: the data give no start date.</p>';
  return `<p>Times are hours since the first sample, ${esc(wallText(c.clock, 0))} (zone ${esc(c.zone)}${c.zoneSource === null ? '' : `, from ${esc(c.zoneSource)}`}).</p>`;
}

/** The batch view: per registry group, the Weibull fits of time to short and CCD, with their 90 % intervals. */
function batchSection(batches: readonly Json[]): string {
  if (batches.length === 0) return '';
  type Fit = { shape: I; scale: I; median: I; p10: I; cells: number; failures: number } | null;
  type I = { estimate: number; low: number; high: number };
  const iv = (i: I, d = 3): string => `${i.estimate.toPrecision(d)} <small>(${i.low.toPrecision(d)}–${i.high.toPrecision(d)})</small>`;
  const row = (what: string, f: Fit, unit: string, n: string): string =>
    f === null
      ? `<tr><td>${what}</td><td>${n}</td><td colspan="4">too few failures for a fit (two at least)</td></tr>`
      : `<tr><td>${what}</td><td>${n}</td><td>${iv(f.shape, 2)}</td><td>${iv(f.scale)} ${unit}</td><td>${iv(f.median)} ${unit}</td><td>${iv(f.p10)} ${unit}</td></tr>`;
  const rows = batches
    .map((b) => {
      const t = b['timeToShort_h'] as { shorted: number; survived: number; fit: Fit };
      const c = b['ccd_mA_cm2'] as { values: number[]; fit: Fit };
      return (
        `<tr><th colspan="6">${esc(String(b['group']))}: ${esc((b['cells'] as string[]).join(', '))}</th></tr>` +
        row('time to first short', t.fit, 'h', `${t.shorted} shorted, ${t.survived} survived to their end`) +
        (c.values.length > 0 ? row('CCD', c.fit, 'mA cm⁻²', `${c.values.length} ramped and shorted`) : '')
      );
    })
    .join('');
  return `<section><h2>Batches</h2><p>Weibull fits over the cells of each registry <code>group</code>: cells that had not shorted when their runs ended count as surviving that long. In brackets, 90 % intervals; with few cells they are wide.</p><table><tr><th>life</th><th>cells</th><th>shape</th><th>scale</th><th>median</th><th>10 % fail by</th></tr>${rows}</table></section>`;
}
/** Which resistance rose, R_app or R_hf (summary.json → impedance.resistanceRise). */
function riseLine(s: Record<string, unknown>): string {
  const r = (s['impedance'] as { resistanceRise?: { text?: unknown } | null } | undefined)?.resistanceRise;
  return r == null || typeof r.text !== 'string' ? '' : ` · <b>${esc(r.text[0]!.toUpperCase() + r.text.slice(1))}</b>`;
}
/** The compliance forecast standing at the end of the record (SPEC §5), as the summary line says it. */
function forecastLine(s: Record<string, unknown>): string {
  const f = s['complianceForecast'] as { text?: unknown } | null | undefined;
  return f == null || typeof f.text !== 'string' ? '' : ` · <b class="forecast">${esc(f.text)}</b> (from the last sample; see README on when to trust it)`;
}
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderReportHtml(input: ReportInput): Promise<string> {
  const echartsJs = await readFile(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  const data = input.cells.map((c) => ({ ...c, zooms: zoomWindows(c) }));
  const builders = Object.entries(CHART_BUILDERS)
    .map(([name, f]) => `${name}: ${f.toString()}`)
    .join(',\n');
  const helpers = CHART_HELPERS.map((f) => f.toString()).join('\n');
  const fleet =
    input.cells.length > 1
      ? `<section><h2>Fleet</h2><table><tr><th>cell</th>${Object.keys(input.cells[0]!.table2)
          .map((k) => `<th>${esc(k)}</th>`)
          .join('')}<th>shorts (isolated)</th><th>alerts</th></tr>${input.cells
          .map(
            (c) =>
              `<tr><td><a href="#cell-${esc(c.id)}">${esc(c.id)}</a></td>${Object.values(c.table2)
                .map((v) => `<td>${esc(v)}</td>`)
                .join(
                  '',
                )}<td>${fmt(c.summary['shortCount'])} (${fmt(c.summary['isolatedShortCount'])})</td><td>${c.alerts.filter((a) => a['state'] === 'raised').length}</td></tr>`,
          )
          .join('')}</table></section>`
      : '';
  const sections = data
    .map((c, i) => {
      const s = c.summary;
      const lb = s['peakJLocalIsLowerBound'] === true ? ' (lower bound: at the compliance limit)' : '';
      return `<section id="cell-${esc(c.id)}"><h2>${esc(c.id)}</h2>
${s['symmetric'] === false ? `<p class="warn"><b>Not a symmetric cell</b>: ${esc(String(s['notSymmetricReason']))}. No regime calls were made.</p>` : ''}
<p>${fmt(s['duration_h'], 4)} h (${fmt(s['judged_h'], 4)} h judged, ${fmt((s['regimeDurations_h'] as Record<string, unknown> | undefined)?.['learning'], 3)} h learning), ${fmt(s['samples'], 9)} samples, ${fmt(s['halfCycles'], 9)} half cycles · failure mode <b>${esc(String(s['failureMode']))}</b> · final regime ${esc(String(s['finalRegime']))} · minimum contact fraction ${fmt(s['minContactFraction'])}${s['minContactFractionIsBound'] === true ? ' (upper bound: at the compliance limit)' : ''} · peak j_local ${fmt(s['peakJLocal_mA_cm2'])} mA cm⁻²${lb}${s['softShortCount'] ? ` · soft shorts ${fmt(s['softShortCount'])} (first at ${esc(when(c, s['firstSoftShort']))})` : ''}${forecastLine(s)}</p>
${startLine(c)}
<p>R_ref at 25 °C: ${fmt(s['rRef25_ohm'])} Ω (${esc(String(s['rRefSource']))}) · calibrated on the cell ${fmt(s['rRefCalibrated25_ohm'])} Ω · from registry σ, d, A ${fmt(s['rRefTheoretical25_ohm'])} Ω · calibrated / theoretical ${fmt(s['rRefCalibratedOverTheoretical'], 3)} (initial contact or interface) · temperature from ${esc(String(s['temperatureSource']))}${thermalFitText(s['thermalFit'])}${interfaceGrowthText(s['interfaceGrowth'])}</p>
${protocolLine(s)}
<table class="t2"><tr>${Object.keys(c.table2)
        .map((k) => `<th>${esc(k)}</th>`)
        .join('')}</tr><tr>${Object.values(c.table2)
        .map((v) => `<td>${esc(v)}</td>`)
        .join('')}</tr></table>
<p class="tools"><label><input type="checkbox" class="abs-log" data-cell="${i}"> |V| on a log axis (shorts' millivolts and the limit's volts together)</label></p>
<div class="chart main" data-cell="${i}" data-kind="voltageOption"></div>
${c.zooms.map((z, k) => `<div class="chart zoom" data-cell="${i}" data-kind="voltageOption" data-zoom="${k}" title="${esc(z.label)}"></div>`).join('\n')}
${panel(c, i, 'contactOption')}
${panel(c, i, 'ratioOption')}
${
  (c.impedance?.length ?? 0) > 0
    ? `<p>${fmt((s['impedance'] as Record<string, unknown> | undefined)?.['blocks'])} impedance spectra in the run · high-frequency intercept R_hf ${fmt((s['impedance'] as Record<string, unknown> | undefined)?.['rHfFirst_Ohm'])} Ω at the first, ${fmt((s['impedance'] as Record<string, unknown> | undefined)?.['rHfLast_Ohm'])} Ω at the last (impedance.jsonl, points in impedance.csv)${riseLine(s)}</p>
<div class="chart" data-cell="${i}" data-kind="resistanceOption"></div>`
    : ''
}
${
  (c.noise?.length ?? 0) > 0
    ? `<p>Voltage noise per window of active current (an hour, or up to a rest or a reversal) beside the cell's usual noise at that current and temperature; three windows in a row at twice it raise noise-rising.</p>
<div class="chart" data-cell="${i}" data-kind="noiseOption"></div>`
    : ''
}
${panel(c, i, 'auxOption')}
${panel(c, i, 'halfCycleOption')}
<h3>Alerts</h3>
${
  c.alerts.length === 0
    ? '<p>none</p>'
    : `<table class="alerts"><tr><th>time since start · ${esc(c.clock === undefined ? 'no date' : c.zone)}</th><th>severity</th><th>code</th><th>state</th><th>message</th></tr>${c.alerts
        .map(
          (a) =>
            `<tr class="${esc(String(a['severity']))}"><td class="time">${esc(when(c, a['t']))}</td><td>${esc(String(a['severity']))}</td><td>${esc(String(a['code']))}</td><td>${esc(String(a['state']))}</td><td>${esc(String(a['message']))}</td></tr>`,
        )
        .join('')}</table>`
}
</section>`;
    })
    .join('\n');
  // The charts' data only: the tables are in the page already, and the raw summary and events hold machine times
  // (UTC, or a count from 1970 for data without a start) that no person should meet in the page.
  const chartData = data.map(({ summary: _s, alerts: _a, table2: _t, ...chart }) => chart);
  const json = JSON.stringify(chartData).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#212529}
h1{font-size:20px}h2{font-size:17px;border-top:1px solid #dee2e6;padding-top:12px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #dee2e6;padding:3px 6px;text-align:left}
.chart{width:100%;height:340px}.chart.zoom{height:260px}
p.empty{color:#495057;font-style:italic;margin:8px 0 8px 76px}
tr.critical td{background:#fff5f5}tr.warning td{background:#fff9db}p.warn{background:#fff9db;padding:6px}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}p.tools{margin:4px 0;font-size:13px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="legend">Regimes shaded:${[
    ['learning', 'learning (no reference yet)'],
    ['polarization', 'polarization'],
    ['short', 'short'],
    ['isolated-short', 'isolated short'],
    ['soft-short', 'soft short'],
  ]
    .map(([r, label]) => `<span style="background:${regimeColor(r!)}"></span>${label}`)
    .join(
      '',
    )} (unshaded: stable). Zoom with the slider under a chart, a drag, or Ctrl + mouse wheel: a cell's time charts zoom together. Click a legend item to hide it.</p>
${fleet}
${batchSection(input.batches ?? [])}
${sections}
<script type="application/json" id="cyclewatch-data">${json}</script>
<script>${echartsJs}</script>
<script>
(function () {
  ${helpers}
  var B = {${builders}};
  var cells = JSON.parse(document.getElementById('cyclewatch-data').textContent);
  var charts = [];
  document.querySelectorAll('.chart').forEach(function (el) {
    var c = cells[Number(el.dataset.cell)];
    var zoom = el.dataset.zoom === undefined ? null : c.zooms[Number(el.dataset.zoom)].range;
    // ECharts' inside zoom takes every wheel event; only Ctrl/⌘ + wheel reaches it, a plain wheel scrolls the page.
    el.addEventListener('wheel', function (e) { if (!e.ctrlKey && !e.metaKey) e.stopPropagation(); }, { capture: true, passive: true });
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    var option = el.dataset.kind === 'voltageOption' ? B.voltageOption(c, true, zoom) : B[el.dataset.kind](c, true);
    chart.setOption(option);
    // A cell's zoomable time charts move together: a zoom in one is a zoom in all (the windows keep their own range).
    var shared = zoom === null && option.dataZoom !== undefined && option.dataZoom.length > 0;
    if (shared) chart.group = 'cell-' + el.dataset.cell;
    charts.push({ kind: el.dataset.kind, cell: c.id, zoom: zoom, chart: chart, main: el.classList.contains('main'), group: shared ? chart.group : null });
  });
  cells.forEach(function (_, i) { echarts.connect('cell-' + i); });
  document.querySelectorAll('input.abs-log').forEach(function (box) {
    box.addEventListener('change', function () {
      var i = Number(box.dataset.cell);
      var main = charts.filter(function (x) { return x.main && x.cell === cells[i].id; })[0];
      main.chart.setOption(B.voltageOption(cells[i], true, null, box.checked), { notMerge: true });
    });
  });
  window.addEventListener('resize', function () { charts.forEach(function (x) { x.chart.resize(); }); });
  window.__cyclewatch = { charts: charts, cells: cells };
})();
</script>
</body></html>
`;
}

/** A file name from a cell id: separators, dots at the start and control characters become `_`. */
export function safeFileName(id: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
  return id.replace(/[\\/\u0000-\u001f\u007f:*?"<>|]/g, '_').replace(/^\.+/, '_') || '_';
}

export async function writeReport(
  dir: string,
  options: { figures?: FigureOptions; timeZone?: string } = {},
): Promise<{ html: string; bytes: number; figures: string[] }> {
  const input = await loadReportInput(dir, options.timeZone);
  const html = await renderReportHtml(input);
  const path = join(dir, 'report.html');
  await writeFile(path, html);
  const figures: string[] = [];
  // A cell id is data from the field: it names files inside DIR only, never a path out of it.
  if (options.figures !== undefined && options.figures.formats.length > 0) {
    for (const c of input.cells) figures.push(...(await writeFigures(c, join(dir, safeFileName(c.id)), options.figures)));
  }
  return { html: path, bytes: Buffer.byteLength(html), figures };
}

/** The thermal lag and Ea measured at chamber steps, when any step was fitted. */
function thermalFitText(fit: unknown): string {
  if (fit === null || typeof fit !== 'object') return '';
  const f = fit as { lag_min: number; activationEnergyEv: number; steps: number };
  return ` · measured at ${f.steps} chamber step${f.steps === 1 ? '' : 's'}: the cell follows with a ${fmt(f.lag_min, 2)} min lag, Ea ${fmt(f.activationEnergyEv, 2)} eV`;
}

/** Interface growth, when it was called: the rate and where the reference now stands. */
function interfaceGrowthText(g: unknown): string {
  if (g === null || typeof g !== 'object') return '';
  const x = g as { growth_per100h: number; referenceFollow: number };
  return ` · interface growth ${(100 * x.growth_per100h).toFixed(1)} % per 100 h (R_ref followed it to ×${x.referenceFollow.toFixed(2)})`;
}
