import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REGIME_THRESHOLDS as TH,
  initialRegimeState,
  notSymmetric,
  observe,
  observeHalfCycleEnd,
  referenceReady,
  type Observation,
  type RegimeChange,
  type RegimeState,
} from '../../src/domain/regime.js';

const R_REF = 35;

/** One judged sample at ratio r with a reference (the smoothed view equal to the raw one, level at R_ref). */
function obs(t_ms: number, r: number, extra: Partial<Observation> = {}): Observation {
  return { t_ms, trend: false, ratio: r, smoothRatio: r, noisy: false, thermalHigh: 1, collapsed: false, smoothR25_ohm: r * R_REF, level_ohm: R_REF, ...extra };
}

function observeRatio(state: RegimeState, t_ms: number, r: number, th: typeof TH, changes: RegimeChange[]): RegimeState {
  return observe(state, obs(t_ms, r), th, changes);
}

/** Feed ratios at 1 Hz from t = 0 s; returns the final state and all changes. */
function feed(ratios: number[], start: RegimeState = initialRegimeState(0, 'stable'), t0_s = 0): { state: RegimeState; changes: RegimeChange[] } {
  const changes: RegimeChange[] = [];
  let state = start;
  ratios.forEach((r, k) => {
    state = observeRatio(state, (t0_s + k) * 1000, r, TH, changes);
  });
  return { state, changes };
}

const repeat = (value: number, n: number): number[] => Array.from({ length: n }, () => value);

describe('regime state machine (SPEC §3)', () => {
  it('stays stable on noise and single-sample spikes', () => {
    const ratios = repeat(1, 600).map((r, k) => (k % 97 === 0 ? 6 : k % 89 === 0 ? 0.1 : r + 0.01 * Math.sin(k)));
    const { state, changes } = feed(ratios);
    expect(changes).toEqual([]);
    expect(state.regime).toBe('stable');
  });

  it('enters polarization once the ratio stays above 1.5 for the sustain time, with the run start as onset', () => {
    const { state, changes } = feed([...repeat(1, 100), ...repeat(2, 100)]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ regime: 'polarization', onset_ms: 100_000, detectedAt_ms: (100 + TH.polarizationSustain_s) * 1000 });
    expect(state.regime).toBe('polarization');
  });

  it('does not leave polarization when the ratio drops within a half cycle (sticky)', () => {
    const pol = feed([...repeat(1, 10), ...repeat(3, 60)]).state;
    const { state, changes } = feed(repeat(1, 600), pol, 70);
    expect(changes).toEqual([]);
    expect(state.regime).toBe('polarization');
  });

  it('recovers to stable only after quiet complete half cycles', () => {
    let s = feed([...repeat(1, 10), ...repeat(3, 60)]).state;
    const changes: RegimeChange[] = [];
    s = observeHalfCycleEnd(s, { start_ms: 0, peakRatio: 1.1, evaluated: true }, 3_600_000, TH, changes);
    expect(s.regime).toBe('polarization');
    s = observeHalfCycleEnd(s, { start_ms: 3_600_000, peakRatio: 2, evaluated: true }, 7_200_000, TH, changes);
    s = observeHalfCycleEnd(s, { start_ms: 7_200_000, peakRatio: 1.1, evaluated: true }, 10_800_000, TH, changes);
    expect(changes).toEqual([]);
    s = observeHalfCycleEnd(s, { start_ms: 10_800_000, peakRatio: 1.2, evaluated: true }, 14_400_000, TH, changes);
    expect(changes).toEqual([expect.objectContaining({ regime: 'stable', onset_ms: 7_200_000, detectedAt_ms: 14_400_000 })]);
    expect(s.regime).toBe('stable');
  });

  it('detects a short within the short sustain time and relabels it isolated when it breaks', () => {
    const { state, changes } = feed([...repeat(1, 50), ...repeat(0.15, 300), ...repeat(40, 100)]);
    expect(changes.map((c) => c.regime)).toEqual(['short', 'isolated-short', 'polarization']);
    expect(changes[0]).toMatchObject({ onset_ms: 50_000, detectedAt_ms: (50 + TH.shortSustain_s) * 1000 });
    expect(changes[1]).toMatchObject({ onset_ms: 50_000, end_ms: 350_000, detectedAt_ms: (350 + TH.shortEndSustain_s) * 1000 });
    expect(changes[2]).toMatchObject({ onset_ms: 350_000 });
    expect(state.regime).toBe('polarization');
  });

  it('a short of a stable cell that breaks back to its pre-short level hands back to stable, after the longer level sustain', () => {
    const { changes } = feed([...repeat(1, 50), ...repeat(0.2, 100), ...repeat(1, TH.shortEndLevelSustain_s + 10)]);
    expect(changes.map((c) => c.regime)).toEqual(['short', 'isolated-short', 'stable']);
    expect(changes[1]).toMatchObject({ end_ms: 150_000, detectedAt_ms: (150 + TH.shortEndLevelSustain_s) * 1000 });
  });

  it('a partial rebound to 0.6–0.7× of the pre-short level is not the end of a short', () => {
    const { changes, state } = feed([...repeat(1, 50), ...repeat(0.2, 100), ...repeat(0.7, 3600)]);
    expect(changes.map((c) => c.regime)).toEqual(['short']);
    expect(state.regime).toBe('short');
  });

  it('a short that interrupted polarization hands back to polarization even if the rebound starts low', () => {
    const pol = feed([...repeat(1, 10), ...repeat(3, 60)]).state;
    const { changes } = feed([...repeat(0.2, 100), ...repeat(1, TH.shortEndLevelSustain_s + 10)], pol, 70);
    expect(changes.map((c) => c.regime)).toEqual(['short', 'isolated-short', 'polarization']);
  });

  it('needs the minimum sample count too: two samples across a long gap are not sustained', () => {
    const changes: RegimeChange[] = [];
    let s = initialRegimeState(0, 'stable');
    s = observeRatio(s, 0, 0.1, TH, changes);
    s = observeRatio(s, 600_000, 0.1, TH, changes);
    expect(changes).toEqual([]);
    expect(s.regime).toBe('stable');
  });

  it('while learning (no reference) judges nothing but a collapse of |V|, which is a short with or without a registry', () => {
    const changes: RegimeChange[] = [];
    let s = initialRegimeState(0);
    for (let k = 0; k < 300; k++) s = observe(s, obs(k * 1000, NaN, { smoothRatio: NaN, smoothR25_ohm: 100 }), TH, changes);
    expect(changes).toEqual([]);
    for (let k = 300; k < 340; k++) s = observe(s, obs(k * 1000, NaN, { smoothRatio: NaN, collapsed: true, smoothR25_ohm: 0.05, level_ohm: 100 }), TH, changes);
    expect(changes).toEqual([expect.objectContaining({ regime: 'short', onset_ms: 300_000, from: 'learning' })]);
    expect(s.preShortLevel_ohm).toBe(100);
  });

  it('a learning cell becomes stable when its reference is ready; a non-symmetric one makes no more calls', () => {
    const changes: RegimeChange[] = [];
    let s = referenceReady(initialRegimeState(0), 5_000, changes);
    expect(s.regime).toBe('stable');
    expect(changes).toEqual([expect.objectContaining({ regime: 'stable', onset_ms: 5_000, from: 'learning' })]);
    s = notSymmetric(s, 6_000, changes);
    expect(s.regime).toBe('not-symmetric');
    const before = changes.length;
    for (let k = 0; k < 100; k++) s = observe(s, obs(7_000 + k * 1000, 0.01, { collapsed: true }), TH, changes);
    expect(changes).toHaveLength(before);
  });

  it('sparse logging: a row above the threshold that continues a rising trend is evidence on its own', () => {
    const changes: RegimeChange[] = [];
    const s = observe(initialRegimeState(0, 'stable'), obs(600_000, 1.55, { trend: true }), TH, changes);
    expect(s.regime).toBe('polarization');
    const spike = observe(initialRegimeState(0, 'stable'), obs(600_000, 3, { smoothRatio: 1.02 }), TH, []);
    expect(spike.regime).toBe('stable');
  });
});
