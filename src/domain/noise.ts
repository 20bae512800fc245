/**
 * Voltage noise at constant current, per window of active current, and its rise against the cell's own history: a
 * soft-short precursor. A leak path that forms and breaks shows as voltage noise before R_app drifts (Counihan et
 * al. 2023), noise that one-row-a-minute logging averages away; cyclewatch measures it on every row it gets.
 *
 * Noise is the σ of |V| from second differences within a window (mean |Δ²V| / 1.954 for white noise, so a trend or
 * the polarization's growth is not noise). A window is up to `window_s` of settled rows at one current, within one
 * half cycle; a rest, a current step or a new half cycle closes it.
 */

export interface NoiseOptions {
  readonly window_s: number;
  /** A window of fewer rows measures nothing. */
  readonly minRows: number;
  /** A row this long after the last one (a rest, a gap) starts a new window. */
  readonly maxRowGap_s: number;
  /** Windows of the cell's history compared: at the same current (±20 %) and temperature. */
  readonly historyWindows: number;
  readonly minHistory: number;
  readonly sameTemperature_C: number;
  /** Noise this many times the history's median, in `sustainWindows` windows in a row, is a rise. */
  readonly riseFactor: number;
  readonly sustainWindows: number;
  /** The rise is over when as many windows in a row are below this factor. */
  readonly clearFactor: number;
}

export const DEFAULT_NOISE: NoiseOptions = {
  window_s: 3600,
  minRows: 10,
  maxRowGap_s: 600,
  historyWindows: 48,
  minHistory: 6,
  sameTemperature_C: 2,
  riseFactor: 2,
  sustainWindows: 3,
  clearFactor: 1.3,
};

export interface NoiseWindow {
  readonly start_ms: number;
  readonly end_ms: number;
  readonly rows: number;
  readonly voltageNoise_mV: number;
  readonly absI_mA: number;
  /** The cell's temperature at the window's end; NaN without telemetry. */
  readonly temperature_C: number;
}

interface OpenWindow {
  key: number;
  start_ms: number;
  last_ms: number;
  absI_mA: number;
  v1: number;
  v2: number;
  sumAbs: number;
  n: number;
  rows: number;
}

export interface NoiseState {
  open: OpenWindow | null;
  history: { noise_mV: number; absI_mA: number; temperature_C: number }[];
  above: number;
  below: number;
  firstAbove_ms: number;
  /** The rise's onset while one is raised; NaN otherwise. */
  rising_ms: number;
  /** The last window's noise over the history's median; NaN without enough history. */
  lastFactor: number;
  lastBaseline_mV: number;
}

export function noiseState(): NoiseState {
  return { open: null, history: [], above: 0, below: 0, firstAbove_ms: NaN, rising_ms: NaN, lastFactor: NaN, lastBaseline_mV: NaN };
}

/**
 * One settled row of active current; `key` names the half cycle it is in. Returns the window it closed, if the row
 * started a new one and the old one had enough rows.
 */
export function noiseRow(s: NoiseState, t_ms: number, absV: number, absI_mA: number, key: number, temperature_C: number, o: NoiseOptions): NoiseWindow | null {
  const w = s.open;
  let closed: NoiseWindow | null = null;
  if (
    w !== null &&
    (w.key !== key || t_ms - w.start_ms >= o.window_s * 1000 || t_ms - w.last_ms > o.maxRowGap_s * 1000 || Math.abs(absI_mA - w.absI_mA) > 0.1 * w.absI_mA)
  ) {
    closed = closeNoiseWindow(s, temperature_C, o);
  }
  const open = s.open;
  if (open === null) {
    s.open = { key, start_ms: t_ms, last_ms: t_ms, absI_mA, v1: absV, v2: NaN, sumAbs: 0, n: 0, rows: 1 };
    return closed;
  }
  if (open.v2 === open.v2) {
    const d2 = absV - 2 * open.v1 + open.v2;
    open.sumAbs += d2 < 0 ? -d2 : d2;
    open.n++;
  }
  open.v2 = open.v1;
  open.v1 = absV;
  open.last_ms = t_ms;
  open.rows++;
  return closed;
}

/** Close the open window (a rest began, the record ended); null when it had too few rows. */
export function closeNoiseWindow(s: NoiseState, temperature_C: number, o: NoiseOptions): NoiseWindow | null {
  const w = s.open;
  s.open = null;
  if (w === null || w.rows < o.minRows || w.n === 0) return null;
  return {
    start_ms: w.start_ms,
    end_ms: w.last_ms,
    rows: w.rows,
    voltageNoise_mV: (w.sumAbs / w.n / 1.954) * 1000,
    absI_mA: w.absI_mA,
    temperature_C,
  };
}

export type NoiseChange = 'raised' | 'cleared' | null;

/** A closed window against the cell's history: whether a rise began or ended with it. */
export function observeNoiseWindow(s: NoiseState, w: NoiseWindow, o: NoiseOptions): NoiseChange {
  const comparable = s.history.filter(
    (h) =>
      Math.abs(h.absI_mA - w.absI_mA) <= 0.2 * w.absI_mA &&
      (!(h.temperature_C === h.temperature_C && w.temperature_C === w.temperature_C) || Math.abs(h.temperature_C - w.temperature_C) <= o.sameTemperature_C),
  );
  const baseline = comparable.length >= o.minHistory ? median(comparable.map((h) => h.noise_mV)) : NaN;
  const factor = w.voltageNoise_mV / baseline;
  s.lastFactor = factor;
  s.lastBaseline_mV = baseline;
  const high = factor >= o.riseFactor;
  let change: NoiseChange = null;
  if (s.rising_ms !== s.rising_ms) {
    if (high) {
      if (s.above === 0) s.firstAbove_ms = w.start_ms;
      s.above++;
      if (s.above >= o.sustainWindows) {
        s.rising_ms = s.firstAbove_ms;
        s.below = 0;
        change = 'raised';
      }
    } else {
      s.above = 0;
      // Only the cell's quiet windows make its history.
      s.history.push({ noise_mV: w.voltageNoise_mV, absI_mA: w.absI_mA, temperature_C: w.temperature_C });
      if (s.history.length > o.historyWindows) s.history.shift();
    }
  } else {
    s.below = factor < o.clearFactor ? s.below + 1 : 0;
    if (s.below >= o.sustainWindows) {
      s.rising_ms = NaN;
      s.above = 0;
      change = 'cleared';
    }
  }
  return change;
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}
