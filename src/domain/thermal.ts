/**
 * The cell's temperature and its conductivity factor σ(T)/σ25. The logged temperature is usually the chamber's:
 * the cell follows it through a first-order lag (SPEC §2, 20–40 min), so the raw reading would move onsets by
 * hours on a day/night set-back. Without telemetry the cell sits at its nominal temperature.
 */
import { conductivityFactor } from './physics.js';

export interface ThermalState {
  /** Estimated cell temperature (°C); NaN before the first reading. */
  cell_C: number;
  /** Logged temperature held since `updated_ms` (zero-order hold: the lag update is exact for it). */
  logged_C: number;
  updated_ms: number;
  /** Whether any temperature telemetry was seen. */
  seen: boolean;
  factorFor_C: number;
  factor: number;
}

export function thermalState(): ThermalState {
  return { cell_C: NaN, logged_C: NaN, updated_ms: NaN, seen: false, factorFor_C: NaN, factor: 1 };
}

/** Lag updates at most this often between readings (the held input makes larger steps exact anyway). */
const STEP_MS = 60_000;

/**
 * Advance to `t_ms` with the logged reading (undefined: none joined to this sample) and return the cell's
 * temperature. Cheap on most samples: the exponential runs once a minute or when the reading changes.
 */
export function cellTemperature(s: ThermalState, t_ms: number, logged_C: number | undefined, lag_min: number, nominal_C: number): number {
  if (logged_C === undefined) {
    if (!s.seen) return nominal_C;
    logged_C = s.logged_C;
  }
  if (!s.seen || lag_min <= 0) {
    s.seen = true;
    s.cell_C = logged_C;
    s.logged_C = logged_C;
    s.updated_ms = t_ms;
    return logged_C;
  }
  const dt = t_ms - s.updated_ms;
  if (logged_C !== s.logged_C || dt >= STEP_MS) {
    // Exact first-order response to the reading held over [updated, t]; the new reading holds from now on.
    s.cell_C = s.logged_C + (s.cell_C - s.logged_C) * Math.exp(-dt / (lag_min * 60_000));
    s.logged_C = logged_C;
    s.updated_ms = t_ms;
  }
  return s.cell_C;
}

/** σ(T)/σ25, recomputed only when the temperature changes. */
export function temperatureFactor(s: ThermalState, temperature_C: number, ea_eV: number): number {
  if (temperature_C !== s.factorFor_C) {
    s.factorFor_C = temperature_C;
    s.factor = conductivityFactor(temperature_C, ea_eV);
  }
  return s.factor;
}
