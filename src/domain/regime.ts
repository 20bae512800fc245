import { advanceRun, isSustained, type Run } from './sustain.js';

/** A live regime: what the cell is doing now. */
export type Regime = 'stable' | 'polarization' | 'short';
/** A label for a period: a short that ended is relabelled `isolated-short`. */
export type RegimeLabel = Regime | 'isolated-short';

export interface RegimeThresholds {
  /** R_app/R_ref above which the cell is polarized (SPEC §3: 1.5). */
  readonly polarizationRatio: number;
  /** R_app/R_ref below which the cell is shorted (SPEC §3: 0.5). */
  readonly shortRatio: number;
  /** Hysteresis: a half cycle counts towards recovery from polarization when its peak ratio stays below this. */
  readonly polarizationExitRatio: number;
  /** Hysteresis: a short has ended when the ratio stays at or above this. */
  readonly shortExitRatio: number;
  readonly polarizationSustain_s: number;
  readonly shortSustain_s: number;
  readonly shortEndSustain_s: number;
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
  shortExitRatio: 0.7,
  polarizationSustain_s: 30,
  shortSustain_s: 20,
  shortEndSustain_s: 20,
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
  /** While shorted: run of samples back above the short-exit ratio. */
  readonly rebound: Run | null;
  /** While polarized: consecutive quiet half cycles, and when the first of them started. */
  readonly quietHalfCycles: number;
  readonly quietSince_ms: number;
  /** While shorted: the regime the short interrupted. */
  readonly beforeShort: Regime;
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

export function initialRegimeState(t_ms: number): RegimeState {
  return { regime: 'stable', since_ms: t_ms, high: null, low: null, rebound: null, quietHalfCycles: 0, quietSince_ms: t_ms, beforeShort: 'stable' };
}

/** Forget partial runs, e.g. at a rest or a gap in the data: evidence must not span them. */
export function resetRuns(state: RegimeState): RegimeState {
  if (state.high === null && state.low === null && state.rebound === null) return state;
  return { ...state, high: null, low: null, rebound: null };
}

/**
 * One evaluable sample (active current, settled) with its temperature-compensated R_app/R_ref.
 * Decided changes are appended to `changes`. The state object comes back unchanged when nothing moved,
 * the common case, which keeps the per-sample cost low.
 */
export function observeRatio(state: RegimeState, t_ms: number, ratio: number, th: RegimeThresholds, changes: RegimeChange[]): RegimeState {
  const g = th.graceSamples;
  const low = advanceRun(state.low, ratio < th.shortRatio, t_ms, ratio, g);

  if (state.regime === 'short') {
    const rebound = advanceRun(state.rebound, ratio >= th.shortExitRatio, t_ms, ratio, g);
    if (rebound !== null && isSustained(rebound, th.shortEndSustain_s * 1000, th.minSustainSamples)) {
      // Polarization is sticky: a short that interrupted it hands back to it once the dendrite breaks.
      const next: Regime = rebound.peak > th.polarizationRatio || state.beforeShort === 'polarization' ? 'polarization' : 'stable';
      const end_ms = rebound.start_ms;
      changes.push(
        { regime: 'isolated-short', onset_ms: state.since_ms, end_ms, detectedAt_ms: t_ms, from: 'short' },
        { regime: next, onset_ms: end_ms, detectedAt_ms: t_ms, from: 'short' },
      );
      return { ...initialRegimeState(end_ms), regime: next };
    }
    return low === state.low && rebound === state.rebound ? state : { ...state, low, rebound };
  }

  if (low !== null && isSustained(low, th.shortSustain_s * 1000, th.minSustainSamples)) {
    changes.push({ regime: 'short', onset_ms: low.start_ms, detectedAt_ms: t_ms, from: state.regime });
    return { ...initialRegimeState(low.start_ms), regime: 'short', beforeShort: state.regime };
  }

  // Only a stable cell can become polarized; a polarized one leaves through observeHalfCycleEnd.
  const high = state.regime === 'stable' ? advanceRun(state.high, ratio > th.polarizationRatio, t_ms, ratio, g) : null;
  if (high !== null && isSustained(high, th.polarizationSustain_s * 1000, th.minSustainSamples)) {
    changes.push({ regime: 'polarization', onset_ms: high.start_ms, detectedAt_ms: t_ms, from: 'stable' });
    return { ...initialRegimeState(high.start_ms), regime: 'polarization' };
  }
  return low === state.low && high === state.high ? state : { ...state, low, high };
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
    return initialRegimeState(quietSince_ms);
  }
  return { ...state, quietHalfCycles, quietSince_ms };
}
