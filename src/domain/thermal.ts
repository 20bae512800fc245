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

/**
 * What the temperature compensation cannot know for sure: the cell's lag (anywhere from none to `slowLag_min`) and
 * its activation energy (± `eaSpread_eV`). `high` scales a compensated ratio to the highest they allow: evidence of a
 * short or a leak must hold there, so that a chamber step read with the wrong lag is neither. 1 without temperature
 * telemetry, and close to 1 away from temperature changes and 25 °C. (Contact loss is judged on the compensated
 * ratio itself: a bound there would delay every slow onset on a day/night swing.)
 */
export interface ThermalBounds {
  /** The cell with the slowest lag allowed (with none, it is at the logged temperature). */
  slow: ThermalState;
  high: number;
  /** The temperatures the bounds were computed for (NaN: never). */
  forFast_C: number;
  forSlow_C: number;
  forCentral: number;
}

export function thermalBounds(): ThermalBounds {
  return { slow: thermalState(), high: 1, forFast_C: NaN, forSlow_C: NaN, forCentral: NaN };
}

export function updateThermalBounds(
  b: ThermalBounds,
  t_ms: number,
  logged_C: number | undefined,
  slowLag_min: number,
  nominal_C: number,
  ea_eV: number,
  eaSpread_eV: number,
  centralFactor: number,
): ThermalBounds {
  const fast = logged_C ?? (b.slow.seen ? b.slow.logged_C : nominal_C);
  const slow = cellTemperature(b.slow, t_ms, logged_C, slowLag_min, nominal_C);
  if (fast === b.forFast_C && slow === b.forSlow_C && centralFactor === b.forCentral) return b;
  b.forFast_C = fast;
  b.forSlow_C = slow;
  b.forCentral = centralFactor;
  let hi = centralFactor;
  for (const T of [fast, slow]) for (const ea of [ea_eV - eaSpread_eV, ea_eV, ea_eV + eaSpread_eV]) hi = Math.max(hi, conductivityFactor(T, ea));
  b.high = hi / centralFactor;
  return b;
}
