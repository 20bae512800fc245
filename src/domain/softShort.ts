/**
 * Soft short (SPEC §3): a partial electronic leak. R_app drifts well below the calibrated baseline, not explained
 * by temperature (the ratio is temperature-compensated), often with rising voltage noise, sometimes recovering,
 * often ending in a hard short. It is a warning, once per episode; the regime changes only by the short rules.
 */
import { advanceRun, isSustained, type Run } from './sustain.js';

export interface SoftShortOptions {
  /** R_app/R_ref(T) below this, sustained, opens an episode. */
  readonly ratio: number;
  /** The episode ends when the ratio is back above this, sustained. */
  readonly endRatio: number;
  readonly sustain_s: number;
  readonly minSamples: number;
  readonly graceSamples: number;
}

export const DEFAULT_SOFT_SHORT: SoftShortOptions = { ratio: 0.75, endRatio: 0.9, sustain_s: 600, minSamples: 5, graceSamples: 3 };

export interface SoftShortState {
  run: Run | null;
  back: Run | null;
  /** Onset of the open episode (ms), NaN when none is open. */
  onset_ms: number;
  episodes: number;
}

export function softShortState(): SoftShortState {
  return { run: null, back: null, onset_ms: NaN, episodes: 0 };
}

export type SoftShortChange = 'opened' | 'closed' | null;

/** One judged sample with a reference. `shorted`: a hard short is in progress (it speaks for itself). */
export function observeSoftShort(s: SoftShortState, t_ms: number, ratio: number, shorted: boolean, o: SoftShortOptions): SoftShortChange {
  if (s.onset_ms !== s.onset_ms) {
    if (shorted) {
      s.run = null;
      return null;
    }
    s.run = advanceRun(s.run, ratio < o.ratio, t_ms, ratio, o.graceSamples);
    if (!isSustained(s.run, o.sustain_s * 1000, o.minSamples)) return null;
    s.onset_ms = s.run!.start_ms;
    s.run = null;
    s.back = null;
    s.episodes++;
    return 'opened';
  }
  s.back = advanceRun(s.back, !shorted && ratio >= o.endRatio, t_ms, ratio, o.graceSamples);
  if (!isSustained(s.back, o.sustain_s * 1000, o.minSamples)) return null;
  s.onset_ms = NaN;
  s.back = null;
  return 'closed';
}

/** Forget partial evidence (rest, gap). */
export function resetSoftShortRuns(s: SoftShortState): void {
  s.run = null;
  s.back = null;
}
