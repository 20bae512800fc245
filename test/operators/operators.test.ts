import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { sample, type Sample } from '../../src/domain/sample.js';
import { alignAux, reorderWithin } from './lift.js';
import { perCell } from '../../src/operators/perCell.js';
import { admitSample, reorderState } from '../../src/operators/reorder.js';
import { filter, map, Observable, Subject, toArray } from 'rxjs';
import { assumedCell } from '../../src/domain/cell.js';
import { DEFAULT_DETECTOR_OPTIONS } from '../../src/domain/detector/index.js';
import { monitorCells, type CellPipelineState } from '../../src/operators/monitor.js';
import { admitTelemetry } from '../../src/operators/admit.js';
import { impedanceSpectra } from '../../src/operators/impedance.js';

const scheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const ec = (t_s: number, v = 0.07, cell = 'c1'): Sample => sample(cell, t_s * 1000, { voltage_V: v, current_mA: 2 });

describe('reorderWithin', () => {
  it('puts slightly late samples in place and emits once the window has passed', () => {
    const rejects: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1), b: ec(3), c: ec(2), d: ec(10), e: ec(11) };
      const source = cold('a-b-c-d-e---------|', values);
      // window 5 s: 1, 2, 3 are released when t = 10 arrives; 10 and 11 at completion.
      expectObservable(source.pipe(reorderWithin(5000, (r) => rejects.push(r)))).toBe('------(xyz)-------(uv|)', {
        x: values.a,
        y: values.c,
        z: values.b,
        u: values.d,
        v: values.e,
      });
    });
    expect(rejects).toEqual([]);
  });

  it('rejects exact duplicates and samples later than the window, counting them by reason', () => {
    const rejects: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1), b: ec(1), c: ec(20), d: ec(0.5), e: ec(20) };
      expectObservable(cold('a-b-c-d-e|', values).pipe(reorderWithin(5000, (r) => rejects.push(r)))).toBe('----a----(c|)', values);
    });
    expect(rejects).toEqual(['duplicate', 'late', 'duplicate']);
  });

  it('rejects a second, different voltage reading at the same timestamp instead of dropping it silently', () => {
    const rejects: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1, 0.07), b: ec(1, 0.08) };
      expectObservable(cold('a-b|', values).pipe(reorderWithin(0, (r) => rejects.push(r)))).toBe('a--|', values);
    });
    expect(rejects).toEqual(['duplicate']);
  });

  it('keeps two messages of one time that carry different quantities', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1), p: sample('c1', 1000, { pressure_MPa: 9 }) };
      expectObservable(cold('a-p|', values).pipe(reorderWithin(0, () => {}))).toBe('a-p|', values);
    });
  });

  it('holds about one window of samples, not the ones already handed on (memory, and what a checkpoint writes)', () => {
    const st = reorderState();
    const out: number[] = [];
    let largest = 0;
    // 1 s sampling, 5 s window, every tenth message 3 s late.
    for (let k = 0; k < 10_000; k++) {
      const t = k % 10 === 9 ? k - 3 : k;
      admitSample(
        st,
        5000,
        ec(t === k ? t : t + 0.5),
        () => {},
        undefined,
        (x) => out.push(x.t_ms),
      );
      largest = Math.max(largest, st.buf.length);
    }
    expect(out.length).toBeGreaterThan(9_990);
    expect(out.every((t, i) => i === 0 || t >= out[i - 1]!)).toBe(true);
    expect(st.buf.length - st.head).toBeLessThanOrEqual(7);
    expect(largest).toBeLessThanOrEqual(40);
  });
});

describe('alignAux', () => {
  it('joins the latest pressure and temperature as of each voltage sample, and drops stale ones', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = {
        p: sample('c1', 0, { pressure_MPa: 9 }),
        t: sample('c1', 500, { temperature_C: 23 }),
        a: ec(1),
        b: ec(200),
      };
      const out = cold('p-t-a-b|', values).pipe(alignAux(60_000, () => {}));
      expectObservable(out).toBe('----x-y|', {
        x: { cell: 'c1', t_ms: 1000, voltage_V: 0.07, current_mA: 2, pressure_MPa: 9, temperature_C: 23 },
        y: { cell: 'c1', t_ms: 200_000, voltage_V: 0.07, current_mA: 2, pressure_MPa: undefined, temperature_C: undefined },
      });
    });
  });

  it('carries the current of a current-only row forward to the voltage rows after it (record-on-change cyclers)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { i: sample('c1', 0, { current_mA: -2 }), v: sample('c1', 1000, { voltage_V: -0.07 }), w: sample('c1', 200_000, { voltage_V: -0.07 }) };
      const rejects: string[] = [];
      expectObservable(cold('i-v-w|', values).pipe(alignAux(60_000, (r) => rejects.push(r)))).toBe('--x--|', {
        x: { cell: 'c1', t_ms: 1000, voltage_V: -0.07, current_mA: -2, pressure_MPa: undefined, temperature_C: undefined },
      });
    });
  });

  it('rejects a voltage without current instead of guessing', () => {
    const rejects: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const bad = sample('c1', 0, { voltage_V: 1 });
      expectObservable(cold('a|', { a: bad }).pipe(alignAux(1000, (r) => rejects.push(r)))).toBe('-|');
    });
    expect(rejects).toEqual(['no-current']);
  });
});

describe('perCell', () => {
  it('gives each cell its own stream, in its own order, and completes when all cells do', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1, 0.1, 'c1'), b: ec(1, 0.2, 'c2'), c: ec(2, 0.3, 'c1') };
      const out = cold('a-b-c|', values).pipe(perCell((cell, s) => s.pipe(map((x) => `${cell}:${x.voltage_V}`))));
      expectObservable(out).toBe('a-b-c|', { a: 'c1:0.1', b: 'c2:0.2', c: 'c1:0.3' });
    });
  });

  it('completes the cells at the end of the input, but only stops them when unsubscribed (a planned stop)', () => {
    const completed: string[] = [];
    const input = new Subject<Sample>();
    const pipeline = (cell: string, s: Observable<Sample>) =>
      new Observable<string>((o) => s.subscribe({ next: (x) => o.next(`${cell}:${x.voltage_V}`), complete: () => (completed.push(cell), o.complete()) }));
    const sub = input.pipe(perCell(pipeline)).subscribe();
    input.next(ec(1, 0.1, 'c1'));
    input.next(ec(1, 0.2, 'c2'));
    sub.unsubscribe();
    expect(completed).toEqual([]);
    const ended = new Subject<Sample>();
    let done = false;
    ended.pipe(perCell(pipeline)).subscribe({ complete: () => (done = true) });
    ended.next(ec(1, 0.1, 'c1'));
    ended.next(ec(1, 0.2, 'c2'));
    ended.complete();
    expect(completed).toEqual(['c1', 'c2']);
    expect(done).toBe(true);
  });
});

describe('monitorCells', () => {
  it('quarantines a cell whose detection throws, with one cell-error alert, and the other cells go on', () => {
    const good = assumedCell('c1');
    const broken = Object.defineProperty({ ...assumedCell('c2') }, 'complianceV', {
      get() {
        throw new Error('a defect');
      },
    });
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ec(1, 0.07, 'c1'), b: ec(1, 0.07, 'c2'), c: ec(2, 0.07, 'c1'), d: ec(2, 0.07, 'c2'), e: ec(9, 0.07, 'c1') };
      const out = cold('a-b-c-d-e|', values).pipe(
        monitorCells({
          reorderWindow_ms: 0,
          auxStaleness_ms: 60_000,
          detector: DEFAULT_DETECTOR_OPTIONS,
          derived: true,
          resolveCell: (id) => (id === 'c2' ? broken : good),
          onReject: () => {},
        }),
        filter((o) => o.type === 'alert' || o.type === 'derived'),
        map((o) => (o.type === 'alert' ? `${o.cell}:${o.code}` : `${o.cell}:${o.derived.t_ms}`)),
      );
      expectObservable(out).toBe('a-b-c---e|', { a: 'c1:1000', b: 'c2:cell-error', c: 'c1:2000', e: 'c1:9000' });
    });
  });

  it('emits each admitted sample once, when asked, as it arrives: a duplicate is rejected, not accepted, and a late one goes in its place', () => {
    const rejected: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      // b repeats a (same time); d is 1 s late, within the 5 s window: accepted on arrival, decided in its place.
      const values = { a: ec(1, 0.07, 'c1'), b: ec(1, 0.07, 'c1'), c: ec(3, 0.07, 'c1'), d: ec(2, 0.07, 'c1') };
      const out = cold('a-b-c-d|', values).pipe(
        monitorCells({
          reorderWindow_ms: 5_000,
          auxStaleness_ms: 60_000,
          detector: DEFAULT_DETECTOR_OPTIONS,
          derived: true,
          accepted: true,
          resolveCell: (id) => assumedCell(id),
          onReject: (reason) => void rejected.push(reason),
        }),
        filter((o) => o.type === 'accepted' || o.type === 'derived'),
        map((o) => (o.type === 'accepted' ? `in:${o.sample.t_ms}` : `out:${o.derived.t_ms}`)),
        toArray(),
      );
      expectObservable(out).toBe('-------(x|)', { x: ['in:1000', 'in:3000', 'in:2000', 'out:1000', 'out:2000', 'out:3000'] });
    });
    expect(rejected).toEqual(['duplicate']);
  });

  it('leaves each cell as its last sample left it when unsubscribed: samples held for re-ordering stay held, no half cycle is closed', () => {
    const states = new Map<string, CellPipelineState>();
    const outputs: string[] = [];
    const input = new Subject<Sample>();
    const sub = input
      .pipe(
        monitorCells({
          reorderWindow_ms: 5_000,
          auxStaleness_ms: 60_000,
          detector: DEFAULT_DETECTOR_OPTIONS,
          derived: true,
          resolveCell: (id) => assumedCell(id),
          onReject: () => {},
          states,
        }),
      )
      .subscribe((o) => outputs.push(o.type));
    for (let k = 0; k < 20; k++) input.next(ec(k, 0.07, 'c1'));
    const held = states.get('c1')!.reorder.buf.length - states.get('c1')!.reorder.head;
    const judged = states.get('c1')!.detector.clock.samples;
    expect(held).toBeGreaterThan(0);
    sub.unsubscribe();
    // Nothing released, nothing finished: what a checkpoint saves now is what the journal replay continues from.
    expect(states.get('c1')!.reorder.buf.length - states.get('c1')!.reorder.head).toBe(held);
    expect(states.get('c1')!.detector.clock.samples).toBe(judged);
    expect(outputs).not.toContain('result');
    expect(outputs).not.toContain('half-cycle');
  });
});

describe('admitTelemetry', () => {
  const NOW = Date.UTC(2026, 0, 2);
  it('lets known cells through, rejects future and pre-2000 times, and takes on at most maxUnlistedCells new ones', () => {
    const rejects: string[] = [];
    const known = new Set(['c1']);
    scheduler().run(({ cold, expectObservable }) => {
      const values = {
        a: sample('c1', NOW - 1000, { voltage_V: 0.07, current_mA: 2 }),
        f: sample('c1', NOW + 2 * 3600_000 + 17 * 60_000, { voltage_V: 0.07, current_mA: 2 }),
        p: sample('c1', 1_700_000_000, { voltage_V: 0.07, current_mA: 2 }),
        n: sample('new-1', NOW, { voltage_V: 0.07, current_mA: 2 }),
        m: sample('new-2', NOW, { voltage_V: 0.07, current_mA: 2 }),
        o: sample('new-3', NOW, { voltage_V: 0.07, current_mA: 2 }),
      };
      const admitted = cold('a-f-p-n-m-o-n-|', values).pipe(
        // A cell taken on becomes known, as the chain's registry lookup makes it downstream.
        admitTelemetry({
          now: () => NOW,
          maxFutureSkew_ms: 3600_000,
          earliest_ms: Date.UTC(2000, 0, 1),
          known: (cell) => known.has(cell),
          unknownCells: 'accept',
          unlistedSoFar: 0,
          maxUnlistedCells: 2,
          onReject: (reason, _detail, cell) => rejects.push(`${reason}:${cell}`),
        }),
        map((s) => (known.add(s.cell), s)),
      );
      expectObservable(admitted).toBe('a-----n-m---n-|', values);
    });
    expect(rejects).toEqual(['future:c1', 'past:c1', 'too-many-cells:new-3']);
  });

  it('counts samples a whole number of hours ahead as clock-offset, and names the misread once it holds on the clock', () => {
    const rejects: string[] = [];
    const told: string[] = [];
    let now = NOW;
    const at = (cell: string, ahead_ms: number) => sample(cell, now + ahead_ms, { voltage_V: 0.07, current_mA: 2 });
    const admitted: Sample[] = [];
    const subject = new Subject<Sample>();
    subject
      .pipe(
        admitTelemetry({
          now: () => now,
          maxFutureSkew_ms: 2 * 3600_000,
          earliest_ms: Date.UTC(2000, 0, 1),
          known: () => true,
          unknownCells: 'accept',
          unlistedSoFar: 0,
          maxUnlistedCells: 10,
          onReject: (reason, _detail, cell) => rejects.push(`${reason}:${cell}`),
          onClockOffset: (cell, offset_h) => told.push(`${cell}:${offset_h}`),
        }),
      )
      .subscribe((s) => admitted.push(s));
    subject.next(at('c1', -1000));
    // A backlog sent at once: its rows pass 2 h and 3 h ahead in a moment — counted, not named.
    for (let m = 0; m <= 90; m += 1) subject.next(at('c0', 2 * 3600_000 - 60_000 + m * 60_000));
    expect(told).toEqual([]);
    // Tokyo's local time read as UTC, live: 9 h ahead (a minute of logging delay either way), sample after sample.
    for (let k = 0; k < 8; k++) {
      subject.next(at('c1', 9 * 3600_000 + (k % 2 === 0 ? -60_000 : 60_000)));
      // Within the allowed skew, but exactly an hour ahead: Berlin's winter time read as UTC.
      subject.next(at('c2', 3600_000 + 30_000));
      now += 10_000;
    }
    // Ahead, but by no zone's offset: the publisher's clock is wrong.
    subject.next(at('c3', 3 * 3600_000 + 20 * 60_000));
    expect(told).toEqual(['c1:9', 'c2:1']);
    expect(admitted.map((s) => s.cell)).toEqual(['c1']);
    expect(rejects.filter((r) => r === 'clock-offset:c1')).toHaveLength(8);
    expect(rejects.filter((r) => r === 'clock-offset:c2')).toHaveLength(8);
    // Within 2 min of a whole or half hour: 1:59–2:02, 2:28–2:32, 2:58–3:02, 3:28–3:29.
    expect(rejects.filter((r) => r === 'clock-offset:c0')).toHaveLength(16);
    expect(rejects.at(-1)).toBe('future:c3');
  });

  it('rejects every unlisted cell when unknownCells is reject', () => {
    const rejects: string[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: sample('c1', NOW, { voltage_V: 0.07, current_mA: 2 }), x: sample('x', NOW, { voltage_V: 0.07, current_mA: 2 }) };
      const admitted = cold('a-x-a|', values).pipe(
        admitTelemetry({
          now: () => NOW,
          maxFutureSkew_ms: 3600_000,
          earliest_ms: Date.UTC(2000, 0, 1),
          known: (cell) => cell === 'c1',
          unknownCells: 'reject',
          unlistedSoFar: 0,
          maxUnlistedCells: 1000,
          onReject: (reason, _detail, cell) => rejects.push(`${reason}:${cell}`),
        }),
      );
      expectObservable(admitted).toBe('a---a|', values);
    });
    expect(rejects).toEqual(['unknown-cell:x']);
  });
});

describe('impedanceSpectra', () => {
  const r = (cell: string, t_s: number, freq_Hz: number, reZ_Ohm: number, minusImZ_Ohm: number) => ({ cell, t_ms: t_s * 1000, freq_Hz, reZ_Ohm, minusImZ_Ohm });
  it('numbers the sweeps per cell (by frequency jump back and by event-time gap) and keeps each summary current', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold('a b c d e f g|', {
        a: r('c1', 0, 1e5, 10, -1),
        b: r('c1', 1, 1e4, 12, 2),
        c: r('c2', 1, 1e5, 50, 5),
        d: r('c1', 2, 1e3, 20, 8),
        e: r('c1', 3, 1e5, 10, -1), // jumps back up: the next sweep
        f: r('c1', 3 + 700, 1e4, 12, 2), // 11 min later: another sweep
        g: r('c2', 2, 1e4, 51, 4),
      });
      const out = input.pipe(
        impedanceSpectra({ maxPointGap_ms: 600_000 }),
        map(({ point, block }) => `${point.cell}:${point.block}:${block.points}:${block.rHf_Ohm === null ? '-' : block.rHf_Ohm.toFixed(2)}`),
      );
      // c1's first sweep: −Im(Z) crosses zero between 100 kHz and 10 kHz at Re(Z) = 10 + 2·(1/3) Ω.
      expectObservable(out).toBe('a b c d e f g|', {
        a: 'c1:0:1:-',
        b: 'c1:0:2:-',
        c: 'c2:0:1:-',
        d: 'c1:0:3:10.67',
        e: 'c1:1:1:-',
        f: 'c1:2:1:-',
        g: 'c2:0:2:-',
      });
    });
  });
});
