import { describe, expect, it } from 'vitest';
import { DEFAULT_REFERENCE_CHECK as O, observeCheckedHalfCycle, referenceCheckState, type CheckedHalfCycle } from '../../src/domain/referenceCheck.js';

const half = (sign: number, j_mA_cm2: number, plateau_V: number, ratio: number, steady = true): CheckedHalfCycle => ({
  sign,
  j_mA_cm2,
  plateau_V,
  ratio,
  steady,
});

describe('the reference re-checked when the current changes', () => {
  it('re-measures at a better plateau by the mean of the first positive and negative half cycles', () => {
    const s = referenceCheckState(0.1, 0.0035);
    expect(observeCheckedHalfCycle(s, half(1, 0.1, 0.0035, 1.3), O)).toBeNull(); // same level: nothing
    expect(observeCheckedHalfCycle(s, half(1, 0.5, 0.0175, 0.8), O)).toBeNull(); // one polarity only
    const r = observeCheckedHalfCycle(s, half(-1, 0.5, 0.0175, 0.7), O);
    expect(r).toEqual({ factor: 0.75, from_mA_cm2: 0.1, fromPlateau_V: 0.0035, to_mA_cm2: 0.5, toPlateau_V: 0.0175 });
    expect(s.level_mA_cm2).toBe(0.5);
    expect(s.plateau_V).toBe(0.0175);
    // The next level up agrees: nothing more.
    expect(observeCheckedHalfCycle(s, half(1, 1, 0.035, 1.01), O)).toBeNull();
    expect(observeCheckedHalfCycle(s, half(-1, 1, 0.035, 0.99), O)).toBeNull();
    expect(s.level_mA_cm2).toBe(1);
  });

  it('never re-measures stepping down, nor at a plateau less than snrGain better, nor from unsteady half cycles', () => {
    const s = referenceCheckState(1, 0.035);
    expect(observeCheckedHalfCycle(s, half(1, 0.5, 0.0175, 1.3), O)).toBeNull();
    expect(observeCheckedHalfCycle(s, half(-1, 0.5, 0.0175, 1.3), O)).toBeNull();
    // Back up to 1 mA cm⁻²: the same plateau as the measurement's, not better.
    expect(observeCheckedHalfCycle(s, half(1, 1, 0.035, 1.3), O)).toBeNull();
    expect(observeCheckedHalfCycle(s, half(-1, 1, 0.035, 1.3), O)).toBeNull();
    const t = referenceCheckState(0.1, 0.0035);
    expect(observeCheckedHalfCycle(t, half(1, 2, 0.07, 1.3, false), O)).toBeNull();
    expect(observeCheckedHalfCycle(t, half(-1, 2, 0.07, 1.3, false), O)).toBeNull();
    expect(t.level_mA_cm2).toBe(0.1);
  });

  it('keeps the reference within the tolerance, and beyond maxFactor (no measurement error: contact, a short)', () => {
    const within = referenceCheckState(0.1, 0.0035);
    observeCheckedHalfCycle(within, half(1, 2, 0.07, 1.04), O);
    expect(observeCheckedHalfCycle(within, half(-1, 2, 0.07, 1.04), O)).toBeNull();
    const beyond = referenceCheckState(0.1, 0.0035);
    observeCheckedHalfCycle(beyond, half(1, 2, 0.07, 1.6), O);
    expect(observeCheckedHalfCycle(beyond, half(-1, 2, 0.07, 1.6), O)).toBeNull();
    expect(beyond.level_mA_cm2).toBe(2);
  });
});
