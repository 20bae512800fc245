import { describe, expect, it } from 'vitest';
import { formatDuration, formatRate, SlidingRate, statusLine } from '../../src/cli/terminal.js';

describe('the status line', () => {
  it('rates over a sliding minute: a quiet 2 s inside a busy minute does not read 0', () => {
    const rate = new SlidingRate(60_000);
    expect(rate.add(0, 0)).toBe(0);
    // 20 messages in the first 10 s, then silence, read every 2 s as a terminal does.
    expect(rate.add(10_000, 20)).toBeCloseTo(2, 9);
    const quiet: number[] = [];
    for (let t = 12_000; t <= 60_000; t += 2000) quiet.push(rate.add(t, 20));
    for (const r of quiet) expect(r).toBeGreaterThan(0.33 - 1e-9);
    expect(quiet.at(-1)).toBeCloseTo(20 / 60, 9);
    // Once the busy seconds have left the window, the rate is 0.
    for (let t = 62_000; t <= 72_000; t += 2000) rate.add(t, 20);
    expect(rate.add(74_000, 20)).toBe(0);
    // A log's reading a minute apart: the minute's messages per second.
    const log = new SlidingRate(60_000);
    log.add(0, 100);
    expect(log.add(60_000, 120)).toBeCloseTo(1 / 3, 9);
    expect(log.add(120_000, 6120)).toBe(100);
  });

  it('prints rates people can read, with plurals', () => {
    expect(formatRate(20 / 60)).toBe('0.33');
    expect(formatRate(4.54)).toBe('4.5');
    expect(formatRate(12_400.4)).toBe('12,400');
    expect(formatRate(0)).toBe('0');
    expect(statusLine([{ regime: 'learning', alerts: 0 }], 20 / 60)).toBe('status: 1 cell (1 learning), 0.33 messages/s, 0 alerts');
    expect(
      statusLine(
        [
          { regime: 'stable', alerts: 0 },
          { regime: 'polarization', alerts: 1 },
          { regime: 'stable', alerts: 0 },
        ],
        1,
      ),
    ).toBe('status: 3 cells (2 stable, 1 polarization), 1 message/s, 1 alert');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(4000)).toBe('1 h 7 min');
  });
});
