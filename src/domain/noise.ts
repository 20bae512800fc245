/**
 * Voltage noise at constant current, per window of active current, and its rise against the cell's own history: a
 * soft-short precursor. A leak path that forms and breaks shows as voltage noise before R_app drifts (Counihan et
 * al. 2023), noise that one-row-a-minute logging averages away; cyclewatch measures it on every row it gets.
 *
 * A window is up to `window_s` of a half cycle's judged rows (a rest or the half cycle's end closes it). Its noise is
 * read from the running sums the half cycle keeps anyway: the ratio's relative second differences (so a trend, the
 * polarization's own rise, is no noise; mean |Δ²| / 1.954 for white noise) times the window's mean |V|. So the
 * per-row cost is one comparison.
 */

export interface NoiseOptions {
  readonly window_s: number;
  /** A window of fewer rows measures nothing. */
  readonly minRows: number;
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
  historyWindows: 48,
  minHistory: 6,
  sameTemperature_C: 2,
  riseFactor: 2,
  sustainWindows: 3,
  clearFactor: 1.3,
};

/** A half cycle's running sums (HalfCycleAcc's): the ratio's relative second differences, and the settled |V|. */
export interface NoiseSums {
  readonly index: number;
  readonly noiseAbs?: number;
  readonly noiseN?: number;
  readonly sumSettledAbsV?: number;
  readonly nSettled?: number;
}

export interface NoiseWindow {
  readonly start_ms: number;
  readonly end_ms: number;
  readonly rows: number;
  readonly voltageNoise_mV: number;
  readonly absI_mA: number;
  /** The cell's temperature at the window's end; NaN without telemetry. */
  readonly temperature_C: number;
}

export interface NoiseState {
  /** The open window's half cycle (−1: none open), its span, and the sums at its start. */
  key: number;
  start_ms: number;
  end_ms: number;
  abs0: number;
  n0: number;
  v0: number;
  c0: number;
  absI_mA: number;
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
  return {
    key: -1,
    start_ms: NaN,
    end_ms: -Infinity,
    abs0: 0,
    n0: 0,
    v0: 0,
    c0: 0,
    absI_mA: NaN,
    history: [],
    above: 0,
    below: 0,
    firstAbove_ms: NaN,
    rising_ms: NaN,
    lastFactor: NaN,
    lastBaseline_mV: NaN,
  };
}

/** Whether a row at `t_ms` of half cycle `index` is outside the open window (the caller then rolls it). */
export const outsideNoiseWindow = (s: NoiseState, t_ms: number, index: number): boolean => t_ms >= s.end_ms || index !== s.key;

/**
 * Close the open window at a row of the same half cycle (its sums) and open the next one there. A window of
 * another half cycle was closed when that one ended.
 */
export function rollNoiseWindow(s: NoiseState, t_ms: number, sums: NoiseSums, absI_mA: number, temperature_C: number, o: NoiseOptions): NoiseWindow | null {
  const closed = s.key === sums.index ? closeNoiseWindow(s, sums, t_ms, temperature_C, o) : null;
  s.key = sums.index;
  s.start_ms = t_ms;
  s.end_ms = t_ms + o.window_s * 1000;
  s.abs0 = sums.noiseAbs ?? 0;
  s.n0 = sums.noiseN ?? 0;
  s.v0 = sums.sumSettledAbsV ?? 0;
  s.c0 = sums.nSettled ?? 0;
  s.absI_mA = absI_mA;
  return closed;
}

/** Close the open window with its half cycle's sums now (a rest began, the half cycle ended); null when too few rows. */
export function closeNoiseWindow(s: NoiseState, sums: NoiseSums, end_ms: number, temperature_C: number, o: NoiseOptions): NoiseWindow | null {
  if (s.key !== sums.index) return null;
  s.key = -1;
  s.end_ms = -Infinity;
  const n = (sums.noiseN ?? 0) - s.n0;
  const rows = (sums.nSettled ?? 0) - s.c0;
  if (n < o.minRows || rows <= 0) return null;
  const relative = ((sums.noiseAbs ?? 0) - s.abs0) / n / 1.954;
  const meanAbsV = ((sums.sumSettledAbsV ?? 0) - s.v0) / rows;
  return { start_ms: s.start_ms, end_ms: end_ms, rows, voltageNoise_mV: relative * meanAbsV * 1000, absI_mA: s.absI_mA, temperature_C };
}

export type NoiseChange = 'raised' | 'cleared' | null;

/**
 * A closed window against the cell's history: whether a rise began or ended with it. Only a stable cell's windows
 * are judged (`judge`): a polarizing cell's voltage, and with it its noise, grows tenfold within a half cycle, and a
 * soft short grows out of a stable cell. The others are compared for the record only.
 */
export function observeNoiseWindow(s: NoiseState, w: NoiseWindow, o: NoiseOptions, judge = true): NoiseChange {
  const comparable = s.history.filter(
    (h) =>
      Math.abs(h.absI_mA - w.absI_mA) <= 0.2 * w.absI_mA &&
      (!(h.temperature_C === h.temperature_C && w.temperature_C === w.temperature_C) || Math.abs(h.temperature_C - w.temperature_C) <= o.sameTemperature_C),
  );
  const baseline = comparable.length >= o.minHistory ? median(comparable.map((h) => h.noise_mV)) : NaN;
  const factor = w.voltageNoise_mV / baseline;
  s.lastFactor = factor;
  s.lastBaseline_mV = baseline;
  if (!judge) return null;
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
