/**
 * What the detector says: alerts with the lab's times in them, regime changes applied to the segments and counts,
 * and the failure record (first failure, capacity before it, the set current density at it).
 */
import type { CellConfig } from '../cell.js';
import { closeNoiseWindow, observeNoiseWindow, type NoiseWindow } from '../noise.js';
import type { AlertCode, AlertEvent, CellEvent, Severity } from '../events.js';
import { tMax_s } from '../physics.js';
import { notSymmetric, type RegimeChange } from '../regime.js';
import { advanceRun, isSustained } from '../sustain.js';
import { labTime } from '../labTime.js';
import { type DetectorOptions, SHORT_COLLAPSE_RATIO, type HalfCycleAcc, type RangeWatch, type DetectorState, type Emit } from './state.js';

/** A time in an alert message, as people read it: hours since the cell's first sample and the lab's wall clock. */
export const when = (s: DetectorState, cell: CellConfig, t_ms: number): string => labTime(t_ms, s.clock.first_ms, cell.timeZone ?? 'UTC');
/** A resistance in a message: 35.3 Ω, 4.05 kΩ (not 4.05e+3 Ω). */
export const formatOhm = (r_ohm: number): string => (Math.abs(r_ohm) >= 1000 ? `${(r_ohm / 1000).toPrecision(3)} kΩ` : `${r_ohm.toPrecision(3)} Ω`);
export function alert(
  s: DetectorState,
  emit: Emit,
  t_ms: number,
  severity: Severity,
  code: AlertCode,
  message: string,
  state: 'raised' | 'cleared' = 'raised',
  onset_ms?: number,
): void {
  const e: AlertEvent =
    onset_ms === undefined
      ? { type: 'alert', cell: s.cell, t_ms, severity, code, state, message }
      : { type: 'alert', cell: s.cell, t_ms, severity, code, state, message, onset_ms };
  emit(e);
}
/** Samples stopped for longer than the cell's rhythm explains: say so, with how many are missing. */
export function dataGap(s: DetectorState, cell: CellConfig, t: number, dt: number, rhythm_ms: number, emit: Emit): void {
  const missing = Math.max(1, Math.round(dt / rhythm_ms) - 1);
  s.clock.dataGaps++;
  s.clock.missingSamples += missing;
  alert(
    s,
    emit,
    t,
    'warning',
    'data-gap',
    `no samples for ${(dt / 1000).toFixed(0)} s before ${when(s, cell, t)}: about ${missing} missing at this cell's rhythm of ${(rhythm_ms / 1000).toPrecision(3)} s ` +
      '(a broker that dropped messages, or a logger that stopped)',
    'raised',
    t - dt,
  );
}
export function declareNotSymmetric(s: DetectorState, t: number, reason: string, emit: Emit): void {
  const changes: RegimeChange[] = [];
  s.regime = notSymmetric(s.regime, t, changes);
  if (changes.length === 0) return;
  alert(s, emit, t, 'warning', 'not-symmetric', `not a symmetric cell: ${reason}; no regime calls for this cell`);
  // No regime calls at all: the whole record is one segment.
  s.segments.length = 0;
  s.segments.push({ regime: 'not-symmetric', start_ms: s.clock.first_ms });
}
export function complianceReached(s: DetectorState, t: number, emit: Emit, cell: CellConfig): void {
  const f = s.failure;
  if (f.firstCompliance_ms === null) {
    f.firstCompliance_ms = t;
    markFailure(s, cell.areaCm2);
  }
  if (!f.complianceArmed) return;
  f.complianceArmed = false;
  alert(s, emit, t, 'critical', 'compliance', `|V| reached the ${cell.complianceV} V compliance limit: the cycler is cutting half cycles short`);
}
/** Eq. 1, for solid electrolytes of a known metal, re-evaluated at most once a minute. */
export function checkTMax(s: DetectorState, hc: HalfCycleAcc, cell: CellConfig, t: number, emit: Emit): void {
  if (cell.electrolyte !== 'solid' || cell.metal === undefined) {
    hc.tMaxCheckAfter_ms = Infinity;
    return;
  }
  const j = hc.sumAbsI_mA / hc.n / cell.areaCm2;
  const limit_s = tMax_s(j, cell.metal);
  const age_ms = t - hc.start_ms - (hc.paused_ms ?? 0);
  if (age_ms <= limit_s * 1000) {
    hc.tMaxCheckAfter_ms = Math.min(limit_s * 1000, age_ms + 60_000);
    return;
  }
  hc.tMaxCheckAfter_ms = Infinity;
  const level = Math.round(j * 10) / 10;
  if (s.failure.tMaxAlertedLevels.includes(level)) return;
  s.failure.tMaxAlertedLevels.push(level);
  alert(
    s,
    emit,
    t,
    'warning',
    'tmax-exceeded',
    `half cycle at ${level} mA/cm² lasts longer than t_max = ${(limit_s / 60).toFixed(1)} min (Eq. 1): expect polarization from void formation`,
  );
}
/** Set current density of the half cycle that contained `t_ms` (the CCD when `t_ms` is the first short). */
export function currentDensityAt(s: DetectorState, t_ms: number, areaCm2: number): number | null {
  const past = s.recentHalfCycles.find((h) => h.start_ms <= t_ms && t_ms <= h.end_ms);
  if (past !== undefined) return past.j_mA_cm2;
  const hc = s.halfCycle;
  return hc !== null && hc.n > 0 ? hc.sumAbsI_mA / hc.n / areaCm2 : null;
}
/** Capacity before failure (paper, Table 2): what had been cycled when the cell first failed. */
export function markFailure(s: DetectorState, areaCm2: number): void {
  const f = s.failure;
  if (f.capacityBeforeFailure_mAh_cm2 !== null) return;
  const open = s.halfCycle === null ? 0 : s.halfCycle.charge_mA_ms / 3.6e6 / areaCm2;
  f.capacityBeforeFailure_mAh_cm2 = s.cumulativeCapacity_mAh_cm2 + open;
}
export function softShortChanged(s: DetectorState, cell: CellConfig, change: 'opened' | 'closed', t: number, ratio: number, emit: Emit): void {
  const soft = s.softShort;
  if (change === 'closed') {
    alert(s, emit, t, 'info', 'soft-short', `R_app back at ${ratio.toFixed(2)}× R_ref: the leak has closed`, 'cleared');
    return;
  }
  if (s.failure.firstSoftShort_ms === null) s.failure.firstSoftShort_ms = soft.onset_ms;
  const basis = s.thermal.seen ? 'temperature-compensated' : 'no temperature telemetry to rule out warming';
  alert(
    s,
    emit,
    t,
    'warning',
    'soft-short',
    `soft short since ${when(s, cell, soft.onset_ms)}: R_app at ${ratio.toFixed(2)}× the calibrated R_ref (${basis}), a partial electronic leak that often ends in a hard short`,
    'raised',
    soft.onset_ms,
  );
}
/** A closed noise window: its point, and the `noise-rising` alert when the cell's noise rose or settled again. */
export function noiseWindowClosed(s: DetectorState, cell: CellConfig, o: DetectorOptions, w: NoiseWindow, emit: Emit): void {
  const n = s.noise!;
  const change = observeNoiseWindow(n, w, o.noise, s.regime.regime === 'stable');
  const baseline = n.lastBaseline_mV;
  emit({
    type: 'noise',
    cell: s.cell,
    start_ms: w.start_ms,
    end_ms: w.end_ms,
    rows: w.rows,
    voltageNoise_mV: w.voltageNoise_mV,
    absCurrent_mA: w.absI_mA,
    temperature_C: w.temperature_C === w.temperature_C ? w.temperature_C : null,
    baseline_mV: baseline === baseline ? baseline : null,
  });
  // A cell that is not symmetric gets no regime alert, and this one speaks of a short to come.
  if (change === null || s.regime.regime === 'not-symmetric') return;
  if (change === 'cleared') {
    alert(s, emit, w.end_ms, 'info', 'noise-rising', `voltage noise back at ${n.lastFactor.toFixed(1)}× its usual ${fmtMv(baseline)}`, 'cleared');
    return;
  }
  const where = s.thermal.seen ? `at unchanged temperature (${w.temperature_C.toFixed(1)} °C)` : 'without temperature telemetry';
  alert(
    s,
    emit,
    w.end_ms,
    'info',
    'noise-rising',
    `voltage noise at ${w.absI_mA.toPrecision(3)} mA has risen to ${n.lastFactor.toFixed(1)}× its usual ${fmtMv(baseline)} since ${when(s, cell, n.rising_ms)}, ` +
      `${o.noise.sustainWindows} windows in a row ${where}: a leak path forming and breaking, a soft-short precursor`,
    'raised',
    n.rising_ms,
  );
}
/**
 * Contact loss that follows the stack relaxing (SPEC §1: pressure relaxes as screws settle): at a polarization onset,
 * when the stack pressure fell by a fifth or more over the hours before it (up to two days), a `pressure-contact`
 * warning names the likely cause and the remedy. A stack that settled long before and has held since is not it:
 * voids from stripping need no pressure drop.
 */
export function pressureBehindContact(s: DetectorState, cell: CellConfig, t: number, emit: Emit): void {
  const p = s.stack;
  if (p === undefined || p.hourly_MPa.length < PRESSURE_MIN_SPAN_H + 1) return;
  const before = Math.max(...p.hourly_MPa);
  const hoursAgo = p.hourly_MPa.length - 1 - p.hourly_MPa.indexOf(before);
  if (!(p.last_MPa < PRESSURE_DROP * before)) return;
  alert(
    s,
    emit,
    t,
    'warning',
    'pressure-contact',
    `the stack relaxed from ${before.toFixed(1)} to ${p.last_MPa.toFixed(1)} MPa over the last ${hoursAgo} h and the contact followed: ` +
      're-tighten the stack (contact lost to a pressure drop recovers with pressure; voids from stripping do not)',
  );
}
export const PRESSURE_HISTORY_H = 48;
const PRESSURE_MIN_SPAN_H = 12;
const PRESSURE_DROP = 0.8;
/** Close the noise window of a half cycle that ends or rests now. */
export function closeNoiseOf(s: DetectorState, cell: CellConfig, o: DetectorOptions, hc: HalfCycleAcc, temperature_C: number, emit: Emit): void {
  if (s.noise === undefined) return;
  const w = closeNoiseWindow(s.noise, hc, hc.last_ms, temperature_C, o.noise);
  if (w !== null) noiseWindowClosed(s, cell, o, w, emit);
}
const fmtMv = (mV: number): string => (mV >= 1 ? `${mV.toPrecision(3)} mV` : `${(mV * 1000).toPrecision(3)} µV`);
export function applyChanges(s: DetectorState, cell: CellConfig, changes: readonly RegimeChange[], emit: Emit): void {
  const f = s.failure;
  for (const c of changes) {
    const e: CellEvent =
      c.end_ms === undefined
        ? { type: 'regime', cell: s.cell, regime: c.regime, onset_ms: c.onset_ms, detectedAt_ms: c.detectedAt_ms }
        : { type: 'regime', cell: s.cell, regime: c.regime, onset_ms: c.onset_ms, detectedAt_ms: c.detectedAt_ms, end_ms: c.end_ms };
    emit(e);
    recordSegment(s, c);
    const t = c.detectedAt_ms;
    switch (c.regime) {
      case 'polarization':
        // Once per episode: the polarization that follows each isolated short is part of the loop.
        if (f.polarizationArmed) {
          f.polarizationArmed = false;
          alert(
            s,
            emit,
            t,
            'warning',
            'polarization-onset',
            `R_app/R_ref above the polarization threshold since ${when(s, cell, c.onset_ms)}: contact loss at the stripping electrode`,
          );
          pressureBehindContact(s, cell, t, emit);
        }
        break;
      case 'short': {
        f.shortCount++;
        if (f.firstShort_ms === null) {
          f.firstShort_ms = c.onset_ms;
          f.ccd_mA_cm2 = currentDensityAt(s, c.onset_ms, cell.areaCm2);
          markFailure(s, cell.areaCm2);
        }
        const l = s.last;
        // The severity follows the evidence: critical once the voltage has collapsed (R_app under a quarter of R_ref,
        // or no reference and |V| near zero); a cell still at half its resistance is a suspected, partial short.
        const ratioNow = l.rApp_ohm / l.rRef_ohm;
        const partial = ratioNow >= SHORT_COLLAPSE_RATIO;
        alert(
          s,
          emit,
          t,
          partial ? 'warning' : 'critical',
          'short',
          partial
            ? `suspected short since ${when(s, cell, c.onset_ms)}: R_app ≈ ${formatOhm(l.rApp_ohm)}, ${ratioNow.toFixed(2)}× R_ref, the voltage not collapsed (a partial short, or a soft short deepening)`
            : `short circuit since ${when(s, cell, c.onset_ms)}: R_app ${Number.isNaN(l.rApp_ohm) ? '' : `≈ ${formatOhm(l.rApp_ohm)} `}far below the cell's own level (dendrite)`,
          'raised',
          c.onset_ms,
        );
        break;
      }
      case 'isolated-short':
        f.isolatedShortCount++;
        alert(
          s,
          emit,
          t,
          'warning',
          'isolated-short',
          `the short of ${when(s, cell, c.onset_ms)} broke again at ${when(s, cell, c.end_ms ?? t)} (dendrite isolated)`,
        );
        if (f.isolatedShortCount === 2) {
          alert(s, emit, t, 'critical', 'short-loop', 'second isolated short: the cell is in the polarization/short loop');
        }
        break;
      case 'stable':
        f.complianceArmed = true;
        f.polarizationArmed = true;
        break;
    }
  }
}
export function recordSegment(s: DetectorState, c: RegimeChange): void {
  const segs = s.segments;
  const prevStart = segs[segs.length - 1]!.start_ms;
  if (c.regime === 'isolated-short') {
    // The open `short` segment becomes the isolated short; what follows starts at its end.
    segs[segs.length - 1] = { regime: 'isolated-short', start_ms: prevStart };
    return;
  }
  // An onset estimated before the previous change replaces that (then empty) segment.
  const start_ms = Math.max(c.onset_ms, prevStart);
  if (start_ms === prevStart && segs[segs.length - 1]!.regime !== 'isolated-short') segs[segs.length - 1] = { regime: c.regime, start_ms };
  else segs.push({ regime: c.regime, start_ms });
}
export function watchRange(
  s: DetectorState,
  w: RangeWatch,
  range: { readonly min: number; readonly max: number } | undefined,
  value: number | undefined,
  t: number,
  o: DetectorOptions,
  emit: Emit,
  code: AlertCode,
  what: string,
  unit: string,
): void {
  if (range === undefined || value === undefined) return;
  const margin = 0.02 * (range.max - range.min);
  const out = value < range.min || value > range.max;
  const inside = value >= range.min + margin && value <= range.max - margin;
  const sustain_ms = o.rangeSustain_s * 1000;
  const n = o.regime.minSustainSamples;
  if (!w.raised) {
    w.out = advanceRun(w.out, out, t, value, o.regime.graceSamples);
    if (isSustained(w.out, sustain_ms, n)) {
      w.raised = true;
      w.out = null;
      alert(s, emit, t, 'warning', code, `${what} ${value} ${unit} outside ${range.min}–${range.max} ${unit}`);
    }
  } else {
    w.back = advanceRun(w.back, inside, t, value, o.regime.graceSamples);
    if (isSustained(w.back, sustain_ms, n)) {
      w.raised = false;
      w.back = null;
      alert(s, emit, t, 'info', code, `${what} back within ${range.min}–${range.max} ${unit} (${value} ${unit})`, 'cleared');
    }
  }
}
