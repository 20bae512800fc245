import { advanceRun, isSustained, type Run } from './sustain.js';

/**
 * A live regime: what the cell is doing now. `learning`: no reference yet, so only the reference-free short test
 * runs; `not-symmetric`: the cell is outside the model (no regime calls at all).
 */
export type Regime = 'learning' | 'stable' | 'polarization' | 'short' | 'not-symmetric';
/** A label for a period: a short that ended is relabelled `isolated-short`. */
export type RegimeLabel = Regime | 'isolated-short';

/**
 * A number per regime, for stores and alert rules that compare numbers (Grafana thresholds): ordered so that the
 * short is the highest (code 4), and a rule "short now" is `last(regimeCode) > 3.5`.
 */
export const REGIME_CODES: Readonly<Record<Regime, number>> = { learning: 0, stable: 1, polarization: 2, 'not-symmetric': 3, short: 4 };
export const REGIME_LABELS: readonly RegimeLabel[] = ['learning', 'stable', 'polarization', 'short', 'isolated-short', 'not-symmetric'];

export interface RegimeThresholds {
  /** R_app/R_ref above which the cell is polarized (SPEC §3: 1.5). */
  readonly polarizationRatio: number;
  /** R_app/R_ref below which the cell is shorted (SPEC §3: 0.5). */
  readonly shortRatio: number;
  /** Hysteresis: a half cycle counts towards recovery from polarization when its peak ratio stays below this. */
  readonly polarizationExitRatio: number;
  /**
   * A short has ended when R_app(25 °C) is back to this fraction of its pre-short level (or at polarization):
   * a partial rebound is a leaky path still there, not a broken dendrite.
   */
  readonly shortEndLevelFraction: number;
  readonly polarizationSustain_s: number;
  readonly shortSustain_s: number;
  /** A short ends fast when the voltage jumps to polarization (the dendrite broke) ... */
  readonly shortEndSustain_s: number;
  /** ... and slowly when it only returns to its pre-short level: a leak that flickers is still a leak. */
  readonly shortEndLevelSustain_s: number;
  /** A sustained condition also needs this many samples (so that two samples across a gap are not "sustained"). */
  readonly minSustainSamples: number;
  /** Contrary samples tolerated inside a run (spikes). */
  readonly graceSamples: number;
  /** Complete half cycles below `polarizationExitRatio` needed to leave polarization. */
  readonly recoveryHalfCycles: number;
}

export const DEFAULT_REGIME_THRESHOLDS: RegimeThresholds = {
  polarizationRatio: 1.5,
  shortRatio: 0.5,
  polarizationExitRatio: 1.3,
  shortEndLevelFraction: 0.9,
  polarizationSustain_s: 30,
  shortSustain_s: 20,
  shortEndSustain_s: 20,
  shortEndLevelSustain_s: 600,
  minSustainSamples: 3,
  graceSamples: 2,
  recoveryHalfCycles: 2,
};

export interface RegimeState {
  readonly regime: Regime;
  /** Estimated onset of the current regime (event time). */
  readonly since_ms: number;
  readonly high: Run | null;
  readonly low: Run | null;
  /** While shorted: run of samples back at the pre-short level or at polarization. */
  readonly rebound: Run | null;
  /** While polarized: consecutive quiet half cycles, and when the first of them started. */
  readonly quietHalfCycles: number;
  readonly quietSince_ms: number;
  /** While shorted: the regime the short interrupted, and R_app(25 °C) before it (Ω; NaN if unknown). */
  readonly beforeShort: Regime;
  readonly preShortLevel_ohm: number;
}

/**
 * One judged sample (active current, settled). `ratio` is R_app/R_ref(T), NaN without a reference; `collapsed`
 * is the reference-free short test (|V| collapsed to near zero while the set current flows). `smooth*` are the
 * same over the last minute of event time: noisy rows (record-on-change logging) must not decide a slow change.
 * `level_ohm` is the running healthy R_app(25 °C). The caller reuses one object: nothing here may keep it.
 */
export interface Observation {
  t_ms: number;
  /**
   * Sparse logging (a row per ≥ the sustain time, e.g. every 600 s) cannot show three rows in the sustain window:
   * there a row above the threshold that continues a rising trend of its half cycle (not a spike) is evidence.
   */
  trend: boolean;
  ratio: number;
  smoothRatio: number;
  /** The plateau is noisy (per-row noise of the ratio ≥ 10 %: a few mV against the instrument's noise): a short is
   * judged on the smoothed ratio, lest the noise's dips read as one. */
  noisy: boolean;
  /** What the temperature compensation leaves open (≥ 1): a short must show at `ratio × thermalHigh`. */
  thermalHigh: number;
  collapsed: boolean;
  smoothR25_ohm: number;
  level_ohm: number;
}

/** A decided change. For `isolated-short`, `onset_ms` is the start of the short episode and `end_ms` its end. */
export interface RegimeChange {
  readonly regime: RegimeLabel;
  readonly onset_ms: number;
  readonly detectedAt_ms: number;
  readonly end_ms?: number;
  /** The regime before this change (for de-duplicating alerts). */
  readonly from: Regime;
}

export function initialRegimeState(t_ms: number, regime: Regime = 'learning'): RegimeState {
  return {
    regime,
    since_ms: t_ms,
    high: null,
    low: null,
    rebound: null,
    quietHalfCycles: 0,
    quietSince_ms: t_ms,
    beforeShort: regime,
    preShortLevel_ohm: NaN,
  };
}

/** Forget partial runs, e.g. at a rest or a gap in the data: evidence must not span them. */
export function resetRuns(state: RegimeState): RegimeState {
  if (state.high === null && state.low === null && state.rebound === null) return state;
  return { ...state, high: null, low: null, rebound: null };
}

/** The reference now exists: a learning cell becomes stable (a short in progress hands back to stable). */
export function referenceReady(state: RegimeState, t_ms: number, changes: RegimeChange[]): RegimeState {
  if (state.regime === 'short') return state.beforeShort === 'learning' ? { ...state, beforeShort: 'stable' } : state;
  if (state.regime !== 'learning') return state;
  changes.push({ regime: 'stable', onset_ms: t_ms, detectedAt_ms: t_ms, from: 'learning' });
  return initialRegimeState(t_ms, 'stable');
}

/** The cell is outside the model: no more regime calls. */
export function notSymmetric(state: RegimeState, t_ms: number, changes: RegimeChange[]): RegimeState {
  if (state.regime === 'not-symmetric') return state;
  changes.push({ regime: 'not-symmetric', onset_ms: t_ms, detectedAt_ms: t_ms, from: state.regime });
  return initialRegimeState(t_ms, 'not-symmetric');
}

/**
 * One judged sample. Decided changes are appended to `changes`. The state object comes back unchanged when
 * nothing moved, the common case, which keeps the per-sample cost low.
 */
export function observe(state: RegimeState, x: Observation, th: RegimeThresholds, changes: RegimeChange[]): RegimeState {
  if (state.regime === 'not-symmetric') return state;
  const g = th.graceSamples;
  const t_ms = x.t_ms;
  const hasRef = x.ratio === x.ratio;
  const low = advanceRun(state.low, x.collapsed || (hasRef && (x.noisy ? x.smoothRatio : x.ratio) * x.thermalHigh < th.shortRatio), t_ms, x.ratio, g);

  if (state.regime === 'short') {
    const polarized = hasRef && x.ratio > th.polarizationRatio;
    const back = polarized || x.smoothR25_ohm >= th.shortEndLevelFraction * state.preShortLevel_ohm;
    const rebound = advanceRun(state.rebound, back && !x.collapsed, t_ms, hasRef ? x.ratio : 0, g);
    const need_s = rebound !== null && rebound.peak > th.polarizationRatio ? th.shortEndSustain_s : th.shortEndLevelSustain_s;
    if (rebound !== null && isSustained(rebound, need_s * 1000, th.minSustainSamples)) {
      // Polarization is sticky: a short that interrupted it hands back to it once the dendrite breaks.
      const next: Regime =
        rebound.peak > th.polarizationRatio || state.beforeShort === 'polarization' ? 'polarization' : state.beforeShort === 'learning' ? 'learning' : 'stable';
      const end_ms = rebound.start_ms;
      changes.push(
        { regime: 'isolated-short', onset_ms: state.since_ms, end_ms, detectedAt_ms: t_ms, from: 'short' },
        { regime: next, onset_ms: end_ms, detectedAt_ms: t_ms, from: 'short' },
      );
      return initialRegimeState(end_ms, next);
    }
    return low === state.low && rebound === state.rebound ? state : { ...state, low, rebound };
  }

  if (low !== null && isSustained(low, th.shortSustain_s * 1000, th.minSustainSamples)) {
    changes.push({ regime: 'short', onset_ms: low.start_ms, detectedAt_ms: t_ms, from: state.regime });
    return { ...initialRegimeState(low.start_ms, 'short'), beforeShort: state.regime, preShortLevel_ohm: x.level_ohm };
  }

  // Only a stable cell can become polarized; a polarized one leaves through observeHalfCycleEnd.
  const high = state.regime === 'stable' ? advanceRun(state.high, x.smoothRatio > th.polarizationRatio, t_ms, x.ratio, g) : null;
  const sparseEvidence = x.trend && x.ratio > th.polarizationRatio && state.regime === 'stable';
  if ((high !== null && isSustained(high, th.polarizationSustain_s * 1000, th.minSustainSamples)) || sparseEvidence) {
    const onset_ms = high?.start_ms ?? t_ms;
    changes.push({ regime: 'polarization', onset_ms, detectedAt_ms: t_ms, from: 'stable' });
    return initialRegimeState(onset_ms, 'polarization');
  }
  return low === state.low && high === state.high ? state : { ...state, low, high };
}

/**
 * Sparse logging: the half cycle's ratio, extrapolated from its last rows to its end, crossed the threshold at
 * `onset_ms` (the rows themselves stop up to one logging interval before the end, where polarization peaks).
 */
export function observeExtrapolatedCrossing(state: RegimeState, onset_ms: number, t_ms: number, changes: RegimeChange[]): RegimeState {
  if (state.regime !== 'stable') return state;
  changes.push({ regime: 'polarization', onset_ms, detectedAt_ms: t_ms, from: 'stable' });
  return initialRegimeState(onset_ms, 'polarization');
}

/**
 * A half cycle ended. Leaving polarization needs `recoveryHalfCycles` complete half cycles whose
 * (spike-filtered) peak ratio stayed below the exit ratio.
 */
export function observeHalfCycleEnd(
  state: RegimeState,
  halfCycle: { readonly start_ms: number; readonly peakRatio: number; readonly evaluated: boolean },
  t_ms: number,
  th: RegimeThresholds,
  changes: RegimeChange[],
): RegimeState {
  if (state.regime !== 'polarization' || !halfCycle.evaluated) return state;
  if (halfCycle.peakRatio >= th.polarizationExitRatio) return state.quietHalfCycles === 0 ? state : { ...state, quietHalfCycles: 0 };
  const quietSince_ms = state.quietHalfCycles === 0 ? halfCycle.start_ms : state.quietSince_ms;
  const quietHalfCycles = state.quietHalfCycles + 1;
  if (quietHalfCycles >= th.recoveryHalfCycles) {
    changes.push({ regime: 'stable', onset_ms: quietSince_ms, detectedAt_ms: t_ms, from: 'polarization' });
    return initialRegimeState(quietSince_ms, 'stable');
  }
  return { ...state, quietHalfCycles, quietSince_ms };
}
