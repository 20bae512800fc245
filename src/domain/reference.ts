/**
 * R_ref calibration (SPEC §2): the reference resistance at 25 °C is measured on the cell's own early stable
 * plateau, after conditioning (contact improves over the first hours, e.g. 43 → 38 Ω). Registry σ, d, A give the
 * theoretical value, reported beside it; notebook values are routinely 5–25 % off and an interface resistance
 * can dominate, so the measured value is the one used unless the cell asks for `referenceMode: configured`.
 */
import { pushDecimated, quantile, decimatedSeries, type DecimatedSeries } from './stats.js';

export interface CalibrationOptions {
  /** A chunk (one learning measurement) ends with its half cycle or after this much active time (s). */
  readonly chunk_s: number;
  /** Chunks and active hours needed before the plateau test may end calibration. */
  readonly minChunks: number;
  readonly min_h: number;
  /** Calibration ends at the latest after this many hours of active current. */
  readonly max_h: number;
  /** The last `plateauChunks` chunk medians within this fraction of each other: conditioning is over. */
  readonly plateauTolerance: number;
  readonly plateauChunks: number;
  /** Chunks need at least this many samples to count. */
  readonly minSamples: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = {
  chunk_s: 3600,
  minChunks: 4,
  min_h: 2,
  max_h: 8,
  plateauTolerance: 0.03,
  plateauChunks: 3,
  minSamples: 3,
};

export type ReferenceSource = 'calibrated' | 'configured' | 'provisional' | 'none';

export interface CalibrationState {
  /** Medians of R_app(25 °C) per chunk (Ω). */
  chunks: number[];
  current: DecimatedSeries;
  chunkStart_ms: number;
  chunkActive_ms: number;
  active_ms: number;
}

export function calibrationState(): CalibrationState {
  return { chunks: [], current: decimatedSeries(), chunkStart_ms: NaN, chunkActive_ms: 0, active_ms: 0 };
}

/** One settled active sample's R_app at 25 °C, with the active time since the previous one. */
export function calibrate(c: CalibrationState, r25_ohm: number, dt_ms: number): void {
  pushDecimated(c.current, r25_ohm);
  c.chunkActive_ms += dt_ms;
  c.active_ms += dt_ms;
}

/** Whether the open chunk has run its length (the caller then closes it). */
export function chunkFull(c: CalibrationState, o: CalibrationOptions): boolean {
  return c.chunkActive_ms >= o.chunk_s * 1000;
}

/** Close the open chunk (end of a half cycle, a rest, a gap or a full chunk). */
export function closeChunk(c: CalibrationState, o: CalibrationOptions): void {
  if (c.current.values.length >= o.minSamples) c.chunks.push(quantile(c.current.values, 0.5)!);
  c.current = decimatedSeries();
  c.chunkActive_ms = 0;
}

/**
 * The calibrated R_ref(25 °C) once conditioning is over, else null. Plateau: the last chunks agree within the
 * tolerance (their median is the reference). At the time cap: the best contact any settled chunk showed, ignoring
 * outliers below 0.8× the typical chunk (a transient or a leak must not become the reference).
 */
export function calibratedReference(c: CalibrationState, o: CalibrationOptions, final = false): number | null {
  const n = c.chunks.length;
  if (n === 0) return null;
  const active_h = c.active_ms / 3.6e6;
  if (n >= o.minChunks && active_h >= o.min_h && n >= o.plateauChunks) {
    const last = c.chunks.slice(n - o.plateauChunks);
    const lo = Math.min(...last);
    const hi = Math.max(...last);
    // The best contact of the plateau: conditioning only ever lowers R_app towards it.
    if (hi <= lo * (1 + o.plateauTolerance)) return lo;
  }
  if (!final && active_h < o.max_h) return null;
  const typical = quantile(c.chunks, 0.5)!;
  return Math.min(...c.chunks.filter((r) => r >= 0.8 * typical));
}
