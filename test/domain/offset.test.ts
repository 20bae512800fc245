import { describe, expect, it } from 'vitest';
import { DEFAULT_OFFSET as O, observePlateau, offsetState } from '../../src/domain/offset.js';

/** Plateaus of alternating half cycles: V = ±I·R + V_off, as |V| (what the detector sums). */
function feed(offset_V: number, plateaus_V: number[], absI_mA = 0.1): (number | null)[] {
  const s = offsetState();
  return plateaus_V.map((ir, k) => {
    const sign = k % 2 === 0 ? 1 : -1;
    return observePlateau(s, sign, absI_mA, Math.abs(sign * ir + offset_V), O);
  });
}

describe('the instrument voltage offset', () => {
  it('is (V₊ + V₋)/2 of a positive and a negative plateau, adopted once three pairs agree', () => {
    const changes = feed(0.001, [0.0035, 0.0035, 0.0035, 0.0035, 0.0035, 0.0035]);
    expect(changes.slice(0, 3)).toEqual([null, null, null]);
    expect(changes[3]).toBeCloseTo(0.001, 9);
    expect(changes.slice(4)).toEqual([null, null]);
  });

  it('is read the other way on the negative half cycle first, and negative offsets too', () => {
    const s = offsetState();
    const ir = 0.004;
    const off = -0.0008;
    let last: number | null = null;
    for (let k = 0; k < 6; k++) {
      const sign = k % 2 === 0 ? -1 : 1;
      last = observePlateau(s, sign, 0.2, Math.abs(sign * ir + off), O) ?? last;
    }
    expect(last).toBeCloseTo(off, 9);
  });

  it('takes nothing from plateaus above maxPlateau_V, pairs at different currents, or plateaus below the largest offset', () => {
    expect(feed(0.001, Array(6).fill(0.07))).toEqual(Array(6).fill(null));
    const s = offsetState();
    for (let k = 0; k < 6; k++) expect(observePlateau(s, k % 2 === 0 ? 1 : -1, k % 2 === 0 ? 0.1 : 0.2, 0.004, O)).toBeNull();
    // |V₋| = 3.5 − 3 = 0.5 mV: below 2 mV its sign is not the current's.
    expect(feed(0.003, Array(6).fill(0.0035))).toEqual(Array(6).fill(null));
  });

  it('is no offset above max_V: a cell whose two sides differ, nothing subtracted', () => {
    expect(feed(0.0025, Array(8).fill(0.03))).toEqual(Array(8).fill(null));
  });

  it('moves with the median of the latest pairs: one odd pair changes nothing', () => {
    const s = offsetState();
    const plateaus = [0.0035, 0.0035, 0.0035, 0.0035, 0.0035, 0.0035, 0.0035, 0.009, 0.0035, 0.0035];
    const offsets = plateaus.map((ir, k) => {
      const sign = k % 2 === 0 ? 1 : -1;
      observePlateau(s, sign, 0.1, Math.abs(sign * ir + 0.001), O);
      return s.offset_V;
    });
    expect(offsets.slice(3).every((x) => Math.abs(x - 0.001) < 1e-9)).toBe(true);
  });
});
