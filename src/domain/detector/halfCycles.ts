/**
 * Half-cycle accounting: a half cycle opened at a reversal, suspended by a break and resumed, closed with its charge,
 * peak voltage and plateau, and judged at its end (Eq. 1, cut by compliance, extrapolated crossings).
 */
import type { CellConfig } from '../cell.js';
import type { HalfCycleEvent } from '../events.js';
import { contactFraction, localCurrentDensity_mA_cm2, metalThickness_um, tMax_s } from '../physics.js';
import { FORECAST_DEFAULTS, forecastCompliance } from '../forecast.js';
import { closeChunk } from '../reference.js';
import { observeExtrapolatedCrossing, observeHalfCycleEnd, resetRuns, type RegimeChange } from '../regime.js';
import { resetSoftShortRuns } from '../softShort.js';
import { decimatedSeries, quantile } from '../stats.js';
import { isSustained } from '../sustain.js';
import { observeHalfCycleSigns } from '../symmetry.js';
import type { DetectorOptions, HalfCycleAcc, DetectorState, Emit } from './state.js';
import { alert, declareNotSymmetric, complianceReached, applyChanges, closeNoiseOf } from './alerts.js';
import { observeOffsetAndReference, followInterface, tryCalibrate } from './calibration.js';

/** The instrument's transient again (a current step, a resumed break): not judged, a new plateau for the spike filter. */
export function settleAgain(hc: HalfCycleAcc, t: number, o: DetectorOptions): void {
  hc.settleUntil_ms = t + o.settle_s * 1000;
  hc.settleThroughN = hc.n + o.settleRows;
  hc.absV1 = NaN;
  hc.absV2 = NaN;
}
/**
 * A rest that may be a break: the open half cycle stopped before the protocol's full length at its level (known from
 * an earlier half cycle; the first is never suspended) and has not been resumed across a break before.
 */
export function breakable(s: DetectorState, cell: CellConfig, o: DetectorOptions): boolean {
  const hc = s.halfCycle;
  if (hc === null || o.breakMax_s <= 0 || hc.n === 0 || (hc.paused_ms ?? 0) > 0) return false;
  const p = s.protocol;
  const j = hc.sumAbsI_mA / hc.n / cell.areaCm2;
  return p.fullDuration_ms > 0 && j > 0.9 * p.level_mA_cm2 && j < 1.1 * p.level_mA_cm2 && hc.last_ms - hc.start_ms < 0.97 * p.fullDuration_ms;
}
/** The break is over without the half cycle resuming (too long, a gap, the other polarity, the end): it ends where it stopped. */
export function endBreak(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): void {
  const suspended = s.rest.suspended;
  if (suspended == null) return;
  s.rest.suspended = null;
  const open = s.halfCycle;
  s.halfCycle = suspended;
  closeHalfCycle(s, cell, o, emit);
  s.halfCycle = open;
}
/** A rest or a gap: the half cycle ends and no evidence may span it. */
export function interrupt(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): void {
  closeHalfCycle(s, cell, o, emit);
  s.smooth.r25_ohm = NaN;
  s.smooth.prev2R25_ohm = NaN;
  s.regime = resetRuns(s.regime);
  resetSoftShortRuns(s.softShort);
}
/** The ratio's relative noise per row in a half cycle (second differences: a trend is no noise); NaN before 10 rows. */
export function ratioNoise(hc: HalfCycleAcc): number {
  if (hc.noiseN === undefined || hc.noiseN < 10) return NaN;
  // Mean |second difference| of white noise σ: √(2/π)·√6·σ ≈ 1.954 σ.
  return hc.noiseAbs! / hc.noiseN / 1.954;
}
/**
 * Whether the plateau is too noisy for single rows to decide a short: this half cycle's noise once it has 100 rows,
 * before that the last half cycle's at the same current.
 */
export function noisyPlateau(s: DetectorState, hc: HalfCycleAcc, absI: number, o: DetectorOptions): boolean {
  if ((hc.noiseN ?? 0) >= 100) return ratioNoise(hc) > o.noisyShort;
  const last = s.plateauNoise;
  return last != null && Math.abs(absI - last.absI_mA) <= 0.2 * last.absI_mA && last.relative > o.noisyShort;
}
/**
 * |V| through a causal median of 3: one sample far above its neighbours (a 28 V glitch on an 8 V channel) is
 * dropped, a level held for two samples counts. The first two samples of a half cycle count as they are.
 */
export function filteredAbsV(hc: HalfCycleAcc, absV: number): number {
  const a = hc.absV1 ?? NaN;
  const b = hc.absV2 ?? NaN;
  hc.absV2 = a;
  hc.absV1 = absV;
  if (Number.isNaN(b)) return Number.isNaN(a) ? absV : Math.min(a, absV);
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), absV));
}
export function openHalfCycle(s: DetectorState, sign: number, t: number, o: DetectorOptions): HalfCycleAcc {
  const hc: HalfCycleAcc = {
    index: s.halfCycles++,
    sign,
    start_ms: t,
    last_ms: t,
    settleUntil_ms: t + o.settle_s * 1000,
    settleThroughN: o.settleRows,
    sumAbsI_mA: 0,
    n: 0,
    charge_mA_ms: 0,
    prevAbsI_mA: 0,
    peakAbsV: 0,
    absV1: NaN,
    absV2: NaN,
    absV: decimatedSeries(),
    r1: NaN,
    r2: NaN,
    t1: NaN,
    t2: NaN,
    peakRatio: -Infinity,
    judged: 0,
    lastAbsV: 0,
    atLimit: null,
    tMaxCheckAfter_ms: 0,
    paused_ms: 0,
    sumSettledAbsV: 0,
    nSettled: 0,
    sumRatio: 0,
    // Present from the start (one object shape for every half cycle: the per-sample code stays monomorphic).
    peakSmoothRatio: undefined,
    lowSmoothRatio: undefined,
    temperatureMin_C: undefined,
    temperatureMax_C: undefined,
  };
  s.halfCycle = hc;
  s.smooth.r25_ohm = NaN;
  s.smooth.prev2R25_ohm = NaN;
  return hc;
}
/** `reversedAt_ms`: the first sample of the next half cycle, when the current reversed (its end is before it). */
export function closeHalfCycle(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit, reversedAt_ms = NaN): void {
  const hc = s.halfCycle;
  if (hc === null) return;
  s.halfCycle = null;
  closeNoiseOf(s, cell, o, hc, s.thermal.cell_C === s.thermal.cell_C ? s.thermal.cell_C : cell.nominalTemperatureC, emit);
  if (reversedAt_ms === reversedAt_ms) extrapolateToEnd(s, cell, o, hc, reversedAt_ms, emit);
  if (hc.judged > 0 && hc.judged < 3) hc.peakRatio = Math.max(hc.peakRatio, Math.min(hc.r1, Number.isNaN(hc.r2) ? hc.r1 : hc.r2));
  else if (hc.judged >= 3) hc.peakRatio = Math.max(hc.peakRatio, Math.min(hc.r1, hc.r2));
  // On a noisy plateau (a few mV against the instrument's noise: low current densities) the highest of the raw
  // ratios is the noise's extreme, not the cell's: the peak is then the smoothed ratio's.
  const noise = ratioNoise(hc);
  if (noise > o.noisyPlateau && hc.peakSmoothRatio !== undefined) hc.peakRatio = hc.peakSmoothRatio;
  if (noise === noise) s.plateauNoise = { absI_mA: hc.n > 0 ? hc.sumAbsI_mA / hc.n : 0, relative: noise };

  const meanAbsI = hc.n > 0 ? hc.sumAbsI_mA / hc.n : 0;
  const j = meanAbsI / cell.areaCm2;
  const paused_ms = hc.paused_ms ?? 0;
  const duration_ms = hc.last_ms - hc.start_ms - paused_ms;
  // Cut by compliance: it ended at the limit, before the protocol's own end (a half cycle that merely peaks
  // near the limit at its natural end is not cut).
  const p = s.protocol;
  if (!(j > 0.9 * p.level_mA_cm2 && j < 1.1 * p.level_mA_cm2)) {
    p.level_mA_cm2 = j;
    p.fullDuration_ms = 0;
  }
  const atLimit = hc.lastAbsV >= o.complianceFraction * cell.complianceV;
  const cut = atLimit && (p.fullDuration_ms === 0 || duration_ms < 0.97 * p.fullDuration_ms);
  // A half cycle resumed after a break may have been two (a rest that ended one, a fresh one of the same polarity):
  // it does not set the protocol's length.
  if (duration_ms > p.fullDuration_ms && paused_ms === 0) p.fullDuration_ms = duration_ms;
  if (cut) complianceReached(s, hc.last_ms, emit, cell);
  const bound = cut || (hc.atLimit !== null && isSustained(hc.atLimit, 0, 1));

  const charge_mAh_cm2 = hc.charge_mA_ms / 3.6e6 / cell.areaCm2;
  s.cumulativeCapacity_mAh_cm2 += charge_mAh_cm2;
  const judged = hc.judged > 0;
  const peakRatio = judged ? hc.peakRatio : null;
  const fractionMin = peakRatio === null ? null : contactFraction(peakRatio, 1);
  const jLocalPeak = fractionMin === null ? null : localCurrentDensity_mA_cm2(j, fractionMin);
  const f = s.failure;
  if (fractionMin !== null && (f.minContactFraction === null || fractionMin < f.minContactFraction)) {
    f.minContactFraction = fractionMin;
    f.minContactFractionIsBound = bound;
  }
  if (jLocalPeak !== null && (f.peakJLocal_mA_cm2 === null || jLocalPeak > f.peakJLocal_mA_cm2)) {
    f.peakJLocal_mA_cm2 = jLocalPeak;
    f.peakJLocalIsLowerBound = bound;
  }

  trackRamp(s, j);
  s.recentHalfCycles.push({ start_ms: hc.start_ms, end_ms: hc.last_ms, j_mA_cm2: j });
  if (s.recentHalfCycles.length > 8) s.recentHalfCycles.shift();

  const ref = s.reference;
  if ((hc.nSettled ?? 0) > 0) s.lastPlateau = { j_mA_cm2: j, plateau_V: hc.sumSettledAbsV! / hc.nSettled! };
  if (ref.calibrated25_ohm === null && ref.calibration.current.values.length > 0) {
    closeChunk(ref.calibration, o.calibration);
    tryCalibrate(s, cell, o, hc.last_ms, emit);
  }
  const verdict = observeHalfCycleSigns(s.symmetry, hc.sign, o.symmetry);
  if (verdict !== null) declareNotSymmetric(s, hc.last_ms, verdict, emit);
  else if (!f.polarityNoted && s.symmetry.polarityPos === -1 && s.symmetry.polarityNeg === -1) {
    f.polarityNoted = true;
    alert(s, emit, hc.last_ms, 'info', 'reversed-polarity', 'the voltage has the opposite sign of the current: leads reversed? |V|/|I| is used');
  }

  const tMax = cell.electrolyte === 'solid' && cell.metal !== undefined ? tMax_s(j, cell.metal) : null;
  const event: HalfCycleEvent = {
    type: 'half-cycle',
    cell: s.cell,
    index: hc.index,
    start_ms: hc.start_ms,
    end_ms: hc.last_ms,
    duration_s: duration_ms / 1000,
    current_mA: hc.sign * meanAbsI,
    currentDensity_mA_cm2: hc.sign * j,
    charge_mAh_cm2,
    metalThickness_um: cell.metal === undefined ? null : metalThickness_um(charge_mAh_cm2, cell.metal),
    cumulativeCapacity_mAh_cm2: s.cumulativeCapacity_mAh_cm2,
    plateauAbsVoltage_V: quantile(hc.absV.values, 0.1),
    peakAbsVoltage_V: hc.peakAbsV > 0 ? hc.peakAbsV : (hc.peakAbsVSettling ?? 0),
    rRatioPeak: peakRatio,
    contactFractionMin: fractionMin,
    jLocalPeak_mA_cm2: jLocalPeak,
    jLocalIsLowerBound: bound && judged,
    cutByCompliance: cut,
    tMax_s: tMax,
    voltageNoise_mV: noise === noise && (hc.nSettled ?? 0) > 0 ? ((noise * hc.sumSettledAbsV!) / hc.nSettled!) * 1000 : null,
    temperature_C: s.thermal.cell_C === s.thermal.cell_C ? s.thermal.cell_C : (cell.nominalTemperatureC ?? null),
  };
  emit(event);

  if (judged && !cut && !(noise > o.noisyPlateau) && s.regime.regime === 'stable' && (ref.source === 'calibrated' || ref.source === 'configured'))
    followInterface(s, cell, o, hc, emit);
  observeOffsetAndReference(s, cell, o, hc, j, cut, noise, emit);

  const changes: RegimeChange[] = [];
  s.regime = observeHalfCycleEnd(s.regime, { start_ms: hc.start_ms, peakRatio: hc.peakRatio, evaluated: judged }, hc.last_ms, o.regime, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
  foresee(s, cell, hc, { judged, cut, meanAbsI_mA: meanAbsI }, emit);
}

/**
 * The compliance forecast at a half cycle's end (domain/forecast.ts): while the cell polarizes, each judged uncut half
 * cycle's peak ratio is a point; a cut (the limit reached) or any other regime starts the points afresh.
 */
function foresee(s: DetectorState, cell: CellConfig, hc: HalfCycleAcc, h: { judged: boolean; cut: boolean; meanAbsI_mA: number }, emit: Emit): void {
  const f = (s.foresight ??= { points: [], forecast: null });
  if (s.regime.regime !== 'polarization' || h.cut) {
    f.points.length = 0;
    f.forecast = null;
    return;
  }
  // A half cycle too short to judge (the record's last sample, a pause) leaves the forecast standing.
  if (!h.judged) return;
  f.points.push({ t_ms: hc.last_ms, q_mAh_cm2: s.cumulativeCapacity_mAh_cm2, ratio: hc.peakRatio });
  if (f.points.length > FORECAST_DEFAULTS.window) f.points.shift();
  // The voltage at full contact for this current and temperature: the limit as a ratio.
  const full_V = (h.meanAbsI_mA / 1000) * s.last.rRef_ohm;
  const forecast = full_V > 0 ? forecastCompliance(f.points, cell.complianceV / full_V) : null;
  f.forecast = forecast === null ? null : { t_ms: hc.last_ms, at_ms: forecast.at_ms, low_ms: forecast.low_ms, high_ms: forecast.high_ms };
  if (forecast !== null) emit({ type: 'forecast', cell: s.cell, t_ms: hc.last_ms, target: 'compliance', ...forecast });
}
/**
 * With sparse rows (600 s logging) the last row of a half cycle can be up to one interval before its end, where
 * polarization peaks: extrapolate the rising ratio of its last two rows to the end (at most one interval on).
 */
export function extrapolateToEnd(s: DetectorState, cell: CellConfig, o: DetectorOptions, hc: HalfCycleAcc, reversedAt_ms: number, emit: Emit): void {
  const th = o.regime.polarizationRatio;
  const rhythm = s.clock.rhythm_ms;
  if (s.regime.regime !== 'stable' || !(rhythm >= o.regime.polarizationSustain_s * 1000)) return;
  if (!(hc.r1 > hc.r2 && hc.r1 >= 0.8 * th && hc.r1 < th && hc.r1 <= 1.3 * hc.r2)) return;
  const slope = (hc.r1 - hc.r2) / (hc.t1 - hc.t2);
  const end_ms = Math.min(reversedAt_ms, hc.t1 + rhythm);
  if (hc.r1 + slope * (end_ms - hc.t1) <= th) return;
  const changes: RegimeChange[] = [];
  s.regime = observeExtrapolatedCrossing(s.regime, Math.round(hc.t1 + (th - hc.r1) / slope), reversedAt_ms, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
}
/** A CCD ramp steps the current up and holds each level: a step counts once a level repeats. */
export function trackRamp(s: DetectorState, j: number): void {
  if (!(j > 0)) return;
  const r = s.ramp;
  const same = j > 0.95 * r.candidate_mA_cm2 && j < 1.05 * r.candidate_mA_cm2;
  r.candidate_mA_cm2 = j;
  if (!same) return;
  if (r.confirmed_mA_cm2 > 0 && j > 1.2 * r.confirmed_mA_cm2) r.steps++;
  else if (j < 0.8 * r.confirmed_mA_cm2) r.steps = 0;
  r.confirmed_mA_cm2 = j;
}
