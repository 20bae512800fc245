import { describe, expect, it } from 'vitest';
import { conductivityFactor } from '../../src/domain/physics.js';
import { calibrate, calibratedReference, calibrationState, closeChunk, DEFAULT_CALIBRATION as CAL } from '../../src/domain/reference.js';
import { DEFAULT_SOFT_SHORT as SOFT, observeSoftShort, softShortState } from '../../src/domain/softShort.js';
import { DEFAULT_SYMMETRY as SYM, observeActive, observeHalfCycleSigns, observeRest, symmetryState } from '../../src/domain/symmetry.js';
import { cellTemperature, temperatureFactor, thermalState } from '../../src/domain/thermal.js';

describe('cell temperature', () => {
  it('follows a chamber step through a first-order lag: 63 % after one time constant', () => {
    const s = thermalState();
    cellTemperature(s, 0, 20, 30, 25);
    let t = 0;
    let T = 20;
    for (; t <= 30 * 60_000; t += 10_000) T = cellTemperature(s, t, 30, 30, 25);
    expect(T).toBeGreaterThan(26.2);
    expect(T).toBeLessThan(26.5);
  });

  it('is the logged value with no lag, and the nominal one with no telemetry', () => {
    const s = thermalState();
    expect(cellTemperature(s, 0, undefined, 30, 60)).toBe(60);
    expect(s.seen).toBe(false);
    expect(cellTemperature(s, 1000, 22, 0, 60)).toBe(22);
    expect(cellTemperature(s, 2000, 27, 0, 60)).toBe(27);
    // A sample without a joined reading keeps the last one.
    expect(cellTemperature(s, 3000, undefined, 0, 60)).toBe(27);
  });

  it('caches σ(T)/σ25 and recomputes it only when the temperature changes', () => {
    const s = thermalState();
    expect(temperatureFactor(s, 21, 0.3)).toBeCloseTo(conductivityFactor(21, 0.3), 12);
    expect(temperatureFactor(s, 21, 0.3)).toBe(s.factor);
    expect(temperatureFactor(s, 26, 0.3)).toBeCloseTo(conductivityFactor(26, 0.3), 12);
  });
});

describe('R_ref calibration', () => {
  const chunk = (c: ReturnType<typeof calibrationState>, r: number): void => {
    for (let k = 0; k < 360; k++) calibrate(c, r * (1 + 0.01 * Math.sin(k)), 10_000);
    closeChunk(c, CAL);
  };

  it('waits for conditioning to end and takes the plateau, not the first hours', () => {
    const c = calibrationState();
    const conditioning = [43, 41, 39.5, 38.6, 38.2, 38.1, 38.0];
    const decided: (number | null)[] = [];
    for (const r of conditioning) {
      chunk(c, r);
      decided.push(calibratedReference(c, CAL));
    }
    const first = decided.findIndex((x) => x !== null);
    expect(first).toBeGreaterThanOrEqual(CAL.minChunks - 1);
    expect(decided[first]!).toBeGreaterThan(37.5);
    expect(decided[first]!).toBeLessThan(38.8);
  });

  it('at the time cap takes the best contact seen, ignoring a low outlier (a transient or a leak)', () => {
    const c = calibrationState();
    for (const r of [50, 46, 20, 44, 47, 43, 48, 45]) chunk(c, r);
    expect(calibratedReference(c, CAL)).toBeCloseTo(43, 0);
  });

  it('has nothing to say before any chunk', () => {
    expect(calibratedReference(calibrationState(), CAL, true)).toBeNull();
  });
});

describe('soft-short episodes', () => {
  it('opens once when the ratio stays below 0.75, with the onset at the start of the drop, and closes on recovery', () => {
    const s = softShortState();
    const changes: string[] = [];
    const feed = (ratio: number, from_s: number, n: number, shorted = false): void => {
      for (let k = 0; k < n; k++) {
        const c = observeSoftShort(s, (from_s + k * 10) * 1000, ratio, shorted, SOFT);
        if (c !== null) changes.push(`${c}@${from_s + k * 10}`);
      }
    };
    feed(1, 0, 100);
    feed(0.6, 1000, 100);
    expect(changes).toEqual([`opened@${1000 + SOFT.sustain_s}`]);
    expect(s.onset_ms).toBe(1_000_000);
    feed(0.6, 2000, 300);
    feed(1, 5000, 100);
    expect(changes).toEqual([`opened@${1000 + SOFT.sustain_s}`, `closed@${5000 + SOFT.sustain_s}`]);
    expect(s.episodes).toBe(1);
  });

  it('says nothing while a hard short is in progress (the short alert speaks for it)', () => {
    const s = softShortState();
    for (let k = 0; k < 200; k++) expect(observeSoftShort(s, k * 10_000, 0.1, true, SOFT)).toBeNull();
  });
});

describe('symmetric-cell check', () => {
  it('accepts a symmetric cell, either lead polarity', () => {
    for (const polarity of [1, -1]) {
      const s = symmetryState();
      for (let hc = 0; hc < 6; hc++) {
        const I = hc % 2 === 0 ? 2 : -2;
        for (let k = 0; k < 20; k++) expect(observeActive(s, polarity * Math.sign(I) * 0.07, I, SYM)).toBeNull();
        expect(observeHalfCycleSigns(s, Math.sign(I), SYM)).toBeNull();
      }
      for (let k = 0; k < 20; k++) expect(observeRest(s, k * 5000, 0.0004, SYM)).toBeNull();
      expect(s.verdict).toBeNull();
    }
  });

  it('flags a rest voltage far from 0 V, an EMF crossing 0 V in a half cycle, and a voltage that ignores the current sign', () => {
    const rest = symmetryState();
    let why: string | null = null;
    for (let k = 0; k < 10 && why === null; k++) why = observeRest(rest, k * 10_000, 2.3, SYM);
    expect(why).toMatch(/rest voltage stays at 2\.300 V/);

    const cross = symmetryState();
    why = null;
    for (let k = 0; k < 20 && why === null; k++) why = observeActive(cross, 0.5 - k * 0.06, 0.068, SYM);
    expect(why).toMatch(/crosses 0 V/);

    const halfCell = symmetryState();
    for (let k = 0; k < 10; k++) observeActive(halfCell, 0.5, -0.2, SYM);
    expect(observeHalfCycleSigns(halfCell, -1, SYM)).toBeNull();
    why = null;
    for (let k = 0; k < 10 && why === null; k++) why = observeActive(halfCell, 0.6, 0.2, SYM);
    expect(why).toMatch(/keeps one sign/);
  });
});
