/**
 * The scorer marks what an expert would: a perfect reading scores 100, and each kind of mistake costs its part —
 * wrong time, a missed onset, a false call, a wrong failure mode or time.
 */
import { describe, expect, it } from 'vitest';
import type { CellSummary, LabelledSegment } from '../../src/domain/detector/index.js';
import type { CellEvent } from '../../src/domain/events.js';
import type { RegimeLabel } from '../../src/domain/regime.js';
import { scoreDetection, truthTimeline } from '../../src/sim/score.js';
import type { CellTruth } from '../../src/sim/simulate.js';

const H = 3_600_000;
const iso = (h: number): string => new Date(h * H).toISOString();

/** 100 h: stable, polarization from 20 h, an isolated short 50–52 h, the final short from 80 h. */
const truth = {
  cell: 'c',
  start: iso(0),
  end: iso(100),
  polarizationOnset: iso(20),
  softShortOnset: null,
  shorts: [
    { start: iso(50), end: iso(52) },
    { start: iso(80), end: null },
  ],
  firstCompliance: iso(40),
  failureMode: 'short',
  nominalHalfCycle_s: 3600,
} as unknown as CellTruth;

const seg = (regime: RegimeLabel, from_h: number, to_h: number): LabelledSegment => ({ cell: 'c', regime, start_ms: from_h * H, end_ms: to_h * H });
const call = (regime: RegimeLabel, h: number): CellEvent => ({ type: 'regime', cell: 'c', regime, onset_ms: h * H, detectedAt_ms: h * H + 60_000 });
const summary = (failureMode: CellSummary['failureMode'], timeToFailure_h: number | null): CellSummary => ({ failureMode, timeToFailure_h }) as CellSummary;

const perfect = {
  segments: [
    seg('learning', 0, 3),
    seg('stable', 3, 20.2),
    seg('polarization', 20.2, 50),
    seg('isolated-short', 50, 52),
    seg('polarization', 52, 80),
    seg('short', 80, 100),
  ],
  events: [call('stable', 3), call('polarization', 20.2), call('short', 50), call('polarization', 52), call('short', 80)],
};

describe('scoreDetection', () => {
  it('the truth as a step function: stable, polarization, isolated short, polarization, short', () => {
    expect(truthTimeline(truth).map((c) => [c.label, c.t_ms / H])).toEqual([
      ['stable', 0],
      ['polarization', 20],
      ['isolated-short', 50],
      ['polarization', 52],
      ['short', 80],
    ]);
  });

  it('a perfect reading scores 100', () => {
    const s = scoreDetection(truth, perfect.events, perfect.segments, summary('short', 40));
    expect(s.score).toBe(100);
    expect(s.events).toEqual({ expected: 3, found: 3, missed: [] });
    expect(s.falseAlarms).toEqual([]);
  });

  it('calling polarization 10 h late costs regime time and the onset', () => {
    const late = perfect.segments.map((x) => (x.regime === 'stable' ? { ...x, end_ms: 30 * H } : x.start_ms === 20.2 * H ? { ...x, start_ms: 30 * H } : x));
    const events = perfect.events.map((e) => (e.type === 'regime' && e.onset_ms === 20.2 * H ? { ...e, onset_ms: 30 * H } : e));
    const s = scoreDetection(truth, events, late, summary('short', 40));
    expect(s.events.missed).toEqual(['polarization at 20.0 h']);
    expect(s.regimeAccuracy).toBeLessThan(0.9);
    expect(s.score).toBeLessThan(100 - 25 / 3);
  });

  it('a short called during stable cycling is a false alarm (5 of 15) and wrong time', () => {
    const segments = [seg('learning', 0, 3), seg('stable', 3, 10), seg('isolated-short', 10, 11), seg('stable', 11, 20.2), ...perfect.segments.slice(2)];
    const s = scoreDetection(truth, [...perfect.events, call('short', 10)], segments, summary('short', 10));
    expect(s.falseAlarms).toEqual(['short at 10.0 h']);
    expect(s.failure).toEqual({ mode: true, timeToFailure: false });
    expect(s.score).toBeLessThanOrEqual(100 - 5 - 10);
  });

  it('a missed short and a wrong failure mode', () => {
    const segments = [...perfect.segments.slice(0, 5), seg('polarization', 80, 100)];
    const s = scoreDetection(truth, perfect.events.slice(0, 4), segments, summary('short-loop', 40));
    expect(s.events.missed).toEqual(['short at 80.0 h']);
    expect(s.failure.mode).toBe(false);
    expect(s.score).toBeLessThan(80);
  });

  it('learning beyond a tenth of the run is wrong time; within it, not judged', () => {
    const long = [seg('learning', 0, 15), ...perfect.segments.slice(1).map((x) => (x.regime === 'stable' ? { ...x, start_ms: 15 * H } : x))];
    const s = scoreDetection(truth, perfect.events, long, summary('short', 40));
    expect(s.regimeAccuracy).toBeLessThan(1);
    expect(s.regimeAccuracy).toBeGreaterThan(0.9);
  });
});
