/**
 * The detector's state and options: one plain JSON-serialisable object per cell (checkpointed, its `version` checked on
 * load), the half cycle being accumulated, the derived series, and a cell's fresh state.
 */
import type { CellConfig } from '../cell.js';
import type { GrowthPoint } from '../forecast.js';
import { DEFAULT_NOISE, noiseState, type NoiseOptions, type NoiseState } from '../noise.js';
import type { CellEvent } from '../events.js';
import { referenceResistance_ohm } from '../physics.js';
import { calibrationState, DEFAULT_CALIBRATION, type CalibrationOptions, type CalibrationState, type ReferenceSource } from '../reference.js';
import { DEFAULT_REGIME_THRESHOLDS, initialRegimeState, type Regime, type RegimeLabel, type RegimeState, type RegimeThresholds } from '../regime.js';
import { DEFAULT_OFFSET, offsetState, type OffsetOptions, type OffsetState } from '../offset.js';
import { DEFAULT_REFERENCE_CHECK, type ReferenceCheckOptions, type ReferenceCheckState } from '../referenceCheck.js';
import { DEFAULT_INTERFACE_DRIFT, type InterfaceDriftOptions, type InterfaceDriftState } from '../interfaceDrift.js';
import { DEFAULT_THERMAL_FIT, type ThermalFitOptions, type ThermalFitState } from '../thermalFit.js';
import { DEFAULT_SOFT_SHORT, softShortState, type SoftShortOptions, type SoftShortState } from '../softShort.js';
import type { DecimatedSeries } from '../stats.js';
import type { Run } from '../sustain.js';
import { DEFAULT_SYMMETRY, symmetryState, type SymmetryOptions, type SymmetryState } from '../symmetry.js';
import { thermalBounds, thermalState, type ThermalBounds, type ThermalState } from '../thermal.js';

export interface DetectorOptions {
  readonly regime: RegimeThresholds;
  readonly calibration: CalibrationOptions;
  readonly softShort: SoftShortOptions;
  readonly noise: NoiseOptions;
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
  noise: DEFAULT_NOISE,
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
export interface HalfCycleAcc {
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
export interface RangeWatch {
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
  /** The compliance forecast's half cycles and the forecast standing (absent in checkpoints from before it). */
  foresight?: ForesightState;
  /** Voltage noise windows and their rise (absent in checkpoints from before it). */
  noise?: NoiseState;
  /** Stack pressure: the last reading, and one an hour over the last two days (absent before any). */
  stack?: { last_MPa: number; hourly_MPa: number[]; hourly_ms: number };
}
export interface ForesightState {
  points: GrowthPoint[];
  forecast: { t_ms: number; at_ms: number; low_ms: number; high_ms: number | null } | null;
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
  /** Hours from this sample to the standing compliance forecast; null when none stands. */
  readonly forecast_h: number | null;
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
    // Made with the state, not on first use: the per-sample step reads it, and an object that grows fields mid-run
    // changes shape under the step's property accesses (measured: 5 % of analyze's CPU).
    foresight: { points: [], forecast: null },
    noise: noiseState(),
    stack: { last_MPa: NaN, hourly_MPa: [], hourly_ms: -Infinity },
  };
}
/** A checkpointed state of another layout must not be resumed: the caller starts the cell afresh. */
export function isCurrentDetectorState(x: unknown): x is DetectorState {
  return typeof x === 'object' && x !== null && (x as { version?: unknown }).version === DETECTOR_STATE_VERSION;
}
export type Emit = (event: CellEvent) => void;
