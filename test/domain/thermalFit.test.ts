/**
 * The thermal lag and activation energy read off a chamber step: R_app following the lagged cell by Arrhenius gives
 * back the lag and Ea it was made with; a ramp, drift, noise alone or a too-short lead-in give no fit.
 */
import { describe, expect, it } from 'vitest';
import { conductivityFactor } from '../../src/domain/physics.js';
import { DEFAULT_THERMAL_FIT, fitStep, observeThermalPoint, thermalFitState, type ThermalFitPoint } from '../../src/domain/thermalFit.js';

const H = 3_600_000;

/** Minute points: the chamber at `chamber(t_h)`, the cell lagging `lag_min`, R = 35 Ω at 25 °C with `ea_eV`. */
function points(hours: number, chamber: (t_h: number) => number, lag_min: number, ea_eV: number, noise = 0.002, seed = 1): ThermalFitPoint[] {
  let r = seed;
  const rand = (): number => ((r = (r * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
  const out: ThermalFitPoint[] = [];
  let cell_C = chamber(0);
  for (let m = 0; m <= hours * 60; m++) {
    const t_h = m / 60;
    const logged = chamber(t_h);
    if (m > 0) cell_C = lag_min > 0 ? chamber((m - 1) / 60) + (cell_C - chamber((m - 1) / 60)) * Math.exp(-1 / lag_min) : logged;
    out.push({ t_ms: m * 60_000, logged_C: logged, lnR: Math.log(35 / conductivityFactor(cell_C, ea_eV)) + noise * rand() });
  }
  return out;
}

const step = (at_h: number, from: number, to: number) => (t_h: number) => (t_h < at_h ? from : to);

describe('fitStep', () => {
  it.each([
    [30, 0.3],
    [0, 0.28],
    [45, 0.45],
    [10, 0.2],
  ])('a 25 → 40 °C step with a %i min lag and Ea %f eV gives them back', (lag, ea) => {
    const fit = fitStep(points(4, step(1, 25, 40), lag, ea), DEFAULT_THERMAL_FIT)!;
    expect(Math.abs(fit.lag_min - lag)).toBeLessThanOrEqual(2);
    expect(fit.ea_eV).toBeCloseTo(ea, 2);
    expect(fit.r2).toBeGreaterThan(0.95);
  });

  it('noise with no temperature change is no fit', () => {
    expect(
      fitStep(
        points(4, () => 25, 30, 0.3),
        DEFAULT_THERMAL_FIT,
      ),
    ).toBeNull();
  });
});

describe('observeThermalPoint', () => {
  it('fits each step of a temperature study once its log has settled, with the step and its temperatures', () => {
    const study = (t_h: number): number => (t_h < 6 ? 25 : t_h < 12 ? 40 : t_h < 18 ? 60 : 40);
    const state = thermalFitState();
    const fits = points(22, study, 30, 0.3)
      .map((p) => observeThermalPoint(state, p, DEFAULT_THERMAL_FIT))
      .filter((f) => f !== null);
    expect(fits.map((f) => [f.from_C, f.to_C, f.step_ms / H])).toEqual([
      [25, 40, 6],
      [40, 60, 12],
      [60, 40, 18],
    ]);
    for (const f of fits) {
      expect(Math.abs(f.lag_min - 30)).toBeLessThanOrEqual(2);
      expect(f.ea_eV).toBeCloseTo(0.3, 2);
    }
  });

  it('a chamber that takes its time (10 min) and a rest in the step (no plateau for 30 min): the same lag and Ea', () => {
    const chamber = (t_h: number): number => (t_h < 2 ? 25 : 40 - 15 * Math.exp(-(t_h - 2) / (10 / 60)));
    const pts = points(7, chamber, 30, 0.3).map((p) => (p.t_ms >= 2 * H && p.t_ms < 2.5 * H ? { ...p, lnR: NaN } : p));
    const state = thermalFitState();
    const fits = pts.map((p) => observeThermalPoint(state, p, DEFAULT_THERMAL_FIT)).filter((f) => f !== null);
    expect(fits).toHaveLength(1);
    expect(Math.abs(fits[0]!.lag_min - 30)).toBeLessThanOrEqual(2);
    expect(fits[0]!.ea_eV).toBeCloseTo(0.3, 2);
  });

  it('a slow ramp (10 °C over 10 h) and a step with no steady lead-in are not fitted', () => {
    const ramp = thermalFitState();
    expect(points(14, (t) => 25 + Math.min(10, Math.max(0, t - 2)), 30, 0.3).some((p) => observeThermalPoint(ramp, p, DEFAULT_THERMAL_FIT) !== null)).toBe(
      false,
    );
    const rushed = thermalFitState();
    expect(points(5, step(0.3, 25, 40), 30, 0.3).some((p) => observeThermalPoint(rushed, p, DEFAULT_THERMAL_FIT) !== null)).toBe(false);
  });
});
