/**
 * Per-cell online detector: rest and half-cycle accounting, R_ref (configured or learned), temperature
 * compensation, Eq. 2 quantities, the regime state machine and the alerts it raises.
 *
 * The state is one plain JSON-serialisable object per cell, so it can be checkpointed and restored.
 * `stepDetector` updates it in place: it runs once per sample, millions of times per run, and copying the
 * accumulators on every sample would dominate the cost. The regime machine inside it is immutable.
 */
import type { CellConfig } from './cell.js';
import type { AlertCode, AlertEvent, CellEvent, HalfCycleEvent, Severity } from './events.js';
import { apparentResistance_ohm, conductivityFactor, metalThickness_um, referenceResistance_ohm, tMax_s } from './physics.js';
import {
  DEFAULT_REGIME_THRESHOLDS,
  initialRegimeState,
  observeHalfCycleEnd,
  observeRatio,
  resetRuns,
  type Regime,
  type RegimeChange,
  type RegimeLabel,
  type RegimeState,
  type RegimeThresholds,
} from './regime.js';
import { decimatedSeries, median3, pushDecimated, quantile, type DecimatedSeries } from './stats.js';
import { advanceRun, isSustained, type Run } from './sustain.js';
import type { AlignedSample } from './sample.js';
import { iso } from './sample.js';

export interface DetectorOptions {
  readonly regime: RegimeThresholds;
  /** |I| below this fraction of the last active current is a rest. */
  readonly restFraction: number;
  /** Seconds after a half cycle starts during which R_app is not judged (double-layer transients). */
  readonly settle_s: number;
  /** A gap in the data longer than this ends the half cycle and resets partial evidence. */
  readonly gap_s: number;
  /** Half cycles used to learn R_ref when σ is not configured. */
  readonly learnHalfCycles: number;
  /** Runs that never reverse (one-way plating) learn R_ref from their first this many hours instead. */
  readonly learnMax_h: number;
  /** |V| at or above this fraction of the compliance voltage counts as at the limit. */
  readonly complianceFraction: number;
  readonly rangeSustain_s: number;
  /** Set-current increases needed before a run counts as a CCD ramp. */
  readonly rampMinSteps: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  regime: DEFAULT_REGIME_THRESHOLDS,
  restFraction: 0.05,
  settle_s: 10,
  gap_s: 300,
  learnHalfCycles: 6,
  learnMax_h: 6,
  complianceFraction: 0.98,
  rangeSustain_s: 60,
  rampMinSteps: 2,
};

interface HalfCycleAcc {
  index: number;
  sign: number;
  start_ms: number;
  last_ms: number;
  settleUntil_ms: number;
  sumAbsI_mA: number;
  n: number;
  charge_mA_ms: number;
  prevAbsI_mA: number;
  peakAbsV: number;
  absV: DecimatedSeries;
  /** Last two judged ratios (NaN before), for a causal median-of-3 spike filter. */
  r1: number;
  r2: number;
  peakRatio: number;
  judged: number;
  /** |V| of the last two samples: the cycler ends a half cycle right at the limit. */
  v1: number;
  v2: number;
  learnR25: DecimatedSeries | null;
  /** Age of the half cycle after which Eq. 1 is checked again. */
  tMaxCheckAfter_ms: number;
}

interface RangeWatch {
  out: Run | null;
  back: Run | null;
  raised: boolean;
}

export interface Segment {
  readonly regime: RegimeLabel;
  readonly start_ms: number;
}

export interface DetectorState {
  cell: string;
  samples: number;
  first_ms: number;
  last_ms: number;
  /** R_ref at 25 °C (Ω) and where it came from. */
  rRef25_ohm: number | null;
  rRefSource: 'configured' | 'learned' | 'learning';
  learned: number[];
  lastActiveAbsI_mA: number;
  resting: boolean;
  rest_ms: number;
  halfCycle: HalfCycleAcc | null;
  halfCycles: number;
  cumulativeCapacity_mAh_cm2: number;
  regime: RegimeState;
  /** Regime change points with isolated shorts relabelled: the labelled segments. */
  segments: Segment[];
  areaCm2: number;
  factorTemperature_C: number;
  factor: number;
  complianceArmed: boolean;
  polarizationArmed: boolean;
  capacityBeforeFailure_mAh_cm2: number | null;
  firstCompliance_ms: number | null;
  firstShort_ms: number | null;
  shortCount: number;
  isolatedShortCount: number;
  minContactFraction: number | null;
  peakJLocal_mA_cm2: number | null;
  peakJLocalIsLowerBound: boolean;
  tMaxAlertedLevels: number[];
  lastLevel_mA_cm2: number;
  rampSteps: number;
  recentHalfCycles: { start_ms: number; end_ms: number; j_mA_cm2: number }[];
  ccd_mA_cm2: number | null;
  pressure: RangeWatch;
  temperature: RangeWatch;
  /** Raw values of the last sample (NaN where not known), from which `derivedState` is built. */
  last: { t_ms: number; rApp_ohm: number; rRef_ohm: number; jSet_mA_cm2: number; atCompliance: boolean };
}

/** Per-sample derived series (SPEC §5). */
export interface DerivedState {
  readonly t_ms: number;
  readonly regime: Regime;
  readonly halfCycleIndex: number;
  readonly resting: boolean;
  readonly rApp_ohm: number | null;
  readonly rRef_ohm: number | null;
  readonly ratio: number | null;
  readonly contactFraction: number | null;
  readonly aEff_cm2: number | null;
  readonly jSet_mA_cm2: number;
  readonly jLocal_mA_cm2: number | null;
  readonly atCompliance: boolean;
}

export function createDetectorState(cell: CellConfig): DetectorState {
  const configured =
    cell.sigmaSPerCm !== undefined && cell.thicknessCm !== undefined ? referenceResistance_ohm(cell.thicknessCm, cell.sigmaSPerCm, cell.areaCm2) : null;
  return {
    cell: cell.id,
    samples: 0,
    first_ms: NaN,
    last_ms: NaN,
    rRef25_ohm: configured,
    rRefSource: configured === null ? 'learning' : 'configured',
    learned: [],
    lastActiveAbsI_mA: 0,
    resting: false,
    rest_ms: 0,
    halfCycle: null,
    halfCycles: 0,
    cumulativeCapacity_mAh_cm2: 0,
    regime: initialRegimeState(NaN),
    segments: [],
    areaCm2: cell.areaCm2,
    factorTemperature_C: NaN,
    factor: 1,
    complianceArmed: true,
    polarizationArmed: true,
    capacityBeforeFailure_mAh_cm2: null,
    firstCompliance_ms: null,
    firstShort_ms: null,
    shortCount: 0,
    isolatedShortCount: 0,
    minContactFraction: null,
    peakJLocal_mA_cm2: null,
    peakJLocalIsLowerBound: false,
    tMaxAlertedLevels: [],
    lastLevel_mA_cm2: 0,
    rampSteps: 0,
    recentHalfCycles: [],
    ccd_mA_cm2: null,
    pressure: { out: null, back: null, raised: false },
    temperature: { out: null, back: null, raised: false },
    last: { t_ms: NaN, rApp_ohm: NaN, rRef_ohm: NaN, jSet_mA_cm2: 0, atCompliance: false },
  };
}

type Emit = (event: CellEvent) => void;

/** Reused for the per-sample call: changes are rare and consumed at once, an array per sample is not. */
const SCRATCH_CHANGES: RegimeChange[] = [];

function alert(s: DetectorState, emit: Emit, t_ms: number, severity: Severity, code: AlertCode, message: string, state: 'raised' | 'cleared' = 'raised'): void {
  const e: AlertEvent = { type: 'alert', cell: s.cell, t_ms, severity, code, state, message };
  emit(e);
}

/** Feed one aligned sample. Samples must come in event-time order (the operators guarantee it). */
export function stepDetector(s: DetectorState, cell: CellConfig, o: DetectorOptions, x: AlignedSample, emit: Emit): void {
  const t = x.t_ms;
  const prev_ms = s.samples === 0 ? t : s.last_ms;
  if (s.samples === 0) {
    s.first_ms = t;
    s.regime = initialRegimeState(t);
    s.segments.push({ regime: 'stable', start_ms: t });
  } else if (!(t > s.last_ms)) {
    return;
  } else if (t - s.last_ms > o.gap_s * 1000) {
    closeHalfCycle(s, cell, o, emit);
    s.regime = resetRuns(s.regime);
  }
  s.samples++;
  s.last_ms = t;

  watchRange(s, s.pressure, cell.pressureMPa, x.pressure_MPa, t, o, emit, 'pressure-range', 'Pressure', 'MPa');
  watchRange(s, s.temperature, cell.temperatureC, x.temperature_C, t, o, emit, 'temperature-range', 'Temperature', '°C');

  const I = x.current_mA;
  const absI = I < 0 ? -I : I;
  const V = x.voltage_V;
  const absV = V < 0 ? -V : V;
  const jSet = I / cell.areaCm2;
  const active = absI > 1e-9 && absI > o.restFraction * s.lastActiveAbsI_mA;
  if (!active) {
    if (!s.resting) {
      closeHalfCycle(s, cell, o, emit);
      s.regime = resetRuns(s.regime);
      s.resting = true;
    }
    s.rest_ms += t - prev_ms;
    setLast(s, t, NaN, NaN, jSet, false);
    return;
  }
  s.resting = false;
  s.lastActiveAbsI_mA = absI;
  const sign = I > 0 ? 1 : -1;
  let hc = s.halfCycle;
  if (hc !== null && hc.sign !== sign) {
    closeHalfCycle(s, cell, o, emit);
    hc = null;
  }
  if (hc === null) hc = openHalfCycle(s, sign, t, o);
  else hc.charge_mA_ms += hc.prevAbsI_mA * (t - hc.last_ms);
  hc.prevAbsI_mA = absI;
  hc.last_ms = t;
  hc.sumAbsI_mA += absI;
  hc.n++;
  if (absV > hc.peakAbsV) hc.peakAbsV = absV;
  hc.v2 = hc.v1;
  hc.v1 = absV;

  const complianceV = o.complianceFraction * cell.complianceV;
  const atCompliance = absV >= complianceV;
  if (atCompliance && hc.v2 >= complianceV) complianceReached(s, t, emit, cell);

  // Eq. 1 needs the half cycle's mean current, which moves little: re-evaluated at most once a minute, and
  // exactly when the half cycle reaches the last computed t_max, so it costs nothing on most samples.
  if (t - hc.start_ms > hc.tMaxCheckAfter_ms) {
    const limit_s = tMax_s(hc.sumAbsI_mA / hc.n / cell.areaCm2, cell.metal);
    if (t - hc.start_ms > limit_s * 1000) {
      tMaxExceeded(s, hc, cell, t, limit_s, emit);
      hc.tMaxCheckAfter_ms = Infinity;
    } else hc.tMaxCheckAfter_ms = Math.min(limit_s * 1000, t - hc.start_ms + 60_000);
  }

  const tempFactor = x.temperature_C === undefined ? 1 : temperatureFactor(s, x.temperature_C, cell.activationEnergyEv);
  const rApp = apparentResistance_ohm(V, I);
  if (t < hc.settleUntil_ms) {
    setLast(s, t, rApp, NaN, jSet, atCompliance);
    return;
  }
  pushDecimated(hc.absV, absV);
  if (s.rRef25_ohm === null) {
    pushDecimated(hc.learnR25 ?? (hc.learnR25 = decimatedSeries()), rApp * tempFactor);
    if (t - hc.start_ms >= o.learnMax_h * 3.6e6) {
      learnReference(s, hc.learnR25!, o, true);
      hc.learnR25 = null;
    }
    setLast(s, t, rApp, NaN, jSet, atCompliance);
    return;
  }
  const rRef = s.rRef25_ohm / tempFactor;
  const ratio = rApp / rRef;
  hc.judged++;
  if (hc.judged >= 3) {
    const filtered = median3(hc.r2, hc.r1, ratio);
    if (filtered > hc.peakRatio) hc.peakRatio = filtered;
  }
  hc.r2 = hc.r1;
  hc.r1 = ratio;

  const changes = SCRATCH_CHANGES;
  changes.length = 0;
  s.regime = observeRatio(s.regime, t, ratio, o.regime, changes);
  if (changes.length > 0) applyChanges(s, changes, emit);
  setLast(s, t, rApp, rRef, jSet, atCompliance);
}

/** σ(T)/σ25, recomputed only when the temperature changes (it is carried forward between readings). */
function temperatureFactor(s: DetectorState, temperature_C: number, ea_eV: number): number {
  if (temperature_C !== s.factorTemperature_C) {
    s.factorTemperature_C = temperature_C;
    s.factor = conductivityFactor(temperature_C, ea_eV);
  }
  return s.factor;
}

function setLast(s: DetectorState, t_ms: number, rApp_ohm: number, rRef_ohm: number, jSet_mA_cm2: number, atCompliance: boolean): void {
  const l = s.last;
  l.t_ms = t_ms;
  l.rApp_ohm = rApp_ohm;
  l.rRef_ohm = rRef_ohm;
  l.jSet_mA_cm2 = jSet_mA_cm2;
  l.atCompliance = atCompliance;
}

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** The derived series (SPEC §5) as of the last sample, built on demand: offline analysis never asks. */
export function derivedState(s: DetectorState, cell: CellConfig): DerivedState {
  const { t_ms, rApp_ohm, rRef_ohm, jSet_mA_cm2: jSet, atCompliance } = s.last;
  const rApp = orNull(rApp_ohm);
  const rRef = orNull(rRef_ohm);
  const ratio = rApp !== null && rRef !== null ? rApp / rRef : null;
  const fraction = ratio === null ? null : 1 / ratio;
  return {
    t_ms,
    regime: s.regime.regime,
    halfCycleIndex: s.halfCycle?.index ?? s.halfCycles - 1,
    resting: s.resting,
    rApp_ohm: rApp,
    rRef_ohm: rRef,
    ratio,
    contactFraction: fraction,
    aEff_cm2: fraction === null ? null : fraction * cell.areaCm2,
    jSet_mA_cm2: jSet,
    jLocal_mA_cm2: ratio === null ? null : Math.abs(jSet) * ratio,
    atCompliance,
  };
}

function openHalfCycle(s: DetectorState, sign: number, t: number, o: DetectorOptions): HalfCycleAcc {
  const hc: HalfCycleAcc = {
    index: s.halfCycles++,
    sign,
    start_ms: t,
    last_ms: t,
    settleUntil_ms: t + o.settle_s * 1000,
    sumAbsI_mA: 0,
    n: 0,
    charge_mA_ms: 0,
    prevAbsI_mA: 0,
    peakAbsV: 0,
    absV: decimatedSeries(),
    r1: NaN,
    r2: NaN,
    peakRatio: -Infinity,
    judged: 0,
    v1: 0,
    v2: 0,
    learnR25: null,
    tMaxCheckAfter_ms: 0,
  };
  s.halfCycle = hc;
  return hc;
}

function closeHalfCycle(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): void {
  const hc = s.halfCycle;
  if (hc === null) return;
  s.halfCycle = null;
  if (hc.judged > 0 && hc.judged < 3) hc.peakRatio = Math.max(hc.peakRatio, Math.min(hc.r1, Number.isNaN(hc.r2) ? hc.r1 : hc.r2));
  else if (hc.judged >= 3) hc.peakRatio = Math.max(hc.peakRatio, Math.min(hc.r1, hc.r2));

  const complianceV = o.complianceFraction * cell.complianceV;
  const cut = hc.v1 >= complianceV || hc.v2 >= complianceV;
  if (cut) complianceReached(s, hc.last_ms, emit, cell);

  const meanAbsI = hc.n > 0 ? hc.sumAbsI_mA / hc.n : 0;
  const j = meanAbsI / cell.areaCm2;
  const charge_mAh_cm2 = hc.charge_mA_ms / 3.6e6 / cell.areaCm2;
  s.cumulativeCapacity_mAh_cm2 += charge_mAh_cm2;
  const judged = hc.judged > 0;
  const peakRatio = judged ? hc.peakRatio : null;
  const fractionMin = peakRatio === null ? null : 1 / peakRatio;
  const jLocalPeak = peakRatio === null ? null : j * peakRatio;
  if (fractionMin !== null && (s.minContactFraction === null || fractionMin < s.minContactFraction)) s.minContactFraction = fractionMin;
  if (jLocalPeak !== null && (s.peakJLocal_mA_cm2 === null || jLocalPeak > s.peakJLocal_mA_cm2)) {
    s.peakJLocal_mA_cm2 = jLocalPeak;
    s.peakJLocalIsLowerBound = cut;
  }

  trackRamp(s, j);
  s.recentHalfCycles.push({ start_ms: hc.start_ms, end_ms: hc.last_ms, j_mA_cm2: j });
  if (s.recentHalfCycles.length > 8) s.recentHalfCycles.shift();

  if (hc.learnR25 !== null && s.rRef25_ohm === null) learnReference(s, hc.learnR25, o);

  const event: HalfCycleEvent = {
    type: 'half-cycle',
    cell: s.cell,
    index: hc.index,
    start_ms: hc.start_ms,
    end_ms: hc.last_ms,
    duration_s: (hc.last_ms - hc.start_ms) / 1000,
    current_mA: hc.sign * meanAbsI,
    currentDensity_mA_cm2: hc.sign * j,
    charge_mAh_cm2,
    metalThickness_um: metalThickness_um(charge_mAh_cm2, cell.metal),
    cumulativeCapacity_mAh_cm2: s.cumulativeCapacity_mAh_cm2,
    plateauAbsVoltage_V: quantile(hc.absV.values, 0.1),
    peakAbsVoltage_V: hc.peakAbsV,
    rRatioPeak: peakRatio,
    contactFractionMin: fractionMin,
    jLocalPeak_mA_cm2: jLocalPeak,
    jLocalIsLowerBound: cut && judged,
    cutByCompliance: cut,
    tMax_s: tMax_s(j, cell.metal),
  };
  emit(event);

  const changes: RegimeChange[] = [];
  s.regime = observeHalfCycleEnd(s.regime, { start_ms: hc.start_ms, peakRatio: hc.peakRatio, evaluated: judged }, hc.last_ms, o.regime, changes);
  if (changes.length > 0) applyChanges(s, changes, emit);
}

/** R_ref learned from the first half cycles: the best contact they showed, ignoring shorted outliers. */
function learnReference(s: DetectorState, r25: DecimatedSeries, o: DetectorOptions, final = false): void {
  // Upper quartile: the settled resistance of the half cycle, past transients that read low at its start.
  const m = quantile(r25.values, 0.75);
  if (m === null || !(m > 0) || r25.values.length < o.regime.minSustainSamples) return;
  s.learned.push(m);
  if (s.learned.length < o.learnHalfCycles && !final) return;
  const typical = quantile(s.learned, 0.5)!;
  s.rRef25_ohm = Math.min(...s.learned.filter((r) => r >= 0.5 * typical));
  s.rRefSource = 'learned';
}

function trackRamp(s: DetectorState, j: number): void {
  if (j <= 0) return;
  if (s.lastLevel_mA_cm2 > 0 && j > 1.2 * s.lastLevel_mA_cm2) s.rampSteps++;
  s.lastLevel_mA_cm2 = j;
}

function complianceReached(s: DetectorState, t: number, emit: Emit, cell: CellConfig): void {
  if (s.firstCompliance_ms === null) {
    s.firstCompliance_ms = t;
    markFailure(s);
  }
  if (!s.complianceArmed) return;
  s.complianceArmed = false;
  alert(s, emit, t, 'critical', 'compliance', `|V| reached the ${cell.complianceV} V compliance limit: the cycler is cutting half cycles short`);
}

function tMaxExceeded(s: DetectorState, hc: HalfCycleAcc, cell: CellConfig, t: number, limit_s: number, emit: Emit): void {
  const level = Math.round((hc.sumAbsI_mA / hc.n / cell.areaCm2) * 10) / 10;
  if (s.tMaxAlertedLevels.includes(level)) return;
  s.tMaxAlertedLevels.push(level);
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
function currentDensityAt(s: DetectorState, t_ms: number): number | null {
  const past = s.recentHalfCycles.find((h) => h.start_ms <= t_ms && t_ms <= h.end_ms);
  if (past !== undefined) return past.j_mA_cm2;
  const hc = s.halfCycle;
  return hc !== null && hc.n > 0 ? hc.sumAbsI_mA / hc.n / s.areaCm2 : null;
}

/** Capacity before failure (paper, Table 2): what had been cycled when the cell first failed. */
function markFailure(s: DetectorState): void {
  if (s.capacityBeforeFailure_mAh_cm2 !== null) return;
  const open = s.halfCycle === null ? 0 : s.halfCycle.charge_mA_ms / 3.6e6 / s.areaCm2;
  s.capacityBeforeFailure_mAh_cm2 = s.cumulativeCapacity_mAh_cm2 + open;
}

function applyChanges(s: DetectorState, changes: readonly RegimeChange[], emit: Emit): void {
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
        if (s.polarizationArmed) {
          s.polarizationArmed = false;
          alert(
            s,
            emit,
            t,
            'warning',
            'polarization-onset',
            `R_app/R_ref above the polarization threshold since ${iso(c.onset_ms)}: contact loss at the stripping electrode`,
          );
        }
        break;
      case 'short':
        s.shortCount++;
        if (s.firstShort_ms === null) {
          s.firstShort_ms = c.onset_ms;
          s.ccd_mA_cm2 = currentDensityAt(s, c.onset_ms);
          markFailure(s);
        }
        alert(
          s,
          emit,
          t,
          'critical',
          'short',
          `short circuit since ${iso(c.onset_ms)}: R_app/R_ref below the short threshold across polarity reversals (dendrite)`,
        );
        break;
      case 'isolated-short':
        s.isolatedShortCount++;
        alert(s, emit, t, 'warning', 'isolated-short', `the short of ${iso(c.onset_ms)} broke again at ${iso(c.end_ms ?? t)} (dendrite isolated)`);
        if (s.isolatedShortCount === 2) {
          alert(s, emit, t, 'critical', 'short-loop', 'second isolated short: the cell is in the polarization/short loop');
        }
        break;
      case 'stable':
        s.complianceArmed = true;
        s.polarizationArmed = true;
        break;
    }
  }
}

function recordSegment(s: DetectorState, c: RegimeChange): void {
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

function watchRange(
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

export interface CellSummary {
  readonly cell: string;
  readonly samples: number;
  readonly start: string | null;
  readonly end: string | null;
  readonly duration_h: number;
  readonly failureMode: 'none' | 'polarization' | 'short' | 'short-loop';
  readonly timeToFailure_h: number | null;
  readonly regimeDurations_h: Record<RegimeLabel, number>;
  readonly rest_h: number;
  readonly shortCount: number;
  readonly isolatedShortCount: number;
  /** Isolated shorts per 100 h after the first one: the pace of the polarization/short loop. */
  readonly isolatedShortRate_per100h: number | null;
  readonly halfCycles: number;
  readonly cumulativeCapacity_mAh_cm2: number;
  readonly capacityBeforeFailure_mAh_cm2: number | null;
  readonly minContactFraction: number | null;
  readonly peakJLocal_mA_cm2: number | null;
  readonly peakJLocalIsLowerBound: boolean;
  readonly ccd_mA_cm2: number | null;
  readonly rampDetected: boolean;
  readonly rRef25_ohm: number | null;
  readonly rRefSource: 'configured' | 'learned' | 'learning';
  readonly finalRegime: Regime;
}

export interface LabelledSegment {
  readonly cell: string;
  readonly regime: RegimeLabel;
  readonly start_ms: number;
  readonly end_ms: number;
}

/** End of input: close the open half cycle and freeze the summary and labelled segments. */
export function finishDetector(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): { summary: CellSummary; segments: LabelledSegment[] } {
  closeHalfCycle(s, cell, o, emit);
  const segments: LabelledSegment[] = s.segments.map((seg, i) => ({
    cell: s.cell,
    regime: seg.regime,
    start_ms: seg.start_ms,
    end_ms: i + 1 < s.segments.length ? s.segments[i + 1]!.start_ms : s.last_ms,
  }));
  const durations: Record<RegimeLabel, number> = { stable: 0, polarization: 0, short: 0, 'isolated-short': 0 };
  for (const seg of segments) durations[seg.regime] += (seg.end_ms - seg.start_ms) / 3.6e6;
  const failure_ms = minOrNull(s.firstCompliance_ms, s.firstShort_ms);
  const anyShort = s.shortCount > 0;
  const failureMode: CellSummary['failureMode'] =
    s.isolatedShortCount >= 2 ? 'short-loop' : anyShort ? 'short' : s.firstCompliance_ms !== null ? 'polarization' : 'none';
  const firstIsolated = segments.find((x) => x.regime === 'isolated-short');
  const loopHours = firstIsolated === undefined ? 0 : (s.last_ms - firstIsolated.start_ms) / 3.6e6;
  const summary: CellSummary = {
    cell: s.cell,
    samples: s.samples,
    start: s.samples > 0 ? iso(s.first_ms) : null,
    end: s.samples > 0 ? iso(s.last_ms) : null,
    duration_h: s.samples > 0 ? (s.last_ms - s.first_ms) / 3.6e6 : 0,
    failureMode,
    timeToFailure_h: failure_ms === null ? null : (failure_ms - s.first_ms) / 3.6e6,
    regimeDurations_h: durations,
    rest_h: s.rest_ms / 3.6e6,
    shortCount: s.shortCount,
    isolatedShortCount: s.isolatedShortCount,
    isolatedShortRate_per100h: s.isolatedShortCount > 0 && loopHours > 0 ? (100 * s.isolatedShortCount) / loopHours : null,
    halfCycles: s.halfCycles,
    cumulativeCapacity_mAh_cm2: s.cumulativeCapacity_mAh_cm2,
    capacityBeforeFailure_mAh_cm2: s.capacityBeforeFailure_mAh_cm2,
    minContactFraction: s.minContactFraction,
    peakJLocal_mA_cm2: s.peakJLocal_mA_cm2,
    peakJLocalIsLowerBound: s.peakJLocalIsLowerBound,
    ccd_mA_cm2: s.rampSteps >= o.rampMinSteps ? s.ccd_mA_cm2 : null,
    rampDetected: s.rampSteps >= o.rampMinSteps,
    rRef25_ohm: s.rRef25_ohm,
    rRefSource: s.rRefSource,
    finalRegime: s.regime.regime,
  };
  return { summary, segments };
}

function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
