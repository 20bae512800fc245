/** The files of SPEC §5 that `cyclewatch analyze` writes: events.jsonl, segments.jsonl, summary.json. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellSummary, LabelledSegment } from '../../domain/detector/index.js';
import { eventTime_ms, type CellEvent } from '../../domain/events.js';
import { iso } from '../../domain/sample.js';
import { describeForecast } from '../../domain/forecast.js';
import { elapsed_h } from '../../domain/labTime.js';
import type { ImpedanceBlock, ImpedancePoint } from '../../domain/impedance.js';
import type { CellSeriesData } from '../../domain/series.js';

const r6 = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(6)));

/** `elapsed_h` (and `endElapsed_h`) of an output object: hours since the cell's start, when it is known. */
function elapsedFields(start_ms: number | undefined, t_ms: number, end_ms?: number): Record<string, number> {
  if (start_ms === undefined || !Number.isFinite(start_ms)) return {};
  return end_ms === undefined ? { elapsed_h: elapsed_h(t_ms, start_ms) } : { elapsed_h: elapsed_h(t_ms, start_ms), endElapsed_h: elapsed_h(end_ms, start_ms) };
}

/**
 * An event as SPEC §5 writes it: ISO times (UTC), rounded numbers; with the cell's first sample time, `elapsed_h`
 * of its time (a regime's onset, a half cycle's start, an alert's time), and `endElapsed_h` where it has an end.
 */
export function eventToJson(e: CellEvent, cell: { readonly start_ms?: number } = {}): Record<string, unknown> {
  const start_ms = cell.start_ms;
  switch (e.type) {
    case 'regime':
      return {
        type: 'regime',
        cell: e.cell,
        regime: e.regime,
        onset: iso(e.onset_ms),
        detectedAt: iso(e.detectedAt_ms),
        ...(e.end_ms === undefined ? {} : { end: iso(e.end_ms) }),
        ...elapsedFields(start_ms, e.onset_ms, e.end_ms),
      };
    case 'half-cycle':
      return {
        type: 'half-cycle',
        cell: e.cell,
        index: e.index,
        start: iso(e.start_ms),
        end: iso(e.end_ms),
        ...elapsedFields(start_ms, e.start_ms, e.end_ms),
        duration_s: r6(e.duration_s),
        current_mA: r6(e.current_mA),
        currentDensity_mA_cm2: r6(e.currentDensity_mA_cm2),
        charge_mAh_cm2: r6(e.charge_mAh_cm2),
        metalThickness_um: r6(e.metalThickness_um),
        cumulativeCapacity_mAh_cm2: r6(e.cumulativeCapacity_mAh_cm2),
        plateauAbsVoltage_V: r6(e.plateauAbsVoltage_V),
        peakAbsVoltage_V: r6(e.peakAbsVoltage_V),
        rRatioPeak: r6(e.rRatioPeak),
        contactFractionMin: r6(e.contactFractionMin),
        jLocalPeak_mA_cm2: r6(e.jLocalPeak_mA_cm2),
        jLocalIsLowerBound: e.jLocalIsLowerBound,
        cutByCompliance: e.cutByCompliance,
        tMax_s: r6(e.tMax_s),
        voltageNoise_mV: r6(e.voltageNoise_mV),
        temperature_C: r6(e.temperature_C),
      };
    case 'alert':
      return {
        type: 'alert',
        cell: e.cell,
        t: iso(e.t_ms),
        severity: e.severity,
        code: e.code,
        state: e.state,
        message: e.message,
        // Where the condition began before it could be decided (a soft short): the report shades from there.
        ...(e.onset_ms === undefined ? {} : { onset: iso(e.onset_ms) }),
        ...elapsedFields(start_ms, e.t_ms),
      };
    case 'noise':
      return {
        type: 'noise',
        cell: e.cell,
        start: iso(e.start_ms),
        end: iso(e.end_ms),
        ...elapsedFields(start_ms, e.start_ms, e.end_ms),
        rows: e.rows,
        voltageNoise_mV: r6(e.voltageNoise_mV),
        baseline_mV: r6(e.baseline_mV),
        absCurrent_mA: r6(e.absCurrent_mA),
        temperature_C: r6(e.temperature_C),
      };
    case 'forecast':
      return {
        type: 'forecast',
        cell: e.cell,
        t: iso(e.t_ms),
        target: e.target,
        at: iso(e.at_ms),
        low: iso(e.low_ms),
        high: e.high_ms === null ? null : iso(e.high_ms),
        basis: {
          ...e.basis,
          fromRatio: r6(e.basis.fromRatio),
          toRatio: r6(e.basis.toRatio),
          limitRatio: r6(e.basis.limitRatio),
          halving_mAh_cm2: r6(e.basis.halving_mAh_cm2),
          chargeRate_mAh_cm2_h: r6(e.basis.chargeRate_mAh_cm2_h),
        },
        message: describeForecast(e, e.t_ms),
        ...elapsedFields(start_ms, e.t_ms),
      };
  }
}

export function segmentToJson(s: LabelledSegment, cell: { readonly start_ms?: number } = {}): Record<string, unknown> {
  const start_ms = cell.start_ms;
  return { cell: s.cell, regime: s.regime, start: iso(s.start_ms), end: iso(s.end_ms), ...elapsedFields(start_ms, s.start_ms, s.end_ms) };
}

/** Event-time order across cells; stable, so a cell's own order is kept for equal times. */
export function sortEvents(events: CellEvent[]): CellEvent[] {
  return events
    .map((e, i) => ({ e, i, t: eventTime_ms(e) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}

export function summaryToJson(summary: CellSummary): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(summary)) {
    if (typeof v === 'number') out[k] = r6(v);
    else if (v !== null && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([a, b]) => [a, typeof b === 'number' ? r6(b) : b]));
    else out[k] = v;
  }
  return out;
}

/** Write through a temporary file and rename, so a reader never sees half a file. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

export interface AnalysisFiles {
  readonly events: CellEvent[];
  readonly segments: LabelledSegment[];
  readonly summaries: CellSummary[];
  readonly meta: Record<string, unknown>;
  /** Display series for the report (series.json). */
  readonly series?: readonly CellSeriesData[];
  /** Impedance spectra inside the run: impedance.jsonl (one line per spectrum) and impedance.csv (its points). */
  readonly impedance?: { readonly blocks: readonly ImpedanceBlock[]; readonly points: readonly ImpedancePoint[] };
}

/** RFC 4180: a field with a comma, quote or line break is quoted. */
const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function impedanceBlockToJson(b: ImpedanceBlock): Record<string, unknown> {
  return {
    type: 'impedance',
    cell: b.cell,
    block: b.block,
    start: iso(b.start_ms),
    end: iso(b.end_ms),
    points: b.points,
    fMax_Hz: r6(b.fMax_Hz),
    fMin_Hz: r6(b.fMin_Hz),
    rHf_Ohm: b.rHf_Ohm === null ? null : r6(b.rHf_Ohm),
    method: b.method,
  };
}

export async function writeAnalysis(dir: string, a: AnalysisFiles): Promise<{ events: string; segments: string; summary: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { events: join(dir, 'events.jsonl'), segments: join(dir, 'segments.jsonl'), summary: join(dir, 'summary.json') };
  const lines = (xs: Record<string, unknown>[]): string => xs.map((x) => JSON.stringify(x) + '\n').join('');
  const starts = new Map(a.summaries.map((s) => [s.cell, s.start === null ? undefined : Date.parse(s.start)]));
  await writeAtomic(paths.events, lines(sortEvents(a.events).map((e) => eventToJson(e, { start_ms: starts.get(e.cell) }))));
  await writeAtomic(paths.segments, lines(a.segments.map((s) => segmentToJson(s, { start_ms: starts.get(s.cell) }))));
  const cells = Object.fromEntries(a.summaries.map((s) => [s.cell, summaryToJson(s)]));
  await writeAtomic(paths.summary, JSON.stringify({ ...a.meta, cells }, null, 2) + '\n');
  if (a.series !== undefined) await writeAtomic(join(dir, 'series.json'), JSON.stringify({ cells: a.series }));
  if (a.impedance !== undefined && a.impedance.blocks.length > 0) {
    await writeAtomic(join(dir, 'impedance.jsonl'), lines(a.impedance.blocks.map(impedanceBlockToJson)));
    const csv = ['timestamp,cell,block,freq_Hz,ReZ_Ohm,minusImZ_Ohm'];
    for (const p of a.impedance.points) csv.push(`${iso(p.t_ms)},${csvField(p.cell)},${p.block},${r6(p.freq_Hz)},${r6(p.reZ_Ohm)},${r6(p.minusImZ_Ohm)}`);
    await writeAtomic(join(dir, 'impedance.csv'), csv.join('\n') + '\n');
  }
  return paths;
}
