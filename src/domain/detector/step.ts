/**
 * The per-sample step: one sample in, the state updated in place, the derived values out. It runs millions of times
 * per run and allocates nothing on the common path.
 */
import type { CellConfig } from '../cell.js';
import { contactFraction, localCurrentDensity_mA_cm2 } from '../physics.js';
import { calibrate, chunkFull, closeChunk } from '../reference.js';
import { initialRegimeState, observe, type Observation, type RegimeChange } from '../regime.js';
import { observeSoftShort } from '../softShort.js';
import { median3, pushDecimated } from '../stats.js';
import { advanceRun, isSustained } from '../sustain.js';
import { observeActive, observeRest, reversedLeadsUnconfirmed } from '../symmetry.js';
import { cellTemperature, temperatureFactor, thermalBounds, updateThermalBounds } from '../thermal.js';
import type { AlignedSample } from '../sample.js';
import type { DetectorOptions, StepResult, DetectorState, DerivedState, Emit } from './state.js';
import {
  dataGap,
  declareNotSymmetric,
  complianceReached,
  checkTMax,
  softShortChanged,
  applyChanges,
  watchRange,
  noiseWindowClosed,
  closeNoiseOf,
} from './alerts.js';
import { noiseState, outsideNoiseWindow, rollNoiseWindow } from '../noise.js';
import { PRESSURE_HISTORY_H } from './alerts.js';
import { settleAgain, breakable, endBreak, interrupt, noisyPlateau, filteredAbsV, openHalfCycle, closeHalfCycle } from './halfCycles.js';
import { observeThermal, tryCalibrate } from './calibration.js';

/**
 * Working space of the per-sample step, reused from one sample to the next by its caller (one per cell chain):
 * regime changes are rare and consumed at once, and an array and an observation per sample are not. Not state:
 * nothing in it outlives the call, so it is not checkpointed.
 */
export interface StepScratch {
  readonly changes: RegimeChange[];
  readonly obs: Observation;
}

export function stepScratch(): StepScratch {
  return {
    changes: [],
    obs: { t_ms: 0, trend: false, ratio: NaN, smoothRatio: NaN, noisy: false, thermalHigh: 1, collapsed: false, smoothR25_ohm: NaN, level_ohm: NaN },
  };
}
/**
 * Feed one aligned sample. Samples must come in event-time order (the operators guarantee it).
 * Returns what the detector made of it, or null when it was not accepted (not after the previous one).
 */
export function stepDetector(
  s: DetectorState,
  cell: CellConfig,
  o: DetectorOptions,
  x: AlignedSample,
  emit: Emit,
  scratch: StepScratch = stepScratch(),
): StepResult | null {
  const t = x.t_ms;
  const clock = s.clock;
  let dt = 0;
  if (clock.samples === 0) {
    clock.first_ms = t;
    s.regime = initialRegimeState(t, s.regime.regime);
    s.segments.push({ regime: s.regime.regime, start_ms: t });
  } else {
    if (!(t > clock.last_ms)) return null;
    dt = t - clock.last_ms;
    const rhythm = clock.rhythm_ms;
    const limit = o.gapRhythmFactor * rhythm;
    const longest = clock.longest_ms;
    if (!s.rest.resting) {
      // The cadence is learned first; a flagged interval is then learned too, so a logger that slows down is said once.
      if (clock.samples >= 20 && dt > o.dataGap_s * 1000 && dt > o.gapRhythmFactor * longest) dataGap(s, cell, t, dt, rhythm, emit);
      clock.longest_ms = longest !== longest || dt > longest ? dt : longest - (longest * dt) / (o.intervalHalfLife_h * 3.6e6 * 1.4427);
    }
    // Fast up, slow down: record-on-change rows come in bursts, the rhythm is their slow envelope. A gap moves
    // it only as far as the limit, so a logger that switches to a slower interval is learned in a few rows.
    clock.rhythm_ms = rhythm !== rhythm ? dt : rhythm + (Math.min(dt, limit) - rhythm) * (dt > rhythm ? 0.25 : 0.02);
    if (dt > o.gap_s * 1000 && dt > limit) {
      clock.gaps++;
      clock.gapTime_ms += dt;
      endBreak(s, cell, o, emit);
      interrupt(s, cell, o, emit);
      dt = 0; // nothing is known of the gap: it counts as neither active nor rest time
    }
  }
  clock.samples++;
  clock.last_ms = t;

  watchRange(s, s.ranges.pressure, cell.pressureMPa, x.pressure_MPa, t, o, emit, 'pressure-range', 'Pressure', 'MPa');
  const p_MPa = x.pressure_MPa;
  if (p_MPa !== undefined) {
    const stack = (s.stack ??= { last_MPa: NaN, hourly_MPa: [], hourly_ms: -Infinity });
    stack.last_MPa = p_MPa;
    if (t - stack.hourly_ms >= 3.6e6) hourlyPressure(stack, t, p_MPa);
  }
  watchRange(s, s.ranges.temperature, cell.temperatureC, x.temperature_C, t, o, emit, 'temperature-range', 'Temperature', '°C');
  const measured = s.thermalFit?.inUse;
  const lag_min = measured?.lag_min ?? cell.thermalLag_min;
  const ea_eV = measured?.ea_eV ?? cell.activationEnergyEv;
  const temperature_C = cellTemperature(s.thermal, t, x.temperature_C, lag_min, cell.nominalTemperatureC);
  const factor = temperatureFactor(s.thermal, temperature_C, ea_eV);
  const bounds = updateThermalBounds(
    (s.thermalBounds ??= thermalBounds()),
    t,
    x.temperature_C,
    Math.max(o.slowThermalLag_min, 2 * cell.thermalLag_min),
    cell.nominalTemperatureC,
    cell.activationEnergyEv,
    o.activationEnergySpread_eV,
    factor,
  );

  const I = x.current_mA;
  const absI = I < 0 ? -I : I;
  const V = x.voltage_V;
  const absV = V < 0 ? -V : V;
  const jSet = I / cell.areaCm2;
  const rest = s.rest;
  let active = absI > 1e-9 && absI > o.restFraction * rest.lastActiveAbsI_mA;
  if (!active && absI > 1e-9) {
    // Below the threshold: a rest (OCV, a few µA of offset, an impedance measurement's oscillation), unless the
    // current holds one sign and level for `adoptLow_s` and 3 rows: a step down, the new active level.
    const sign = I > 0 ? 1 : -1;
    const low = rest.low;
    if (low != null && low.sign === sign && Math.abs(absI - low.absI_mA) <= 0.2 * low.absI_mA) low.rows++;
    else rest.low = { sign, absI_mA: absI, since_ms: t, rows: 1 };
    if (rest.low!.rows >= 3 && t - rest.low!.since_ms >= o.adoptLow_s * 1000) active = true;
  }
  if (active) rest.low = null;
  if (!active) {
    if (!rest.resting) {
      // A rest ends the noise window: what follows it is another stretch of current.
      if (s.halfCycle !== null) closeNoiseOf(s, cell, o, s.halfCycle, temperature_C, emit);
      if (breakable(s, cell, o)) {
        rest.suspended = s.halfCycle;
        s.halfCycle = null;
      }
      interrupt(s, cell, o, emit);
      rest.resting = true;
    } else if (rest.suspended != null && t - rest.suspended.last_ms > o.breakMax_s * 1000) endBreak(s, cell, o, emit);
    rest.rest_ms += dt;
    if (x.temperature_C !== undefined && s.regime.regime === 'stable') observeThermal(s, cell, o, t, x.temperature_C, NaN, emit);
    const verdict = observeRest(s.symmetry, t, V, o.symmetry);
    if (verdict !== null) declareNotSymmetric(s, t, verdict, emit);
    return setLast(s, t, NaN, NaN, jSet, false, false);
  }
  rest.resting = false;
  rest.lastActiveAbsI_mA = absI;
  s.symmetry.restStart_ms = NaN;
  const sign = I > 0 ? 1 : -1;
  const suspended = rest.suspended;
  if (suspended != null) {
    if (
      suspended.sign === sign &&
      t - suspended.last_ms <= o.breakMax_s * 1000 &&
      Math.abs(absI - suspended.prevAbsI_mA) <= o.currentStepFraction * suspended.prevAbsI_mA
    ) {
      // The same polarity and current after a break: the half cycle resumes, with a transient to settle again.
      rest.suspended = null;
      suspended.paused_ms = (suspended.paused_ms ?? 0) + (t - suspended.last_ms);
      suspended.last_ms = t;
      settleAgain(suspended, t, o);
      s.halfCycle = suspended;
    } else endBreak(s, cell, o, emit);
  }
  let hc = s.halfCycle;
  if (hc !== null && hc.sign !== sign) {
    closeHalfCycle(s, cell, o, emit, t);
    hc = null;
  }
  if (hc === null) hc = openHalfCycle(s, sign, t, o);
  else {
    hc.charge_mA_ms += hc.prevAbsI_mA * (t - hc.last_ms);
    if (Math.abs(absI - hc.prevAbsI_mA) > o.currentStepFraction * hc.prevAbsI_mA) {
      // A current step (a rate step, a range switch).
      settleAgain(hc, t, o);
    }
  }
  hc.prevAbsI_mA = absI;
  hc.last_ms = t;
  hc.sumAbsI_mA += absI;
  hc.n++;
  const settling = t < hc.settleUntil_ms || hc.n <= (hc.settleThroughN ?? 0);
  if (settling) hc.peakAbsVSettling = Math.max(hc.peakAbsVSettling ?? 0, absV);
  else {
    hc.peakAbsV = Math.max(hc.peakAbsV, filteredAbsV(hc, absV));
    hc.sumSettledAbsV = (hc.sumSettledAbsV ?? 0) + absV;
    hc.nSettled = (hc.nSettled ?? 0) + 1;
    const noise = (s.noise ??= noiseState());
    if (outsideNoiseWindow(noise, t, hc.index)) {
      const window = rollNoiseWindow(noise, t, hc, absI, temperature_C, o.noise);
      if (window !== null) noiseWindowClosed(s, cell, o, window, emit);
    }
  }
  hc.lastAbsV = absV;

  const atCompliance = absV >= o.complianceFraction * cell.complianceV;
  if (atCompliance || hc.atLimit !== null) {
    hc.atLimit = advanceRun(hc.atLimit, atCompliance, t, absV, 0);
    if (isSustained(hc.atLimit, o.regime.polarizationSustain_s * 1000, o.regime.minSustainSamples)) complianceReached(s, t, emit, cell);
  }
  if (t - hc.start_ms - (hc.paused_ms ?? 0) > hc.tMaxCheckAfter_ms) checkTMax(s, hc, cell, t, emit);

  // The offset read high on positive currents (low on negative ones) is the cell's voltage only without it.
  const offset_V = s.offset?.offset_V ?? 0;
  const rApp = ((offset_V === 0 ? absV : Math.abs(absV - sign * offset_V)) / absI) * 1000;
  const r25 = rApp * factor;
  if (settling || s.regime.regime === 'not-symmetric') return setLast(s, t, rApp, rRefAt(s, factor), jSet, atCompliance, s.regime.regime === 'short');
  const verdict = observeActive(s.symmetry, V, I, o.symmetry);
  if (verdict !== null) {
    declareNotSymmetric(s, t, verdict, emit);
    return setLast(s, t, rApp, NaN, jSet, atCompliance, false);
  }
  // A voltage against the current is a symmetric cell with its leads reversed only once a reversal shows V following
  // I; until then it may be a half cell discharging (a positive EMF falling to 0 V reads as a short): no calls.
  if (reversedLeadsUnconfirmed(s.symmetry, o.symmetry)) return setLast(s, t, rApp, rRefAt(s, factor), jSet, atCompliance, false);

  const ref = s.reference;
  const changes = scratch.changes;
  if (changes.length !== 0) changes.length = 0;
  const judging = ref.source === 'calibrated' || ref.source === 'configured';
  const ratio = judging ? r25 / ref.r25_ohm! : NaN;
  const level = s.level;
  const sm = s.smooth;
  // A collapse is sudden (a dendrite bridges the pellet between two samples); an EMF that sweeps through 0 V is not.
  const collapsed =
    absV < o.shortAbs_V &&
    r25 < o.shortLevelFraction * level.r25_ohm &&
    (s.regime.low !== null || s.regime.regime === 'short' || sm.prevR25_ohm >= 0.5 * level.r25_ohm);
  // A single-sample spike would otherwise spread over the smoothing window and look sustained.
  const despiked = sm.prev2R25_ohm === sm.prev2R25_ohm ? median3(sm.prev2R25_ohm, sm.prevR25_ohm, r25) : r25;
  sm.prev2R25_ohm = sm.prevR25_ohm;
  sm.prevR25_ohm = r25;
  if (sm.r25_ohm !== sm.r25_ohm) {
    sm.r25_ohm = despiked;
    sm.since_ms = t;
  } else {
    // The mean of what came so far until the smoothing spans its time constant: the first sample is not given the
    // weight of a whole time constant (a noisy first row would colour the next minute).
    const span_ms = Math.min(o.smoothTau_s * 1000, t - (sm.since_ms ?? -Infinity));
    sm.r25_ohm += ((despiked - sm.r25_ohm) * (t - sm.t_ms)) / (span_ms + (t - sm.t_ms));
  }
  sm.t_ms = t;
  const obs = scratch.obs;
  obs.t_ms = t;
  obs.ratio = ratio;
  obs.smoothRatio = judging ? sm.r25_ohm / ref.r25_ohm! : NaN;
  const th = o.regime;
  obs.trend = clock.rhythm_ms >= th.polarizationSustain_s * 1000 && hc.r1 >= 0.8 * th.polarizationRatio && ratio <= 1.3 * hc.r1;
  obs.collapsed = collapsed;
  obs.noisy = noisyPlateau(s, hc, absI, o);
  obs.thermalHigh = bounds.high;
  obs.smoothR25_ohm = sm.r25_ohm;
  obs.level_ohm = level.r25_ohm;
  s.regime = observe(s.regime, obs, o.regime, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
  const shorted = s.regime.regime === 'short';
  // Calibration measures the healthy cell: a short (or the run that may become one) is no reference.
  if (ref.calibrated25_ohm === null && !shorted && s.regime.low === null) {
    calibrate(ref.calibration, r25, dt);
    if (chunkFull(ref.calibration, o.calibration)) {
      closeChunk(ref.calibration, o.calibration);
      tryCalibrate(s, cell, o, t, emit);
    }
  }

  const soft = s.softShort;
  if (judging) {
    // At the highest the temperature allows: a chamber step read with the wrong lag is no leak.
    const change = observeSoftShort(soft, t, ratio * bounds.high, shorted, o.softShort);
    if (change !== null) softShortChanged(s, cell, change, t, ratio, emit);
  }
  // The running level is the cell's healthy R_app: frozen while it looks shorted or leaky.
  if (!collapsed && !shorted && soft.run === null && soft.onset_ms !== soft.onset_ms && !(ratio < o.regime.shortRatio)) {
    const prev = level.r25_ohm;
    if (prev !== prev) level.r25_ohm = r25;
    else {
      const step = t - level.t_ms;
      level.r25_ohm = prev + ((r25 - prev) * step) / (o.levelTau_s * 1000 + step);
    }
    level.t_ms = t;
  }

  if (judging && !shorted) {
    hc.judged++;
    hc.sumRatio = (hc.sumRatio ?? 0) + ratio;
    if (hc.judged >= 3) {
      const filtered = median3(hc.r2, hc.r1, ratio);
      if (filtered > hc.peakRatio) hc.peakRatio = filtered;
      // Relative to the level (a polarizing ratio grows tenfold in a half cycle), each capped at 4× the mean so far:
      // a kink (the compliance clip, a short's collapse) is no noise.
      const d2 = Math.abs(ratio - 2 * hc.r1 + hc.r2) / hc.r1;
      const n = hc.noiseN ?? 0;
      const cap = n >= 10 ? (4 * hc.noiseAbs!) / n : Infinity;
      if (d2 === d2) {
        hc.noiseAbs = (hc.noiseAbs ?? 0) + Math.min(d2, cap);
        hc.noiseN = n + 1;
      }
    }
    // Once the smoothing spans half its time constant: before, it is the mean of a few noisy rows.
    const warm = t - (sm.since_ms ?? -Infinity) >= 500 * o.smoothTau_s;
    if (warm && !(obs.smoothRatio <= (hc.peakSmoothRatio ?? -Infinity))) hc.peakSmoothRatio = obs.smoothRatio;
    if (warm && !(obs.smoothRatio >= (hc.lowSmoothRatio ?? Infinity))) hc.lowSmoothRatio = obs.smoothRatio;
    if (!(temperature_C >= (hc.temperatureMin_C ?? Infinity))) hc.temperatureMin_C = temperature_C;
    if (!(temperature_C <= (hc.temperatureMax_C ?? -Infinity))) hc.temperatureMax_C = temperature_C;
    if (x.temperature_C !== undefined && s.regime.regime === 'stable') observeThermal(s, cell, o, t, x.temperature_C, rApp, emit);
    hc.r2 = hc.r1;
    hc.r1 = ratio;
    hc.t2 = hc.t1;
    hc.t1 = t;
    pushDecimated(hc.absV, absV);
  }
  return setLast(s, t, rApp, rRefAt(s, factor), jSet, atCompliance, shorted);
}
/** R_ref at the cell's temperature from whatever reference exists (provisional included), NaN without one. */
export function rRefAt(s: DetectorState, factor: number): number {
  const r = s.reference.r25_ohm ?? s.reference.theoretical25_ohm;
  return r === null ? NaN : r / factor;
}
export function setLast(
  s: DetectorState,
  t_ms: number,
  rApp_ohm: number,
  rRef_ohm: number,
  jSet_mA_cm2: number,
  atCompliance: boolean,
  shorted: boolean,
): StepResult {
  const l = s.last;
  l.t_ms = t_ms;
  l.rApp_ohm = rApp_ohm;
  l.rRef_ohm = rRef_ohm;
  l.jSet_mA_cm2 = jSet_mA_cm2;
  l.atCompliance = atCompliance;
  l.shorted = shorted;
  return l;
}
/** One stack pressure an hour over the last two days (pressure-contact, alerts.ts). */
function hourlyPressure(stack: NonNullable<DetectorState['stack']>, t: number, p_MPa: number): void {
  stack.hourly_ms = t;
  stack.hourly_MPa.push(p_MPa);
  if (stack.hourly_MPa.length > PRESSURE_HISTORY_H + 1) stack.hourly_MPa.shift();
}
export const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
/** The derived series (SPEC §5) from a step's result, built on demand: offline analysis never asks. */
export function derivedState(s: DetectorState, cell: CellConfig, r: StepResult = s.last): DerivedState {
  const rApp = orNull(r.rApp_ohm);
  const rRef = orNull(r.rRef_ohm);
  const ratio = rApp !== null && rRef !== null ? rApp / rRef : null;
  // Through a short the current bypasses the contact: Eq. 2 says nothing about the area then.
  const fraction = ratio === null || r.shorted ? null : contactFraction(rApp!, rRef!);
  return {
    t_ms: r.t_ms,
    regime: s.regime.regime,
    halfCycleIndex: s.halfCycle?.index ?? s.halfCycles - 1,
    resting: s.rest.resting,
    rApp_ohm: rApp,
    rRef_ohm: rRef,
    rRefSource: s.reference.source,
    ratio,
    contactFraction: fraction,
    aEff_cm2: fraction === null ? null : fraction * cell.areaCm2,
    jSet_mA_cm2: r.jSet_mA_cm2,
    jLocal_mA_cm2: fraction === null ? null : localCurrentDensity_mA_cm2(Math.abs(r.jSet_mA_cm2), fraction),
    atCompliance: r.atCompliance,
    forecast_h: s.foresight?.forecast == null ? null : (s.foresight.forecast.at_ms - r.t_ms) / 3.6e6,
  };
}
