import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/io/backoff.js';

describe('Backoff', () => {
  it('doubles from the first delay up to the ceiling, and starts again after a success', () => {
    const b = new Backoff({ initial_ms: 500, max_ms: 5000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('spreads each delay by ± the jitter fraction, never above the ceiling', () => {
    const low = new Backoff({ initial_ms: 1000, max_ms: 1500 }, () => 0);
    const high = new Backoff({ initial_ms: 1000, max_ms: 1500 }, () => 0.999999);
    expect([low.next(), low.next(), low.next()]).toEqual([800, 1200, 1200]);
    expect([high.next(), high.next(), high.next()]).toEqual([1200, 1500, 1500]);
  });
});
