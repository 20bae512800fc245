/**
 * The batch view: a Weibull fit to the lives of cells of one batch (time to the first short, or the CCD), cells that
 * did not fail counted as surviving to their end (right-censored), as reliability work does. Maximum likelihood
 * (the shape by bisection on the profile equation, the scale from it); 90 % intervals from the observed information
 * on (ln scale, ln shape), carried to the quantiles by the delta method. With few cells the intervals are wide, and
 * say so.
 */

export interface Life {
  /** Hours (time to short) or mA cm⁻² (CCD): any positive measure of how much the cell took. */
  readonly value: number;
  /** False when the cell had not failed by `value` (its run ended first). */
  readonly failed: boolean;
}

export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

export interface WeibullFit {
  readonly cells: number;
  readonly failures: number;
  readonly shape: Interval;
  readonly scale: Interval;
  /** Life by which half the cells fail, and one in ten. */
  readonly median: Interval;
  readonly p10: Interval;
}

/** Two-sided 90 %. */
const Z90 = 1.6449;

function logLikelihood(lives: readonly Life[], lnScale: number, lnShape: number): number {
  const k = Math.exp(lnShape);
  const lambda = Math.exp(lnScale);
  let ll = 0;
  for (const l of lives) {
    const z = l.value / lambda;
    if (l.failed) ll += lnShape - lnScale + (k - 1) * Math.log(z);
    ll -= z ** k;
  }
  return ll;
}

/** The fit, or null with fewer than two failures or lives all alike (no spread to fit a shape to). */
export function fitWeibull(lives: readonly Life[]): WeibullFit | null {
  const ok = lives.filter((l) => l.value > 0 && Number.isFinite(l.value));
  const fails = ok.filter((l) => l.failed);
  const r = fails.length;
  if (r < 2) return null;
  const lnFail = fails.reduce((a, l) => a + Math.log(l.value), 0) / r;
  if (fails.every((l) => l.value === fails[0]!.value)) return null;
  // Profile equation in the shape k: 1/k + mean ln t (failures) − Σ t^k ln t / Σ t^k = 0, decreasing in k.
  const g = (k: number): number => {
    let sw = 0;
    let swl = 0;
    const tMax = Math.max(...ok.map((l) => l.value));
    for (const l of ok) {
      const w = (l.value / tMax) ** k; // scaled against overflow; the ratio is unchanged
      sw += w;
      swl += w * Math.log(l.value);
    }
    return 1 / k + lnFail - swl / sw;
  };
  let lo = 1e-3;
  let hi = 100;
  if (g(hi) > 0) return null;
  for (let i = 0; i < 200; i++) {
    const mid = Math.sqrt(lo * hi);
    if (g(mid) > 0) lo = mid;
    else hi = mid;
  }
  const k = Math.sqrt(lo * hi);
  const lambda = (ok.reduce((a, l) => a + l.value ** k, 0) / r) ** (1 / k);
  const a = Math.log(lambda);
  const b = Math.log(k);
  // Observed information on (a, b) by central differences of the log-likelihood.
  const h = 1e-4;
  const f = (da: number, db: number): number => logLikelihood(ok, a + da, b + db);
  const f0 = f(0, 0);
  const haa = (f(h, 0) - 2 * f0 + f(-h, 0)) / (h * h);
  const hbb = (f(0, h) - 2 * f0 + f(0, -h)) / (h * h);
  const hab = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h);
  const det = haa * hbb - hab * hab;
  // Covariance = (−H)⁻¹.
  const vaa = -hbb / det;
  const vbb = -haa / det;
  const vab = hab / det;
  const logInterval = (estimate: number, variance: number): Interval => {
    const sd = Math.sqrt(Math.max(0, variance));
    return { estimate, low: estimate * Math.exp(-Z90 * sd), high: estimate * Math.exp(Z90 * sd) };
  };
  const quantile = (p: number): Interval => {
    const c = Math.log(-Math.log(1 - p));
    // ln t_p = a + c·e^(−b): gradient (1, −c·e^(−b)).
    const gb = -c / k;
    return logInterval(lambda * Math.exp(c / k), vaa + 2 * gb * vab + gb * gb * vbb);
  };
  return {
    cells: ok.length,
    failures: r,
    shape: logInterval(k, vbb),
    scale: logInterval(lambda, vaa),
    median: quantile(0.5),
    p10: quantile(0.1),
  };
}
