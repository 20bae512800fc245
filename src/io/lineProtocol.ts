/**
 * InfluxDB line protocol for cyclewatch's series (SPEC §5). Measurements:
 * `telemetry` (raw), `derived` (per-sample state), `half_cycle` (one point per half cycle), `events` (regime
 * changes and alerts, used as Grafana annotations). Tag: `cell`. Timestamps in milliseconds.
 */
import type { DerivedState } from '../domain/detector.js';
import type { CellEvent } from '../domain/events.js';
import { iso, type AlignedSample, type Sample } from '../domain/sample.js';

// Line protocol cannot escape a newline in a key or tag: control characters become spaces (then escaped), so
// one record can never be split in two, whatever an id or a message holds.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
const escapeKey = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[,= \\]/g, (c) => '\\' + c);
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

export function telemetryLine(s: Sample | AlignedSample): string | null {
  return line(
    'telemetry',
    { cell: s.cell },
    fields({ voltage_V: s.voltage_V, current_mA: s.current_mA, pressure_MPa: s.pressure_MPa, temperature_C: s.temperature_C }),
    s.t_ms,
  );
}

export function derivedLine(cell: string, d: DerivedState): string | null {
  return line(
    'derived',
    { cell },
    fields(
      {
        regime: d.regime,
        halfCycleIndex: d.halfCycleIndex,
        resting: d.resting,
        rApp_ohm: d.rApp_ohm,
        rRef_ohm: d.rRef_ohm,
        rRefSource: d.rRefSource,
        ratio: d.ratio,
        contactFraction: d.contactFraction,
        aEff_cm2: d.aEff_cm2,
        jSet_mA_cm2: d.jSet_mA_cm2,
        jLocal_mA_cm2: d.jLocal_mA_cm2,
        jLocalIsLowerBound: d.atCompliance,
      },
      ['halfCycleIndex'],
    ),
    d.t_ms,
  );
}

export function eventLines(e: CellEvent): string[] {
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
              text: `${e.regime} since ${iso(e.onset_ms)}`,
              onset_ms: e.onset_ms,
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
          fields({ title: e.code, text: e.message, severity: e.severity, state: e.state }),
          e.t_ms,
        )!,
      ];
  }
}
