/**
 * InfluxDB line protocol for cyclewatch's series (SPEC §5). Measurements:
 * `telemetry` (raw), `derived` (per-sample state), `half_cycle` (one point per half cycle), `events` (regime
 * changes and alerts, used as Grafana annotations), `impedance` (spectrum points) and `impedance_block` (one point
 * per spectrum, at its first point, rewritten as points arrive: the database keeps the last). Tag: `cell`.
 * Timestamps in milliseconds.
 */
import { describeForecast } from '../../domain/forecast.js';
import type { CellEvent } from '../../domain/events.js';
import type { ImpedanceBlock, ImpedancePoint } from '../../domain/impedance.js';
import { iso } from '../../domain/sample.js';
import { elapsed_h, formatElapsed } from '../../domain/labTime.js';
import { escapeKey } from './lineBytes.js';

// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
const escapeString = (s: string): string => '"' + s.replace(/["\\]/g, (c) => '\\' + c).replace(/[\u0000-\u001f\u007f]/g, ' ') + '"';

type FieldValue = number | boolean | string | null | undefined;

/** Fields with null/undefined/non-finite values are left out: line protocol has no null. */
function fields(f: Record<string, FieldValue>, ints: readonly string[] = []): string {
  let out = '';
  for (const k in f) {
    const v = f[k];
    if (v === null || v === undefined) continue;
    let text: string;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) continue;
      text = ints.includes(k) ? `${Math.round(v)}i` : String(v);
    } else if (typeof v === 'boolean') text = v ? 'true' : 'false';
    else text = escapeString(v);
    out += (out.length === 0 ? '' : ',') + escapeKey(k) + '=' + text;
  }
  return out;
}

function line(measurement: string, tags: Record<string, string>, f: string, t_ms: number): string | null {
  if (f.length === 0) return null;
  let t = '';
  for (const k in tags) t += ',' + escapeKey(k) + '=' + escapeKey(tags[k]!);
  return `${measurement}${t} ${f} ${Math.round(t_ms)}`;
}

/**
 * An event's points. With the cell's first sample time (`start_ms`), each carries `elapsed_h` (hours since the
 * cell's start, of the event's time) and a regime annotation's text says since when in those hours.
 */
export function eventLines(e: CellEvent, start_ms?: number): string[] {
  const hours = (t_ms: number): number | undefined => (start_ms === undefined || !Number.isFinite(start_ms) ? undefined : elapsed_h(t_ms, start_ms));
  switch (e.type) {
    case 'half-cycle':
      return [
        line(
          'half_cycle',
          { cell: e.cell },
          fields(
            {
              index: e.index,
              duration_s: e.duration_s,
              current_mA: e.current_mA,
              currentDensity_mA_cm2: e.currentDensity_mA_cm2,
              charge_mAh_cm2: e.charge_mAh_cm2,
              metalThickness_um: e.metalThickness_um,
              cumulativeCapacity_mAh_cm2: e.cumulativeCapacity_mAh_cm2,
              plateauAbsVoltage_V: e.plateauAbsVoltage_V,
              peakAbsVoltage_V: e.peakAbsVoltage_V,
              rRatioPeak: e.rRatioPeak,
              contactFractionMin: e.contactFractionMin,
              jLocalPeak_mA_cm2: e.jLocalPeak_mA_cm2,
              jLocalIsLowerBound: e.jLocalIsLowerBound,
              cutByCompliance: e.cutByCompliance,
              tMax_s: e.tMax_s,
              voltageNoise_mV: e.voltageNoise_mV,
              temperature_C: e.temperature_C,
              elapsed_h: hours(e.start_ms),
            },
            ['index'],
          ),
          e.end_ms,
        )!,
      ];
    case 'regime':
      return [
        line(
          'events',
          { cell: e.cell, type: 'regime', code: e.regime },
          fields(
            {
              title: `${e.regime}`,
              text:
                hours(e.onset_ms) === undefined
                  ? `${e.regime} since ${iso(e.onset_ms)}`
                  : `${e.regime} since ${formatElapsed(e.onset_ms, start_ms!)} (hours since the cell's start)`,
              onset_ms: e.onset_ms,
              elapsed_h: hours(e.onset_ms),
              end_ms: e.end_ms,
              severity: e.regime === 'stable' || e.regime === 'learning' ? 'info' : 'warning',
            },
            ['onset_ms', 'end_ms'],
          ),
          e.detectedAt_ms,
        )!,
      ];
    case 'alert':
      return [
        line(
          'events',
          { cell: e.cell, type: 'alert', code: e.code },
          // `active` (1 raised, 0 cleared): what an alert rule reads as the alert's current state, last value per cell.
          fields(
            {
              title: e.code,
              // The annotation's text: a person reads it over a chart in their browser's zone, the cell's hours beside it.
              text: hours(e.t_ms) === undefined ? e.message : `${e.message} [${formatElapsed(e.t_ms, start_ms!)} since the cell's start]`,
              severity: e.severity,
              state: e.state,
              active: e.state === 'raised' ? 1 : 0,
              elapsed_h: hours(e.t_ms),
            },
            ['active'],
          ),
          e.t_ms,
        )!,
      ];
    case 'noise':
      return [
        line(
          'noise',
          { cell: e.cell },
          fields(
            {
              voltageNoise_mV: e.voltageNoise_mV,
              baseline_mV: e.baseline_mV,
              absCurrent_mA: e.absCurrent_mA,
              temperature_C: e.temperature_C,
              rows: e.rows,
              elapsed_h: hours(e.start_ms),
            },
            ['rows'],
          ),
          e.end_ms,
        )!,
      ];
    case 'forecast':
      return [
        line(
          'forecast',
          { cell: e.cell, target: e.target },
          fields(
            {
              at_ms: e.at_ms,
              low_ms: e.low_ms,
              high_ms: e.high_ms,
              in_h: (e.at_ms - e.t_ms) / 3.6e6,
              low_h: (e.low_ms - e.t_ms) / 3.6e6,
              high_h: e.high_ms === null ? null : (e.high_ms - e.t_ms) / 3.6e6,
              text: describeForecast(e, e.t_ms),
              halfCycles: e.basis.halfCycles,
              elapsed_h: hours(e.t_ms),
            },
            ['at_ms', 'low_ms', 'high_ms', 'halfCycles'],
          ),
          e.t_ms,
        )!,
      ];
  }
}

/** A spectrum point and its spectrum's summary so far (same series and time for every update of one spectrum). */
export function impedanceLines(p: ImpedancePoint, b: ImpedanceBlock): string[] {
  const tag = { cell: p.cell };
  const out: string[] = [];
  const point = line('impedance', tag, fields({ block: p.block, freq_Hz: p.freq_Hz, ReZ_Ohm: p.reZ_Ohm, minusImZ_Ohm: p.minusImZ_Ohm }, ['block']), p.t_ms);
  if (point !== null) out.push(point);
  const block = line(
    'impedance_block',
    tag,
    fields({ block: b.block, points: b.points, fMax_Hz: b.fMax_Hz, fMin_Hz: b.fMin_Hz, rHf_Ohm: b.rHf_Ohm, method: b.method }, ['block', 'points']),
    b.start_ms,
  );
  if (block !== null) out.push(block);
  return out;
}
