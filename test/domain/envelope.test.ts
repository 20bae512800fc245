import { describe, expect, it } from 'vitest';
import { Envelope } from '../../src/domain/envelope.js';

describe('Envelope (M4 downsampling)', () => {
  it('keeps memory bounded by the target however long the series', () => {
    const e = new Envelope(500);
    for (let k = 0; k < 1_000_000; k++) e.push(k * 1000, Math.sin(k / 1000));
    const pts = e.points();
    expect(pts.length).toBeLessThanOrEqual(4 * 2 * 500);
    expect(pts.length).toBeGreaterThan(500);
    for (let i = 1; i < pts.length; i++) expect(pts[i]![0]).toBeGreaterThanOrEqual(pts[i - 1]![0]);
  });

  it('never drops a single-sample spike or dip, nor the first and last samples', () => {
    const e = new Envelope(100);
    for (let k = 0; k < 300_000; k++) e.push(k * 1000, k === 123_457 ? 8 : k === 200_001 ? 0.02 : 0.07);
    const pts = e.points();
    expect(pts).toContainEqual([123_457_000, 8]);
    expect(pts).toContainEqual([200_001_000, 0.02]);
    expect(pts[0]).toEqual([0, 0.07]);
    expect(pts[pts.length - 1]).toEqual([299_999_000, 0.07]);
  });

  it('returns every point unchanged when there are fewer than the buckets', () => {
    const e = new Envelope(100);
    const input: [number, number][] = [
      [0, 1],
      [5000, 3],
      [9000, 2],
    ];
    for (const [t, v] of input) e.push(t, v);
    expect(e.points()).toEqual(input);
  });

  it('ignores non-finite values', () => {
    const e = new Envelope(10);
    e.push(0, NaN);
    e.push(1000, Infinity);
    e.push(2000, 1);
    expect(e.points()).toEqual([[2000, 1]]);
  });
});
