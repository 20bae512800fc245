/**
 * The cell's thermal lag and activation energy measured on the cell. A chamber step is a natural experiment: the
 * logged temperature jumps, the cell follows with its lag τ, and R_app follows the cell by Arrhenius,
 * ln R = ln R25 + Ea · (1/T − 1/298.15 K)/k_B. For each τ on a grid the lagged temperature is computed from the log,
 * ln R is regressed on it (the slope is Ea), and the τ that explains R best wins. Registry values are notebook
 * values (a lag never measured, Ea from a paper): a few hundredths of an eV off move a ratio by 4 % at 40 °C.
 *
 * Fed once a minute (the caller's minute means of a stable cell's plateau, and the log alone through rests: a
 * chamber step often comes with one); a step is fitted once the log has held steady for `settle_h` after it, on the
 * window from `before_h` ahead of it.
 */
import { BOLTZMANN_EV_PER_K, T_REF_K, ZERO_C_IN_K } from './physics.js';

export interface ThermalFitOptions {
  /** A logged change at least this large (°C) is a step. */
  readonly minStep_C: number;
  /** Steady log wanted before the step and after it (h). */
  readonly before_h: number;
  readonly settle_h: number;
  /** How long the log may keep moving after a step before the step is given up. */
  readonly maxRamp_h: number;
  /** Lags tried (min): 0 to `maxLag_min` by `lagStep_min`. */
  readonly maxLag_min: number;
  readonly lagStep_min: number;
  /** Plausible activation energies (eV): a fit outside is refused. */
  readonly minEa_eV: number;
  readonly maxEa_eV: number;
  /** Share of ln R's variance the best fit must explain. */
  readonly minR2: number;
}

export const DEFAULT_THERMAL_FIT: ThermalFitOptions = {
  minStep_C: 5,
  before_h: 1,
  settle_h: 3,
  maxRamp_h: 6,
  maxLag_min: 120,
  lagStep_min: 2,
  minEa_eV: 0.1,
  maxEa_eV: 1,
  minR2: 0.9,
};

export interface ThermalFitPoint {
  readonly t_ms: number;
  readonly logged_C: number;
  /** NaN for a minute with no plateau (a rest): the log still drives the cell's temperature. */
  readonly lnR: number;
}

export interface ThermalFit {
  readonly lag_min: number;
  readonly ea_eV: number;
  readonly r2: number;
  /** The step fitted: when the log moved, from and to (°C). */
  readonly step_ms: number;
  readonly from_C: number;
  readonly to_C: number;
}

export interface ThermalFitState {
  /** Minute points since the log was last steady before a step (bounded by the window's length). */
  points: ThermalFitPoint[];
  /** The fits so far (one per step), the last one in use. */
  fits: ThermalFit[];
}

export function thermalFitState(): ThermalFitState {
  return { points: [], fits: [] };
}

const H = 3_600_000;

/**
 * Takes one minute's point. Returns a new fit when a step has been fitted (then in `state.fits`), else null.
 * A point with no logged temperature or no plateau is simply not given (a gap in the window is fine).
 */
export function observeThermalPoint(state: ThermalFitState, p: ThermalFitPoint, o: ThermalFitOptions): ThermalFit | null {
  const pts = state.points;
  if (pts.length > 0 && p.t_ms - pts[pts.length - 1]!.t_ms > o.before_h * H) pts.length = 0; // a long gap: start again
  pts.push(p);
  // Find the step: the first point that left the first point's temperature by minStep_C.
  const base_C = pts[0]!.logged_C;
  const stepIndex = pts.findIndex((x) => Math.abs(x.logged_C - base_C) >= o.minStep_C);
  if (stepIndex < 0) {
    // No step yet: keep only the last before_h as the lead-in (a slow drift never stands a step from it).
    while (pts.length > 1 && pts[0]!.t_ms < p.t_ms - o.before_h * H) pts.shift();
    return null;
  }
  const step = pts[stepIndex]!;
  // The lead-in, steady within 1 °C, must be most of before_h long; else this is no clean experiment: the points
  // from the step on are the next lead-in.
  const moved = pts.findIndex((x) => Math.abs(x.logged_C - base_C) > 1);
  if (pts[moved]!.t_ms - pts[0]!.t_ms < 0.75 * o.before_h * H) {
    pts.splice(0, stepIndex);
    return null;
  }
  // Wait until the log has been steady for settle_h after the step (the last settle_h within 1 °C).
  if (p.t_ms - step.t_ms < o.settle_h * H) return null;
  const tail = pts.filter((x) => x.t_ms >= p.t_ms - o.settle_h * H);
  const lo = Math.min(...tail.map((x) => x.logged_C));
  const hi = Math.max(...tail.map((x) => x.logged_C));
  if (hi - lo > 1) {
    // Still moving (the chamber ramping, or the next step already): wait, up to `maxRamp_h`; then this is no clean
    // step, and the latest point starts the next lead-in.
    if (p.t_ms - step.t_ms > (o.settle_h + o.maxRamp_h) * H) state.points = [p];
    return null;
  }
  const fit = fitStep(pts, o);
  const from_C = base_C;
  const to_C = tail[tail.length - 1]!.logged_C;
  // The settled part is the lead-in of the next step.
  state.points = pts.filter((x) => x.t_ms >= p.t_ms - o.before_h * H);
  if (fit === null) return null;
  const result: ThermalFit = { ...fit, step_ms: step.t_ms, from_C, to_C };
  state.fits.push(result);
  if (state.fits.length > 16) state.fits.shift();
  return result;
}

/** Grid over τ, least squares for Ea at each: the τ with the smallest residual. Null when nothing fits well. */
export function fitStep(pts: readonly ThermalFitPoint[], o: ThermalFitOptions): { lag_min: number; ea_eV: number; r2: number } | null {
  const n = pts.length;
  let valid = 0;
  let meanY = 0;
  for (const p of pts)
    if (p.lnR === p.lnR) {
      meanY += p.lnR;
      valid++;
    }
  if (valid < 30) return null;
  meanY /= valid;
  let ssY = 0;
  for (const p of pts) if (p.lnR === p.lnR) ssY += (p.lnR - meanY) ** 2;
  if (!(ssY > 0)) return null;
  let best: { lag_min: number; ea_eV: number; ss: number } | null = null;
  const x = new Float64Array(n);
  for (let lag = 0; lag <= o.maxLag_min; lag += o.lagStep_min) {
    // The cell's temperature through a first-order lag, the reading held between points (as `cellTemperature`).
    let cell_C = pts[0]!.logged_C;
    let meanX = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        const dt = pts[i]!.t_ms - pts[i - 1]!.t_ms;
        const held = pts[i - 1]!.logged_C;
        cell_C = lag <= 0 ? pts[i]!.logged_C : held + (cell_C - held) * Math.exp(-dt / (lag * 60_000));
      }
      x[i] = (1 / (cell_C + ZERO_C_IN_K) - 1 / T_REF_K) / BOLTZMANN_EV_PER_K;
      if (pts[i]!.lnR === pts[i]!.lnR) meanX += x[i]!;
    }
    meanX /= valid;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      if (pts[i]!.lnR !== pts[i]!.lnR) continue;
      sxx += (x[i]! - meanX) ** 2;
      sxy += (x[i]! - meanX) * (pts[i]!.lnR - meanY);
    }
    if (!(sxx > 0)) continue;
    const ea = sxy / sxx;
    const ss = ssY - (sxy * sxy) / sxx;
    if (ea >= o.minEa_eV && ea <= o.maxEa_eV && (best === null || ss < best.ss)) best = { lag_min: lag, ea_eV: ea, ss };
  }
  if (best === null) return null;
  const r2 = 1 - best.ss / ssY;
  return r2 >= o.minR2 ? { lag_min: best.lag_min, ea_eV: best.ea_eV, r2 } : null;
}
