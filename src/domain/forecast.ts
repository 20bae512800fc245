/**
 * When will a polarizing cell reach its compliance limit? A forecast from the half cycles' peak R_app/R_ref.
 *
 * Model (SPEC §2): the voltage is ohmic through the remaining contact, V = R_ref·I/f, so the contact fraction is
 * f = R_ref/R_app. Voids grow where metal is stripped, and the current is stripped through the contact that remains:
 * each unit of areal charge takes a constant share of what is left, df/dq = −k·f (first order). So ln f falls, and
 * ln(R_app/R_ref) rises, linearly with the cell's cumulative areal charge q, and the limit is reached at the charge
 * where R_app/R_ref reaches the compliance voltage over the full-contact voltage. Charge turns into time at the rate
 * the protocol has been passing it (rests and pauses included).
 *
 * The interval is the fit's 80 % prediction band crossing the limit (Student's t over the recent half cycles), widened
 * by a floor of the remaining time (MODEL_SPREAD): a growth rate that changes, as it does when voids coalesce, is
 * the usual error and the band of one straight line does not see it. No forecast while the contact is not shrinking.
 */

export interface GrowthPoint {
  /** End of the half cycle (epoch ms). */
  readonly t_ms: number;
  /** Cumulative areal charge at its end (mAh cm⁻²). */
  readonly q_mAh_cm2: number;
  /** Peak R_app/R_ref(T) in it (spike-filtered). */
  readonly ratio: number;
}

export interface ForecastOptions {
  /** Half cycles fitted: the most recent ones. */
  readonly window: number;
  /** Fewer than this and there is no forecast. */
  readonly minPoints: number;
  /** Excess ratio (R_app/R_ref − 1) below which a point says nothing of voids (noise of a stable cell). */
  readonly minExcess: number;
  /** Share of the remaining time always inside the interval, each side. */
  readonly modelSpread: number;
}

export const FORECAST_DEFAULTS: ForecastOptions = { window: 5, minPoints: 4, minExcess: 0.1, modelSpread: 0.2 };

export interface ForecastBasis {
  readonly model: 'contact-first-order-in-charge';
  /** Half cycles the line was fitted to. */
  readonly halfCycles: number;
  /** Peak R_app/R_ref of the first and last of them, and at the limit. */
  readonly fromRatio: number;
  readonly toRatio: number;
  readonly limitRatio: number;
  /** Areal charge over which the contact fraction halves (R_app/R_ref doubles). */
  readonly halving_mAh_cm2: number;
  /** Areal charge the protocol passes per hour, rests included. */
  readonly chargeRate_mAh_cm2_h: number;
}

export interface ComplianceForecast {
  readonly at_ms: number;
  readonly low_ms: number;
  /** Null when the band's slow edge never reaches the limit: no upper bound can be given. */
  readonly high_ms: number | null;
  readonly basis: ForecastBasis;
}

/** Two-sided 80 % Student's t quantiles (0.9) by degrees of freedom; 1.282 beyond the table. */
const T80 = [NaN, 3.078, 1.886, 1.638, 1.533, 1.476, 1.44, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356];
const t80 = (df: number): number => T80[df] ?? 1.282;

/**
 * The forecast from the recent half cycles' points (oldest first), or null when there is nothing to extrapolate:
 * too few points, or an excess resistance that is not growing with charge.
 */
export function forecastCompliance(points: readonly GrowthPoint[], limitRatio: number, o: ForecastOptions = FORECAST_DEFAULTS): ComplianceForecast | null {
  const fit = points.slice(-o.window).filter((p) => p.ratio - 1 >= o.minExcess && Number.isFinite(p.q_mAh_cm2));
  const n = fit.length;
  if (n < o.minPoints || !(limitRatio > 1)) return null;
  const last = fit[n - 1]!;
  const first = fit[0]!;
  if (last.ratio >= limitRatio) return null;
  const xs = fit.map((p) => p.q_mAh_cm2);
  const ys = fit.map((p) => Math.log(p.ratio));
  const qMean = xs.reduce((a, b) => a + b, 0) / n;
  const yMean = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let k = 0; k < n; k++) {
    sxx += (xs[k]! - qMean) ** 2;
    sxy += (xs[k]! - qMean) * (ys[k]! - yMean);
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  if (!(slope > 0)) return null;
  let sse = 0;
  for (let k = 0; k < n; k++) sse += (ys[k]! - (yMean + slope * (xs[k]! - qMean))) ** 2;
  const s = Math.sqrt(sse / (n - 2));
  const chargeRate_per_ms = (last.q_mAh_cm2 - first.q_mAh_cm2) / (last.t_ms - first.t_ms);
  if (!(chargeRate_per_ms > 0)) return null;
  const yLimit = Math.log(limitRatio);
  const z = t80(n - 2);
  const line = (q: number): number => yMean + slope * (q - qMean);
  const band = (q: number): number => z * s * Math.sqrt(1 + 1 / n + (q - qMean) ** 2 / sxx);
  // The charge at which the line (or an edge of its band) reaches the limit, from the last point on.
  const crossing = (edge: (q: number) => number): number | null => {
    if (edge(last.q_mAh_cm2) >= yLimit) return last.q_mAh_cm2;
    // The slow edge may bend away for good: give up beyond 100 times the charge the line needs.
    const far = last.q_mAh_cm2 + 100 * Math.max((yLimit - line(last.q_mAh_cm2)) / slope, 1e-9);
    if (edge(far) < yLimit) return null;
    let lo = last.q_mAh_cm2;
    let hi = far;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (edge(mid) >= yLimit) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  const qAt = crossing(line)!;
  const qEarly = crossing((q) => line(q) + band(q)) ?? qAt;
  const qLate = crossing((q) => line(q) - band(q));
  const timeOf = (q: number): number => last.t_ms + (q - last.q_mAh_cm2) / chargeRate_per_ms;
  const at_ms = timeOf(qAt);
  const remaining_ms = at_ms - last.t_ms;
  const low_ms = Math.min(timeOf(qEarly), at_ms - o.modelSpread * remaining_ms);
  const high_ms = qLate === null ? null : Math.max(timeOf(qLate), at_ms + o.modelSpread * remaining_ms);
  return {
    at_ms: Math.round(at_ms),
    low_ms: Math.round(Math.max(last.t_ms, low_ms)),
    high_ms: high_ms === null ? null : Math.round(high_ms),
    basis: {
      model: 'contact-first-order-in-charge',
      halfCycles: n,
      fromRatio: first.ratio,
      toRatio: last.ratio,
      limitRatio,
      halving_mAh_cm2: Math.LN2 / slope,
      chargeRate_mAh_cm2_h: chargeRate_per_ms * 3.6e6,
    },
  };
}

const hoursText = (ms: number): string => {
  const h = ms / 3.6e6;
  return h < 10 ? h.toFixed(1) : h.toFixed(0);
};

/** "compliance expected in 31 h (22–44 h) at the present rate", counted from `from_ms`. */
export function describeForecast(f: { readonly at_ms: number; readonly low_ms: number; readonly high_ms: number | null }, from_ms: number): string {
  const range =
    f.high_ms === null
      ? `at the earliest ${hoursText(f.low_ms - from_ms)} h, no upper bound`
      : `${hoursText(f.low_ms - from_ms)}–${hoursText(f.high_ms - from_ms)} h`;
  return `compliance expected in ${hoursText(f.at_ms - from_ms)} h (${range}) at the present rate`;
}
