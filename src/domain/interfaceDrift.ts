/**
 * Interface growth: R_app rising slowly and evenly — flat within each half cycle, no recovery at reversal — at steady
 * current and near the reference temperature. An interphase or SEI thickening on Li | LLZO is like that; contact loss
 * is not (Eq. 1: the ratio grows within a half cycle and falls back at reversal). Against a fixed reference it would
 * read as polarization after enough hours, and its contact fraction as contact lost.
 *
 * Each eligible half cycle gives a level: its lowest smoothed ratio, times what the reference has followed so far.
 * When the levels of the latest `window_h` stand `minGrowth` above those of the first `window_h`, one info alert
 * says so with its rate, and from then on the reference follows the level (within `maxFollow`), so that the ratio and
 * the contact fraction keep measuring contact.
 */

import { median } from './stats.js';

export interface InterfaceDriftOptions {
  /** Growth of the level between the first and the latest window that is called interface growth. */
  readonly minGrowth: number;
  readonly window_h: number;
  /** A half cycle whose ratio rose more than this within it (peak/lowest − 1) is contact loss, not a level. */
  readonly maxRiseWithin: number;
  /** Only half cycles this close to the reference temperature (°C): compensation errors are no growth. */
  readonly temperatureBand_C: number;
  /** The reference follows up to this multiple of itself. */
  readonly maxFollow: number;
}

export const DEFAULT_INTERFACE_DRIFT: InterfaceDriftOptions = { minGrowth: 0.1, window_h: 24, maxRiseWithin: 0.15, temperatureBand_C: 3, maxFollow: 3 };

export interface InterfaceDriftState {
  /** Median level of the first window (NaN until it is complete) and when that window began. */
  baseline: number;
  baselineFrom_ms: number;
  /** Levels not yet summarised: the first window's, then the latest window's. */
  levels: { t_ms: number; level: number }[];
  /** The growth was reported (the alert is raised once). */
  raised: boolean;
  /** What the reference has been multiplied by (1 until raised). */
  follow: number;
  /** The growth per 100 h when it was called (absent before). */
  growth_per100h?: number;
}

export function interfaceDriftState(): InterfaceDriftState {
  return { baseline: NaN, baselineFrom_ms: NaN, levels: [], raised: false, follow: 1 };
}

/** One half cycle as the drift sees it. */
export interface HalfCycleLevel {
  readonly t_ms: number;
  /** Lowest and highest smoothed R_app/R_ref within it (against the reference as it is now). */
  readonly lowRatio: number;
  readonly highRatio: number;
  /** Highest and lowest cell temperature while it was judged (°C), and the reference temperature. */
  readonly temperatureMin_C: number;
  readonly temperatureMax_C: number;
  readonly reference_C: number;
}

export interface InterfaceGrowth {
  /** Growth between the windows' medians (0.12 = +12 %), over `span_h`, and per 100 h (same unit). */
  readonly growth: number;
  readonly span_h: number;
  readonly growth_per100h: number;
}

/**
 * Takes one half cycle's level (a stable cell's, with a quiet plateau: the caller decides). Returns the growth the
 * first time it is called interface growth; `state.follow` is then what the reference is to be multiplied by.
 */
export function observeInterfaceLevel(state: InterfaceDriftState, h: HalfCycleLevel, o: InterfaceDriftOptions): InterfaceGrowth | null {
  if (!(h.lowRatio > 0) || h.highRatio / h.lowRatio - 1 > o.maxRiseWithin) return null;
  if (Math.max(Math.abs(h.temperatureMin_C - h.reference_C), Math.abs(h.temperatureMax_C - h.reference_C)) > o.temperatureBand_C) return null;
  const window_ms = o.window_h * 3_600_000;
  const level = h.lowRatio * state.follow;
  if (state.baselineFrom_ms !== state.baselineFrom_ms) state.baselineFrom_ms = h.t_ms;
  if (state.baseline !== state.baseline) {
    if (h.t_ms - state.baselineFrom_ms < window_ms) {
      state.levels.push({ t_ms: h.t_ms, level });
      return null;
    }
    state.baseline = median(state.levels.map((l) => l.level));
    state.levels = [];
  }
  state.levels.push({ t_ms: h.t_ms, level });
  while (state.levels.length > 0 && state.levels[0]!.t_ms < h.t_ms - window_ms) state.levels.shift();
  // The latest window must be full and clear of the first one.
  const since_ms = h.t_ms - state.baselineFrom_ms;
  if (since_ms < 2 * window_ms || state.levels.length < 3) return null;
  const recent = median(state.levels.map((l) => l.level));
  const growth = recent / state.baseline - 1;
  if (state.raised) {
    state.follow = Math.min(o.maxFollow, Math.max(1, recent / state.baseline));
    return null;
  }
  if (growth < o.minGrowth) return null;
  state.raised = true;
  state.follow = Math.min(o.maxFollow, recent / state.baseline);
  // From the middle of the first window to the middle of the latest.
  const span_h = (since_ms - window_ms) / 3_600_000;
  state.growth_per100h = (100 * growth) / span_h;
  return { growth, span_h, growth_per100h: state.growth_per100h };
}
