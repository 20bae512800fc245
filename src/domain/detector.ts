/**
 * Per-cell online detector. Each part owns a slice of the state: the clock (event time, gaps against the cell's
 * own sampling rhythm), rest, the half cycle, the reference (calibration), the cell temperature, the symmetric-
 * cell check, ranges, the regime machine, soft shorts and the failure record.
 *
 * The state is one plain JSON-serialisable object per cell, so it can be checkpointed and restored (its
 * `version` is checked on load). `stepDetector` updates it in place and allocates nothing on the common path:
 * it runs once per sample, millions of times per run. The regime machine inside it is immutable.
 */
import type { CellConfig } from './cell.js';
import type { AlertCode, AlertEvent, CellEvent, HalfCycleEvent, Severity } from './events.js';
import { contactFraction, localCurrentDensity_mA_cm2, metalThickness_um, referenceResistance_ohm, tMax_s } from './physics.js';
import {
  calibrate,
  calibratedReference,
  calibrationState,
  chunkFull,
  closeChunk,
  DEFAULT_CALIBRATION,
  type CalibrationOptions,
  type CalibrationState,
  type ReferenceSource,
} from './reference.js';
import {
  DEFAULT_REGIME_THRESHOLDS,
  initialRegimeState,
  notSymmetric,
  observeExtrapolatedCrossing,
  observe,
  observeHalfCycleEnd,
  referenceReady,
  REGIME_LABELS,
  resetRuns,
  type Observation,
  type Regime,
  type RegimeChange,
  type RegimeLabel,
  type RegimeState,
  type RegimeThresholds,
} from './regime.js';
import { DEFAULT_OFFSET, observePlateau, offsetState, type OffsetOptions, type OffsetState } from './offset.js';
import {
  DEFAULT_REFERENCE_CHECK,
  observeCheckedHalfCycle,
  referenceCheckState,
  type ReferenceCheckOptions,
  type ReferenceCheckState,
} from './referenceCheck.js';
import { DEFAULT_INTERFACE_DRIFT, interfaceDriftState, observeInterfaceLevel, type InterfaceDriftOptions, type InterfaceDriftState } from './interfaceDrift.js';
import { DEFAULT_THERMAL_FIT, observeThermalPoint, thermalFitState, type ThermalFitOptions, type ThermalFitState } from './thermalFit.js';
import { DEFAULT_SOFT_SHORT, observeSoftShort, resetSoftShortRuns, softShortState, type SoftShortOptions, type SoftShortState } from './softShort.js';
import { decimatedSeries, median, median3, pushDecimated, quantile, type DecimatedSeries } from './stats.js';
import { advanceRun, isSustained, type Run } from './sustain.js';
import {
  DEFAULT_SYMMETRY,
  observeActive,
  observeHalfCycleSigns,
  observeRest,
  reversedLeadsUnconfirmed,
  symmetryState,
  type SymmetryOptions,
  type SymmetryState,
} from './symmetry.js';
import { cellTemperature, temperatureFactor, thermalBounds, thermalState, updateThermalBounds, type ThermalBounds, type ThermalState } from './thermal.js';
import type { AlignedSample } from './sample.js';
import { iso } from './sample.js';
import { labTime } from './labTime.js';

export interface DetectorOptions {
  readonly regime: RegimeThresholds;
  readonly calibration: CalibrationOptions;
  readonly softShort: SoftShortOptions;
  readonly symmetry: SymmetryOptions;
  readonly interfaceDrift: InterfaceDriftOptions;
  readonly offset: OffsetOptions;
  readonly referenceCheck: ReferenceCheckOptions;
  readonly thermalFit: ThermalFitOptions;
  /**
   * |I| below this fraction of the last active current is a rest (an impedance measurement's few µA against a
   * 50 µA cycling current too), unless it holds one sign and level for `adoptLow_s` (a step down).
   */
  readonly restFraction: number;
  readonly adoptLow_s: number;
  /**
   * A rest of at most this long that interrupts a half cycle before the protocol's full length (an impedance
   * measurement, a paused channel) suspends it: the same polarity and current afterwards resume it, not a new one
   * (a rate test's next step after a rest is a new half cycle).
   */
  readonly breakMax_s: number;
  /** Seconds after a half cycle starts during which R_app is not judged (double-layer transients). */
  readonly settle_s: number;
  /**
   * Rows after a half cycle starts, or after a step of its current, that are not judged however far apart they are:
   * an instrument's first rows after a reversal or a range switch read several times the plateau.
   */
  readonly settleRows: number;
  /** A change of |I| by more than this fraction within a half cycle is a current step (a rate step, a range switch). */
  readonly currentStepFraction: number;
  /** Relative noise of the per-sample ratio above which a half cycle's peak is its smoothed ratio's. */
  readonly noisyPlateau: number;
  /** … and above which a short is judged on the smoothed ratio. */
  readonly noisyShort: number;
  /**
   * Decisions hold for any cell lag from none to this (or twice the registry's lag) and any activation energy within
   * ± `activationEnergySpread_eV` of the registry's: a chamber step read with the wrong lag is neither contact loss
   * nor a short.
   */
  readonly slowThermalLag_min: number;
  readonly activationEnergySpread_eV: number;
  /**
   * A gap ends the half cycle and resets partial evidence when it is longer than both this and `gapRhythmFactor`
   * times the cell's own sampling interval (600 s logging or record-on-change rows are no gaps).
   */
  readonly gap_s: number;
  readonly gapRhythmFactor: number;
  /**
   * A `data-gap` warning (with the number of samples missing) when samples stop for longer than both this and
   * `gapRhythmFactor` times the longest interval the cell's own logging produced lately (record-on-change loggers
   * space rows out on quiet plateaus): a broker that dropped messages, a logger that stopped. Not at rest.
   */
  readonly dataGap_s: number;
  /** Half-life of that longest interval (h of event time). */
  readonly intervalHalfLife_h: number;
  /** |V| at or above this fraction of the compliance voltage counts as at the limit. */
  readonly complianceFraction: number;
  /** Reference-free short: |V| below this (V) and below `shortLevelFraction` of its running level. */
  readonly shortAbs_V: number;
  readonly shortLevelFraction: number;
  /** Time constant of the running R_app level (the pre-short level a short must return to). */
  readonly levelTau_s: number;
  /** Time constant of the smoothing that slow decisions (polarization, a short's end) look at. */
  readonly smoothTau_s: number;
  /** Warn when the calibrated and theoretical R_ref differ by more than this fraction. */
  readonly referenceMismatch: number;
  readonly rangeSustain_s: number;
  /** Set-current increases needed before a run counts as a CCD ramp. */
  readonly rampMinSteps: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  regime: DEFAULT_REGIME_THRESHOLDS,
  calibration: DEFAULT_CALIBRATION,
  softShort: DEFAULT_SOFT_SHORT,
  interfaceDrift: DEFAULT_INTERFACE_DRIFT,
  offset: DEFAULT_OFFSET,
  referenceCheck: DEFAULT_REFERENCE_CHECK,
  thermalFit: DEFAULT_THERMAL_FIT,
  symmetry: DEFAULT_SYMMETRY,
  restFraction: 0.2,
  adoptLow_s: 60,
  breakMax_s: 7200,
  settle_s: 10,
  settleRows: 2,
  currentStepFraction: 0.2,
  noisyPlateau: 0.01,
  noisyShort: 0.1,
  slowThermalLag_min: 60,
  activationEnergySpread_eV: 0.03,
  gap_s: 300,
  gapRhythmFactor: 4,
  dataGap_s: 10,
  intervalHalfLife_h: 1,
  complianceFraction: 0.98,
  shortAbs_V: 0.005,
  shortLevelFraction: 0.1,
  levelTau_s: 7200,
  smoothTau_s: 60,
  referenceMismatch: 0.15,
  rangeSustain_s: 60,
  rampMinSteps: 2,
};

/** R_app/R_ref(T) below which a short has collapsed the voltage: a critical alert (above it, a suspected short). */
export const SHORT_COLLAPSE_RATIO = 0.25;

export const DETECTOR_STATE_VERSION = 2;

interface HalfCycleAcc {
  index: number;
  sign: number;
  start_ms: number;
  last_ms: number;
  settleUntil_ms: number;
  /** The last sample (by `n`) not judged; absent in checkpoints before it (then the time window alone). */
  settleThroughN?: number;
  sumAbsI_mA: number;
  n: number;
  charge_mA_ms: number;
  prevAbsI_mA: number;
  /** Peak |V| of the half cycle after a median-of-3 spike filter (a lone glitch of the cycler is not a peak). */
  peakAbsV: number;
  /** Peak |V| of the samples not judged: the half cycle's peak only when it has no other. */
  peakAbsVSettling?: number;
  /** |V| of the two samples before the last (NaN before), for that filter; absent in checkpoints before it. */
  absV1?: number;
  absV2?: number;
  absV: DecimatedSeries;
  /** Last two judged ratios (NaN before) and their times, for a causal median-of-3 spike filter and extrapolation. */
  r1: number;
  r2: number;
  t1: number;
  t2: number;
  peakRatio: number;
  /**
   * The peak of the smoothed ratio, and the sums that give the raw ratio's noise (second differences: a trend is no
   * noise). Absent in checkpoints before them.
   */
  peakSmoothRatio?: number;
  /** The lowest smoothed ratio and the cell temperature's range while judged (interface growth); absent in older checkpoints. */
  lowSmoothRatio?: number;
  temperatureMin_C?: number;
  temperatureMax_C?: number;
  /** Sum of the capped relative second differences of the ratio, and their count. */
  noiseAbs?: number;
  noiseN?: number;
  judged: number;
  /** |V| of the last sample: a cycler that cuts a half cycle at the limit ends it right there. */
  lastAbsV: number;
  /** Samples held at the limit (a cycler that holds the voltage instead of cutting). */
  atLimit: Run | null;
  /** Active age of the half cycle after which Eq. 1 is checked again. */
  tMaxCheckAfter_ms: number;
  /** Time spent suspended by breaks (its age counts active time only); absent in older checkpoints. */
  paused_ms?: number;
  /** Sum of |V| as logged over the settled rows, and their count: the plateau (absent in older checkpoints). */
  sumSettledAbsV?: number;
  nSettled?: number;
  /** Sum of the judged ratios (their count is `judged`; absent in older checkpoints). */
  sumRatio?: number;
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

/** What the detector made of the last accepted sample (owned by the state, reused: copy what you keep). */
export interface StepResult {
  t_ms: number;
  rApp_ohm: number;
  /** R_ref at the cell's temperature, NaN without any reference. */
  rRef_ohm: number;
  jSet_mA_cm2: number;
  atCompliance: boolean;
  /** Shorted now: contact fraction and j_local mean nothing. */
  shorted: boolean;
}

export interface DetectorState {
  version: number;
  cell: string;
  clock: {
    samples: number;
    first_ms: number;
    last_ms: number;
    /** Typical sampling interval (ms): the slow envelope of recent intervals. */
    rhythm_ms: number;
    /** Longest recent interval of active logging (ms), decaying with `intervalHalfLife_h`. */
    longest_ms: number;
    gaps: number;
    gapTime_ms: number;
    dataGaps: number;
    missingSamples: number;
  };
  /**
   * `low`: a current below the rest threshold holding one sign and level (a step down of a rate test), adopted as
   * the new active level once it has held; `suspended`: the half cycle a break interrupted, until the current resumes
   * (absent in older checkpoints).
   */
  rest: {
    resting: boolean;
    rest_ms: number;
    lastActiveAbsI_mA: number;
    low?: { sign: number; absI_mA: number; since_ms: number; rows: number } | null;
    suspended?: HalfCycleAcc | null;
  };
  halfCycle: HalfCycleAcc | null;
  halfCycles: number;
  cumulativeCapacity_mAh_cm2: number;
  /** Longest half cycle at the current set-current level: the protocol's, against which a cut is recognised. */
  protocol: { level_mA_cm2: number; fullDuration_ms: number };
  reference: {
    /** R_ref at 25 °C that judges the cell (Ω), null while learning. */
    r25_ohm: number | null;
    source: ReferenceSource;
    /** d/(σA) from the registry at 25 °C, null without σ and d. */
    theoretical25_ohm: number | null;
    calibrated25_ohm: number | null;
    calibratedAt_ms: number | null;
    calibration: CalibrationState;
  };
  thermal: ThermalState;
  /** The compensation's uncertainty (lag, activation energy); absent in older checkpoints. */
  thermalBounds?: ThermalBounds;
  /** Running R_app(25 °C) level (Ω; NaN before the first judged sample) and the time of its last update. */
  level: { r25_ohm: number; t_ms: number };
  /** R_app(25 °C) smoothed over `smoothTau_s` within the half cycle (spikes removed first), and the last two raw values. */
  /** `since_ms`: where the smoothing started (a mean until it spans `smoothTau_s`); absent in older checkpoints. */
  smooth: { r25_ohm: number; t_ms: number; prevR25_ohm: number; prev2R25_ohm: number; since_ms?: number };
  /** The last half cycle's ratio noise per row and its current (absent in older checkpoints). */
  plateauNoise?: { absI_mA: number; relative: number } | null;
  symmetry: SymmetryState;
  softShort: SoftShortState;
  /** Slow, even growth of the resistance (absent in older checkpoints). */
  interfaceDrift?: InterfaceDriftState;
  /** The instrument's voltage offset, subtracted before R_app (absent in older checkpoints). */
  offset?: OffsetState;
  /** Where the reference was last measured, to re-check it at a better plateau (null before calibration). */
  referenceCheck?: ReferenceCheckState | null;
  /** The last closed half cycle's current density and mean plateau |V| (absent in older checkpoints). */
  lastPlateau?: { j_mA_cm2: number; plateau_V: number } | null;
  /**
   * The thermal lag and activation energy measured at chamber steps, and the minute being summed for it (absent in
   * older checkpoints).
   */
  thermalFit?: {
    fit: ThermalFitState;
    /** The fits' medians, what compensation uses (null before the first fit). */
    inUse: { lag_min: number; ea_eV: number } | null;
    minute_ms: number;
    sumR_ohm: number;
    /** Samples of the minute, and those with a plateau (R_app summed: ln R of the minute is the log of its mean). */
    n: number;
    nR?: number;
    logged_C: number;
  };
  regime: RegimeState;
  /** Regime change points with isolated shorts relabelled: the labelled segments. */
  segments: Segment[];
  ranges: { pressure: RangeWatch; temperature: RangeWatch };
  failure: {
    complianceArmed: boolean;
    polarizationArmed: boolean;
    capacityBeforeFailure_mAh_cm2: number | null;
    firstCompliance_ms: number | null;
    firstShort_ms: number | null;
    firstSoftShort_ms: number | null;
    shortCount: number;
    isolatedShortCount: number;
    minContactFraction: number | null;
    minContactFractionIsBound: boolean;
    peakJLocal_mA_cm2: number | null;
    peakJLocalIsLowerBound: boolean;
    tMaxAlertedLevels: number[];
    ccd_mA_cm2: number | null;
    noTemperatureNoted: boolean;
    polarityNoted: boolean;
  };
  ramp: { confirmed_mA_cm2: number; candidate_mA_cm2: number; steps: number };
  recentHalfCycles: { start_ms: number; end_ms: number; j_mA_cm2: number }[];
  last: StepResult;
}

/** Per-sample derived series (SPEC §5). */
export interface DerivedState {
  readonly t_ms: number;
  readonly regime: Regime;
  readonly halfCycleIndex: number;
  readonly resting: boolean;
  readonly rApp_ohm: number | null;
  readonly rRef_ohm: number | null;
  readonly rRefSource: ReferenceSource;
  readonly ratio: number | null;
  readonly contactFraction: number | null;
  readonly aEff_cm2: number | null;
  readonly jSet_mA_cm2: number;
  readonly jLocal_mA_cm2: number | null;
  readonly atCompliance: boolean;
}

export function theoreticalReference25_ohm(cell: CellConfig): number | null {
  return cell.sigmaSPerCm !== undefined && cell.thicknessCm !== undefined ? referenceResistance_ohm(cell.thicknessCm, cell.sigmaSPerCm, cell.areaCm2) : null;
}

export function createDetectorState(cell: CellConfig): DetectorState {
  const theoretical = theoreticalReference25_ohm(cell);
  const trusted = cell.referenceMode === 'configured' && theoretical !== null;
  return {
    version: DETECTOR_STATE_VERSION,
    cell: cell.id,
    clock: { samples: 0, first_ms: NaN, last_ms: NaN, rhythm_ms: NaN, longest_ms: NaN, gaps: 0, gapTime_ms: 0, dataGaps: 0, missingSamples: 0 },
    rest: { resting: false, rest_ms: 0, lastActiveAbsI_mA: 0, low: null, suspended: null },
    halfCycle: null,
    halfCycles: 0,
    cumulativeCapacity_mAh_cm2: 0,
    protocol: { level_mA_cm2: 0, fullDuration_ms: 0 },
    reference: {
      r25_ohm: trusted ? theoretical : null,
      source: trusted ? 'configured' : theoretical !== null ? 'provisional' : 'none',
      theoretical25_ohm: theoretical,
      calibrated25_ohm: null,
      calibratedAt_ms: null,
      calibration: calibrationState(),
    },
    thermal: thermalState(),
    thermalBounds: thermalBounds(),
    level: { r25_ohm: NaN, t_ms: NaN },
    smooth: { r25_ohm: NaN, t_ms: NaN, prevR25_ohm: NaN, prev2R25_ohm: NaN, since_ms: NaN },
    symmetry: symmetryState(),
    softShort: softShortState(),
    offset: offsetState(),
    referenceCheck: null,
    lastPlateau: null,
    regime: initialRegimeState(NaN, trusted ? 'stable' : 'learning'),
    segments: [],
    ranges: { pressure: { out: null, back: null, raised: false }, temperature: { out: null, back: null, raised: false } },
    failure: {
      complianceArmed: true,
      polarizationArmed: true,
      capacityBeforeFailure_mAh_cm2: null,
      firstCompliance_ms: null,
      firstShort_ms: null,
      firstSoftShort_ms: null,
      shortCount: 0,
      isolatedShortCount: 0,
      minContactFraction: null,
      minContactFractionIsBound: false,
      peakJLocal_mA_cm2: null,
      peakJLocalIsLowerBound: false,
      tMaxAlertedLevels: [],
      ccd_mA_cm2: null,
      noTemperatureNoted: false,
      polarityNoted: false,
    },
    ramp: { confirmed_mA_cm2: 0, candidate_mA_cm2: 0, steps: 0 },
    recentHalfCycles: [],
    last: { t_ms: NaN, rApp_ohm: NaN, rRef_ohm: NaN, jSet_mA_cm2: 0, atCompliance: false, shorted: false },
  };
}

/** A checkpointed state of another layout must not be resumed: the caller starts the cell afresh. */
export function isCurrentDetectorState(x: unknown): x is DetectorState {
  return typeof x === 'object' && x !== null && (x as { version?: unknown }).version === DETECTOR_STATE_VERSION;
}

type Emit = (event: CellEvent) => void;

/** A time in an alert message, as people read it: hours since the cell's first sample and the lab's wall clock. */
const when = (s: DetectorState, cell: CellConfig, t_ms: number): string => labTime(t_ms, s.clock.first_ms, cell.timeZone ?? 'UTC');

/** A resistance in a message: 35.3 Ω, 4.05 kΩ (not 4.05e+3 Ω). */
export const formatOhm = (r_ohm: number): string => (Math.abs(r_ohm) >= 1000 ? `${(r_ohm / 1000).toPrecision(3)} kΩ` : `${r_ohm.toPrecision(3)} Ω`);

/** Reused for the per-sample call: changes are rare and consumed at once, an array per sample is not. */
const SCRATCH_CHANGES: RegimeChange[] = [];
const OBS: Observation = {
  t_ms: 0,
  trend: false,
  ratio: NaN,
  smoothRatio: NaN,
  noisy: false,
  thermalHigh: 1,
  collapsed: false,
  smoothR25_ohm: NaN,
  level_ohm: NaN,
};

function alert(
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

/**
 * Feed one aligned sample. Samples must come in event-time order (the operators guarantee it).
 * Returns what the detector made of it, or null when it was not accepted (not after the previous one).
 */
export function stepDetector(s: DetectorState, cell: CellConfig, o: DetectorOptions, x: AlignedSample, emit: Emit): StepResult | null {
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
  const changes = SCRATCH_CHANGES;
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
  const obs = OBS;
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
function rRefAt(s: DetectorState, factor: number): number {
  const r = s.reference.r25_ohm ?? s.reference.theoretical25_ohm;
  return r === null ? NaN : r / factor;
}

/** Samples stopped for longer than the cell's rhythm explains: say so, with how many are missing. */
function dataGap(s: DetectorState, cell: CellConfig, t: number, dt: number, rhythm_ms: number, emit: Emit): void {
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

/** The instrument's transient again (a current step, a resumed break): not judged, a new plateau for the spike filter. */
function settleAgain(hc: HalfCycleAcc, t: number, o: DetectorOptions): void {
  hc.settleUntil_ms = t + o.settle_s * 1000;
  hc.settleThroughN = hc.n + o.settleRows;
  hc.absV1 = NaN;
  hc.absV2 = NaN;
}

/**
 * A rest that may be a break: the open half cycle stopped before the protocol's full length at its level (known from
 * an earlier half cycle; the first is never suspended) and has not been resumed across a break before.
 */
function breakable(s: DetectorState, cell: CellConfig, o: DetectorOptions): boolean {
  const hc = s.halfCycle;
  if (hc === null || o.breakMax_s <= 0 || hc.n === 0 || (hc.paused_ms ?? 0) > 0) return false;
  const p = s.protocol;
  const j = hc.sumAbsI_mA / hc.n / cell.areaCm2;
  return p.fullDuration_ms > 0 && j > 0.9 * p.level_mA_cm2 && j < 1.1 * p.level_mA_cm2 && hc.last_ms - hc.start_ms < 0.97 * p.fullDuration_ms;
}

/** The break is over without the half cycle resuming (too long, a gap, the other polarity, the end): it ends where it stopped. */
function endBreak(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): void {
  const suspended = s.rest.suspended;
  if (suspended == null) return;
  s.rest.suspended = null;
  const open = s.halfCycle;
  s.halfCycle = suspended;
  closeHalfCycle(s, cell, o, emit);
  s.halfCycle = open;
}

/** A rest or a gap: the half cycle ends and no evidence may span it. */
function interrupt(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): void {
  closeHalfCycle(s, cell, o, emit);
  s.smooth.r25_ohm = NaN;
  s.smooth.prev2R25_ohm = NaN;
  s.regime = resetRuns(s.regime);
  resetSoftShortRuns(s.softShort);
}

function setLast(s: DetectorState, t_ms: number, rApp_ohm: number, rRef_ohm: number, jSet_mA_cm2: number, atCompliance: boolean, shorted: boolean): StepResult {
  const l = s.last;
  l.t_ms = t_ms;
  l.rApp_ohm = rApp_ohm;
  l.rRef_ohm = rRef_ohm;
  l.jSet_mA_cm2 = jSet_mA_cm2;
  l.atCompliance = atCompliance;
  l.shorted = shorted;
  return l;
}

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

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
  };
}

/** The ratio's relative noise per row in a half cycle (second differences: a trend is no noise); NaN before 10 rows. */
function ratioNoise(hc: HalfCycleAcc): number {
  if (hc.noiseN === undefined || hc.noiseN < 10) return NaN;
  // Mean |second difference| of white noise σ: √(2/π)·√6·σ ≈ 1.954 σ.
  return hc.noiseAbs! / hc.noiseN / 1.954;
}

/**
 * Whether the plateau is too noisy for single rows to decide a short: this half cycle's noise once it has 100 rows,
 * before that the last half cycle's at the same current.
 */
function noisyPlateau(s: DetectorState, hc: HalfCycleAcc, absI: number, o: DetectorOptions): boolean {
  if ((hc.noiseN ?? 0) >= 100) return ratioNoise(hc) > o.noisyShort;
  const last = s.plateauNoise;
  return last != null && Math.abs(absI - last.absI_mA) <= 0.2 * last.absI_mA && last.relative > o.noisyShort;
}

/**
 * |V| through a causal median of 3: one sample far above its neighbours (a 28 V glitch on an 8 V channel) is
 * dropped, a level held for two samples counts. The first two samples of a half cycle count as they are.
 */
function filteredAbsV(hc: HalfCycleAcc, absV: number): number {
  const a = hc.absV1 ?? NaN;
  const b = hc.absV2 ?? NaN;
  hc.absV2 = a;
  hc.absV1 = absV;
  if (Number.isNaN(b)) return Number.isNaN(a) ? absV : Math.min(a, absV);
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), absV));
}

function openHalfCycle(s: DetectorState, sign: number, t: number, o: DetectorOptions): HalfCycleAcc {
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
function closeHalfCycle(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit, reversedAt_ms = NaN): void {
  const hc = s.halfCycle;
  if (hc === null) return;
  s.halfCycle = null;
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
  };
  emit(event);

  if (judged && !cut && !(noise > o.noisyPlateau) && s.regime.regime === 'stable' && (ref.source === 'calibrated' || ref.source === 'configured'))
    followInterface(s, cell, o, hc, emit);
  observeOffsetAndReference(s, cell, o, hc, j, cut, noise, emit);

  const changes: RegimeChange[] = [];
  s.regime = observeHalfCycleEnd(s.regime, { start_ms: hc.start_ms, peakRatio: hc.peakRatio, evaluated: judged }, hc.last_ms, o.regime, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
}

/** A stable cell's plateau, summed per minute for the thermal fit; a fitted chamber step is said once. */
function observeThermal(s: DetectorState, cell: CellConfig, o: DetectorOptions, t: number, logged_C: number, rApp_ohm: number, emit: Emit): void {
  const th = (s.thermalFit ??= { fit: thermalFitState(), inUse: null, minute_ms: NaN, sumR_ohm: 0, n: 0, nR: 0, logged_C: NaN });
  const minute_ms = Math.floor(t / 60_000) * 60_000;
  if (minute_ms !== th.minute_ms) {
    if (th.n > 0) {
      const fit = observeThermalPoint(
        th.fit,
        { t_ms: th.minute_ms + 30_000, logged_C: th.logged_C, lnR: (th.nR ?? 0) > 0 ? Math.log(th.sumR_ohm / th.nR!) : NaN },
        o.thermalFit,
      );
      if (fit !== null) {
        const fits = th.fit.fits;
        th.inUse = { lag_min: median(fits.map((f) => f.lag_min)), ea_eV: median(fits.map((f) => f.ea_eV)) };
        alert(
          s,
          emit,
          t,
          'info',
          'thermal-fit',
          `the chamber step ${fit.from_C.toFixed(0)} → ${fit.to_C.toFixed(0)} °C at ${when(s, cell, fit.step_ms)}: the cell follows with a ` +
            `${fit.lag_min.toFixed(0)} min lag, Ea ${fit.ea_eV.toFixed(2)} eV (R² ${fit.r2.toFixed(3)}; registry: ${cell.thermalLag_min} min, ` +
            `${cell.activationEnergyEv} eV); compensation uses the steps' median from now on`,
        );
      }
    }
    th.minute_ms = minute_ms;
    th.sumR_ohm = 0;
    th.n = 0;
    th.nR = 0;
  }
  if (rApp_ohm > 0) {
    th.sumR_ohm += rApp_ohm;
    th.nR = (th.nR ?? 0) + 1;
  }
  th.n++;
  th.logged_C = logged_C;
}

/**
 * A steady half cycle's plateau for the instrument's offset (learned on both polarities), and for the reference's
 * re-check when the current has stepped up to a better plateau.
 */
function observeOffsetAndReference(
  s: DetectorState,
  cell: CellConfig,
  o: DetectorOptions,
  hc: HalfCycleAcc,
  j: number,
  cut: boolean,
  noise: number,
  emit: Emit,
): void {
  const regime = s.regime.regime;
  const nSettled = hc.nSettled ?? 0;
  if (cut || nSettled < 10 || (regime !== 'stable' && regime !== 'learning')) return;
  const plateau_V = hc.sumSettledAbsV! / nSettled;
  const absI = hc.sumAbsI_mA / hc.n;
  const offset = (s.offset ??= offsetState());
  const before = offset.offset_V;
  const changed = observePlateau(offset, hc.sign, absI, plateau_V, o.offset);
  const ref = s.reference;
  if (changed !== null) {
    // Chunks measured with the old offset are not the cell's: calibration starts again.
    if (ref.calibrated25_ohm === null) ref.calibration = calibrationState();
    if (before === 0)
      alert(
        s,
        emit,
        hc.last_ms,
        'info',
        'voltage-offset',
        `the voltage reads ${(changed * 1000).toFixed(2)} mV ${changed > 0 ? 'high' : 'low'} on positive currents and as much the other way on negative ones ` +
          `(the instrument's offset, from ${offset.pairs.length} pairs of half cycles at ${(plateau_V * 1000).toFixed(1)} mV plateaus): subtracted before R_app`,
      );
  }
  const check = s.referenceCheck;
  if (check == null || ref.source !== 'calibrated' || !(hc.judged > 0)) return;
  const steady =
    regime === 'stable' &&
    !(noise > o.noisyPlateau) &&
    hc.lowSmoothRatio !== undefined &&
    hc.peakSmoothRatio !== undefined &&
    hc.peakSmoothRatio <= (1 + o.interfaceDrift.maxRiseWithin) * hc.lowSmoothRatio;
  const remeasured = observeCheckedHalfCycle(check, { sign: hc.sign, j_mA_cm2: j, plateau_V, ratio: hc.sumRatio! / hc.judged, steady }, o.referenceCheck);
  if (remeasured === null) return;
  const was = ref.r25_ohm!;
  ref.r25_ohm = was * remeasured.factor;
  alert(
    s,
    emit,
    hc.last_ms,
    'info',
    'reference-remeasured',
    `at ${remeasured.to_mA_cm2.toPrecision(2)} mA/cm² (a ${(remeasured.toPlateau_V * 1000).toFixed(1)} mV plateau) the healthy cell reads ` +
      `${remeasured.factor.toFixed(2)}× the reference measured at ${remeasured.from_mA_cm2.toPrecision(2)} mA/cm² (a ${(remeasured.fromPlateau_V * 1000).toFixed(1)} mV plateau); ` +
      `R is ohmic, so the better plateau measures it: R_ref ${formatOhm(was)} → ${formatOhm(ref.r25_ohm)} at 25 °C`,
  );
}

/** A stable half cycle's level for the interface drift; once growth is called, the reference follows it. */
function followInterface(s: DetectorState, cell: CellConfig, o: DetectorOptions, hc: HalfCycleAcc, emit: Emit): void {
  if (hc.lowSmoothRatio === undefined || hc.peakSmoothRatio === undefined || hc.temperatureMin_C === undefined) return;
  const drift = (s.interfaceDrift ??= interfaceDriftState());
  const before = drift.follow;
  const growth = observeInterfaceLevel(
    drift,
    {
      t_ms: hc.last_ms,
      lowRatio: hc.lowSmoothRatio,
      highRatio: hc.peakSmoothRatio,
      temperatureMin_C: hc.temperatureMin_C,
      temperatureMax_C: hc.temperatureMax_C!,
      reference_C: cell.nominalTemperatureC ?? 25,
    },
    o.interfaceDrift,
  );
  const ref = s.reference;
  if (drift.follow !== before && ref.r25_ohm !== null) ref.r25_ohm *= drift.follow / before;
  if (growth !== null)
    alert(
      s,
      emit,
      hc.last_ms,
      'info',
      'interface-growth',
      `R_app has grown ${(100 * growth.growth).toFixed(0)} % in ${growth.span_h.toFixed(0)} h (${(100 * growth.growth_per100h).toFixed(1)} % per 100 h), evenly: flat within each half cycle and no recovery at reversal, near ${cell.nominalTemperatureC ?? 25} °C — interface or interphase growth, not contact loss; the reference follows it (now R_ref = ${formatOhm(ref.r25_ohm!)} at 25 °C)`,
    );
}

/**
 * With sparse rows (600 s logging) the last row of a half cycle can be up to one interval before its end, where
 * polarization peaks: extrapolate the rising ratio of its last two rows to the end (at most one interval on).
 */
function extrapolateToEnd(s: DetectorState, cell: CellConfig, o: DetectorOptions, hc: HalfCycleAcc, reversedAt_ms: number, emit: Emit): void {
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

/** End calibration when the plateau is reached (or at the time cap); say how it compares with the registry. */
function tryCalibrate(s: DetectorState, cell: CellConfig, o: DetectorOptions, t: number, emit: Emit, final = false): void {
  const ref = s.reference;
  const measured = calibratedReference(ref.calibration, o.calibration, final);
  if (measured === null) return;
  ref.calibrated25_ohm = measured;
  ref.calibratedAt_ms = t;
  if (!s.thermal.seen && !s.failure.noTemperatureNoted) {
    s.failure.noTemperatureNoted = true;
    alert(
      s,
      emit,
      t,
      'info',
      'no-temperature',
      `no temperature telemetry: R_ref is referred to 25 °C from the nominal ${cell.nominalTemperatureC} °C (registry nominalTemperatureC)`,
    );
  }
  const theory = ref.theoretical25_ohm;
  if (theory !== null && Math.abs(measured / theory - 1) > o.referenceMismatch) {
    const trusted = ref.source === 'configured';
    alert(
      s,
      emit,
      t,
      'warning',
      'reference-mismatch',
      `registry σ, d, A imply R_ref = ${formatOhm(theory)}, the cell measures ${formatOhm(measured)} at 25 °C ` +
        `(×${(measured / theory).toFixed(2)}: initial contact, interface resistance or notebook values): ` +
        (trusted ? 'using the configured value (referenceMode: configured)' : 'using the measured value'),
    );
  }
  if (ref.source === 'configured' || final) return;
  ref.r25_ohm = measured;
  ref.source = 'calibrated';
  const hc = s.halfCycle;
  const nSettled = hc?.nSettled ?? 0;
  if (hc !== null && nSettled > 0) s.referenceCheck = referenceCheckState(hc.sumAbsI_mA / hc.n / cell.areaCm2, hc.sumSettledAbsV! / nSettled);
  else if (s.lastPlateau != null) s.referenceCheck = referenceCheckState(s.lastPlateau.j_mA_cm2, s.lastPlateau.plateau_V);
  const changes: RegimeChange[] = [];
  s.regime = referenceReady(s.regime, t, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
}

function declareNotSymmetric(s: DetectorState, t: number, reason: string, emit: Emit): void {
  const changes: RegimeChange[] = [];
  s.regime = notSymmetric(s.regime, t, changes);
  if (changes.length === 0) return;
  alert(s, emit, t, 'warning', 'not-symmetric', `not a symmetric cell: ${reason}; no regime calls for this cell`);
  // No regime calls at all: the whole record is one segment.
  s.segments.length = 0;
  s.segments.push({ regime: 'not-symmetric', start_ms: s.clock.first_ms });
}

/** A CCD ramp steps the current up and holds each level: a step counts once a level repeats. */
function trackRamp(s: DetectorState, j: number): void {
  if (!(j > 0)) return;
  const r = s.ramp;
  const same = j > 0.95 * r.candidate_mA_cm2 && j < 1.05 * r.candidate_mA_cm2;
  r.candidate_mA_cm2 = j;
  if (!same) return;
  if (r.confirmed_mA_cm2 > 0 && j > 1.2 * r.confirmed_mA_cm2) r.steps++;
  else if (j < 0.8 * r.confirmed_mA_cm2) r.steps = 0;
  r.confirmed_mA_cm2 = j;
}

function complianceReached(s: DetectorState, t: number, emit: Emit, cell: CellConfig): void {
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
function checkTMax(s: DetectorState, hc: HalfCycleAcc, cell: CellConfig, t: number, emit: Emit): void {
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
function currentDensityAt(s: DetectorState, t_ms: number, areaCm2: number): number | null {
  const past = s.recentHalfCycles.find((h) => h.start_ms <= t_ms && t_ms <= h.end_ms);
  if (past !== undefined) return past.j_mA_cm2;
  const hc = s.halfCycle;
  return hc !== null && hc.n > 0 ? hc.sumAbsI_mA / hc.n / areaCm2 : null;
}

/** Capacity before failure (paper, Table 2): what had been cycled when the cell first failed. */
function markFailure(s: DetectorState, areaCm2: number): void {
  const f = s.failure;
  if (f.capacityBeforeFailure_mAh_cm2 !== null) return;
  const open = s.halfCycle === null ? 0 : s.halfCycle.charge_mA_ms / 3.6e6 / areaCm2;
  f.capacityBeforeFailure_mAh_cm2 = s.cumulativeCapacity_mAh_cm2 + open;
}

function softShortChanged(s: DetectorState, cell: CellConfig, change: 'opened' | 'closed', t: number, ratio: number, emit: Emit): void {
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

function applyChanges(s: DetectorState, cell: CellConfig, changes: readonly RegimeChange[], emit: Emit): void {
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
  /** The electrode area and voltage compliance the cell was judged with (set by the analysis). */
  readonly areaCm2?: number;
  readonly complianceV?: number;
  /** Where the cell's area, compliance and time zone came from (set by the analysis: registry, option, file header, default, machine). */
  readonly configSources?: Readonly<Record<string, string>>;
  /** The lab's zone the cell's local times were read in and its times are shown in (set by the analysis). */
  readonly timeZone?: string;
  /** The instrument file's own description of the run, when it has one. */
  readonly instrument?: { readonly file: string; readonly technique: string | null; readonly channel: string | null };
  /** The programmed protocol from the instrument file's header, checked against Eq. 1 (set by the analysis). */
  readonly protocol?: {
    readonly source: 'header';
    readonly technique: string;
    readonly ccdRamp: boolean;
    readonly steps: readonly import('./protocol.js').CheckedStep[];
  };
  /** Impedance spectra recorded inside the run and their high-frequency intercepts (set by the analysis). */
  readonly impedance?: {
    readonly blocks: number;
    readonly rHfFirst_Ohm: number | null;
    readonly rHfLast_Ohm: number | null;
    readonly rHfMin_Ohm: number | null;
    readonly rHfMax_Ohm: number | null;
  };
  readonly samples: number;
  readonly start: string | null;
  readonly end: string | null;
  readonly duration_h: number;
  /** Hours with a regime call (not learning, not a non-symmetric cell). */
  readonly judged_h: number;
  readonly symmetric: boolean;
  readonly notSymmetricReason: string | null;
  readonly failureMode: 'none' | 'polarization' | 'short' | 'short-loop';
  /** SPEC: first compliance or first short, whichever came first (see `timeToFailureBasis`). */
  readonly timeToFailure_h: number | null;
  readonly timeToFailureBasis: 'compliance' | 'short' | null;
  /** When the failure mode itself began: the loop's first isolated short, the first short, the first compliance. */
  readonly failureModeOnset_h: number | null;
  readonly firstCompliance_h: number | null;
  readonly regimeDurations_h: Record<RegimeLabel, number>;
  readonly rest_h: number;
  readonly gaps: number;
  readonly gap_h: number;
  /** Data gaps against the cell's own rhythm (`data-gap` alerts) and the samples they miss. */
  readonly dataGaps: number;
  readonly missingSamples: number;
  readonly shortCount: number;
  readonly isolatedShortCount: number;
  /** Isolated shorts per 100 h after the first one: the pace of the polarization/short loop. */
  readonly isolatedShortRate_per100h: number | null;
  readonly softShortCount: number;
  readonly firstSoftShort: string | null;
  readonly halfCycles: number;
  readonly cumulativeCapacity_mAh_cm2: number;
  readonly capacityBeforeFailure_mAh_cm2: number | null;
  readonly minContactFraction: number | null;
  /** At the compliance limit R_app is a lower bound, so this minimum is an upper bound of the true one. */
  readonly minContactFractionIsBound: boolean;
  readonly peakJLocal_mA_cm2: number | null;
  readonly peakJLocalIsLowerBound: boolean;
  readonly ccd_mA_cm2: number | null;
  readonly rampDetected: boolean;
  /** The R_ref(25 °C) that judged the cell and where it came from. */
  readonly rRef25_ohm: number | null;
  readonly rRefSource: ReferenceSource;
  readonly rRefCalibrated25_ohm: number | null;
  readonly rRefTheoretical25_ohm: number | null;
  /** Calibrated over theoretical R_ref: above 1, initial contact or an interface resistance (or notebook values). */
  readonly rRefCalibratedOverTheoretical: number | null;
  readonly calibratedAt: string | null;
  readonly temperatureSource: 'telemetry' | 'nominal';
  /** The thermal lag and activation energy measured at chamber steps (medians), null without a fitted step. */
  readonly thermalFit: { readonly lag_min: number; readonly activationEnergyEv: number; readonly steps: number } | null;
  /** Interface growth called on the cell: its growth per 100 h (0.14 = 14 %) and what R_ref now stands at. */
  readonly interfaceGrowth: { readonly growth_per100h: number; readonly referenceFollow: number } | null;
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
  endBreak(s, cell, o, emit);
  closeHalfCycle(s, cell, o, emit);
  const ref = s.reference;
  // A record that ended before calibration did: report what it measured, with nothing judged by it.
  if (ref.calibrated25_ohm === null) tryCalibrate(s, cell, o, s.clock.last_ms, () => {}, true);
  const clock = s.clock;
  const segments: LabelledSegment[] = s.segments.map((seg, i) => ({
    cell: s.cell,
    regime: seg.regime,
    start_ms: seg.start_ms,
    end_ms: i + 1 < s.segments.length ? s.segments[i + 1]!.start_ms : clock.last_ms,
  }));
  const durations = Object.fromEntries(REGIME_LABELS.map((r) => [r, 0])) as Record<RegimeLabel, number>;
  for (const seg of segments) durations[seg.regime] += (seg.end_ms - seg.start_ms) / 3.6e6;
  const f = s.failure;
  const failure_ms = minOrNull(f.firstCompliance_ms, f.firstShort_ms);
  const symmetric = s.symmetry.verdict === null;
  const failureMode: CellSummary['failureMode'] = !symmetric
    ? 'none'
    : f.isolatedShortCount >= 2
      ? 'short-loop'
      : f.shortCount > 0
        ? 'short'
        : f.firstCompliance_ms !== null
          ? 'polarization'
          : 'none';
  const firstIsolated = segments.find((x) => x.regime === 'isolated-short');
  const modeOnset_ms =
    failureMode === 'short-loop'
      ? (firstIsolated?.start_ms ?? null)
      : failureMode === 'short'
        ? f.firstShort_ms
        : failureMode === 'polarization'
          ? f.firstCompliance_ms
          : null;
  const loopHours = firstIsolated === undefined ? 0 : (clock.last_ms - firstIsolated.start_ms) / 3.6e6;
  const duration_h = clock.samples > 0 ? (clock.last_ms - clock.first_ms) / 3.6e6 : 0;
  const ramp = s.ramp.steps >= o.rampMinSteps;
  const summary: CellSummary = {
    cell: s.cell,
    samples: clock.samples,
    start: clock.samples > 0 ? iso(clock.first_ms) : null,
    end: clock.samples > 0 ? iso(clock.last_ms) : null,
    duration_h,
    judged_h: Math.max(0, duration_h - durations.learning - durations['not-symmetric']),
    symmetric,
    notSymmetricReason: s.symmetry.verdict,
    failureMode,
    timeToFailure_h: failure_ms === null || !symmetric ? null : (failure_ms - clock.first_ms) / 3.6e6,
    timeToFailureBasis: failure_ms === null || !symmetric ? null : failure_ms === f.firstCompliance_ms ? 'compliance' : 'short',
    failureModeOnset_h: modeOnset_ms === null ? null : (modeOnset_ms - clock.first_ms) / 3.6e6,
    firstCompliance_h: f.firstCompliance_ms === null || !symmetric ? null : (f.firstCompliance_ms - clock.first_ms) / 3.6e6,
    regimeDurations_h: durations,
    rest_h: s.rest.rest_ms / 3.6e6,
    gaps: clock.gaps,
    gap_h: clock.gapTime_ms / 3.6e6,
    dataGaps: clock.dataGaps,
    missingSamples: clock.missingSamples,
    shortCount: f.shortCount,
    isolatedShortCount: f.isolatedShortCount,
    isolatedShortRate_per100h: f.isolatedShortCount > 0 && loopHours > 0 ? (100 * f.isolatedShortCount) / loopHours : null,
    softShortCount: s.softShort.episodes,
    firstSoftShort: f.firstSoftShort_ms === null ? null : iso(f.firstSoftShort_ms),
    halfCycles: s.halfCycles,
    cumulativeCapacity_mAh_cm2: s.cumulativeCapacity_mAh_cm2,
    capacityBeforeFailure_mAh_cm2: f.capacityBeforeFailure_mAh_cm2,
    minContactFraction: f.minContactFraction,
    minContactFractionIsBound: f.minContactFractionIsBound,
    peakJLocal_mA_cm2: f.peakJLocal_mA_cm2,
    peakJLocalIsLowerBound: f.peakJLocalIsLowerBound,
    ccd_mA_cm2: ramp ? f.ccd_mA_cm2 : null,
    rampDetected: ramp,
    rRef25_ohm: ref.r25_ohm,
    rRefSource: ref.source,
    rRefCalibrated25_ohm: ref.calibrated25_ohm,
    rRefTheoretical25_ohm: ref.theoretical25_ohm,
    rRefCalibratedOverTheoretical: ref.calibrated25_ohm !== null && ref.theoretical25_ohm !== null ? ref.calibrated25_ohm / ref.theoretical25_ohm : null,
    calibratedAt: ref.calibratedAt_ms === null ? null : iso(ref.calibratedAt_ms),
    temperatureSource: s.thermal.seen ? 'telemetry' : 'nominal',
    thermalFit:
      s.thermalFit?.inUse != null
        ? { lag_min: s.thermalFit.inUse.lag_min, activationEnergyEv: s.thermalFit.inUse.ea_eV, steps: s.thermalFit.fit.fits.length }
        : null,
    interfaceGrowth:
      s.interfaceDrift?.raised === true ? { growth_per100h: s.interfaceDrift.growth_per100h ?? NaN, referenceFollow: s.interfaceDrift.follow } : null,
    finalRegime: s.regime.regime,
  };
  return { summary, segments };
}

function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
