/**
 * Interface growth against contact loss and temperature: a slow, even rise of the half cycles' level is called once,
 * with its rate, and the reference follows it; a rise within half cycles, a temperature excursion or a level that
 * comes back is not.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTERFACE_DRIFT,
  interfaceDriftState,
  observeInterfaceLevel,
  type HalfCycleLevel,
  type InterfaceGrowth,
} from '../../src/domain/interfaceDrift.js';

const H = 3_600_000;

/** 1 h half cycles for `hours`, each at `level(t_h)` against the reference as it stands (the detector divides by follow). */
function run(hours: number, level: (t_h: number) => number, extra: Partial<HalfCycleLevel> = {}, rise = 0.02) {
  const state = interfaceDriftState();
  const raised: { t_h: number; g: InterfaceGrowth }[] = [];
  const follows: number[] = [];
  for (let t_h = 1; t_h <= hours; t_h++) {
    const low = level(t_h) / state.follow;
    const g = observeInterfaceLevel(
      state,
      { t_ms: t_h * H, lowRatio: low, highRatio: low * (1 + rise), temperatureMin_C: 24, temperatureMax_C: 26, reference_C: 25, ...extra },
      DEFAULT_INTERFACE_DRIFT,
    );
    if (g !== null) raised.push({ t_h, g });
    follows.push(state.follow);
  }
  return { state, raised, follows };
}

describe('observeInterfaceLevel', () => {
  it('a flat level with noise is no growth', () => {
    const { raised, state } = run(300, (t) => 1 + 0.02 * Math.sin(t * 1.7));
    expect(raised).toEqual([]);
    expect(state.follow).toBe(1);
  });

  it('+28 % over 200 h, evenly: called once, when the windows stand 10 % apart, at its rate; the reference follows', () => {
    const { raised, follows } = run(200, (t) => 1 + (0.28 * t) / 200);
    expect(raised).toHaveLength(1);
    const { t_h, g } = raised[0]!;
    // The first window's median is at ~12 h, the latest's at t − 12 h: 10 % apart when 0.0014 (t − 24) ≥ 0.1·(1.017).
    expect(t_h).toBeGreaterThan(90);
    expect(t_h).toBeLessThan(110);
    expect(g.growth).toBeGreaterThanOrEqual(0.1);
    expect(g.growth_per100h).toBeCloseTo(0.14, 1);
    // Following: at 200 h the reference stands ~ +24 % (the latest window's median lags the level by 12 h).
    expect(follows.at(-1)!).toBeGreaterThan(1.2);
    expect(follows.at(-1)!).toBeLessThan(1.28);
    // It only ever grows here, and not before the call.
    expect(follows.slice(0, t_h - 1).every((f) => f === 1)).toBe(true);
  });

  it('contact loss (the ratio rising 50 % within each half cycle) gives no level at all', () => {
    const { raised, state } = run(200, (t) => 1 + (0.28 * t) / 200, {}, 0.5);
    expect(raised).toEqual([]);
    expect(state.levels).toEqual([]);
  });

  it('half cycles away from the reference temperature are not levels (a compensation error is no growth)', () => {
    const { raised } = run(200, (t) => 1 + (0.28 * t) / 200, { temperatureMin_C: 39, temperatureMax_C: 41 });
    expect(raised).toEqual([]);
  });

  it('a level that steps up 8 % for a day and comes back is not called', () => {
    const { raised } = run(300, (t) => (t > 100 && t < 124 ? 1.08 : 1));
    expect(raised).toEqual([]);
  });

  it('the reference follows within its bounds: never below itself, never above maxFollow', () => {
    const up = run(400, (t) => 1 + (3 * t) / 200);
    expect(up.raised).toHaveLength(1);
    expect(Math.max(...up.follows)).toBe(DEFAULT_INTERFACE_DRIFT.maxFollow);
    const back = run(400, (t) => (t < 200 ? 1 + (0.4 * t) / 200 : Math.max(0.9, 1.4 - (0.6 * (t - 200)) / 100)));
    expect(back.raised).toHaveLength(1);
    expect(Math.min(...back.follows.slice(150))).toBe(1);
  });
});
