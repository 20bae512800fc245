/** Holding a new cell's first samples for its header: marble tests (one frame = 1 ms). */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { holdForHeader } from '../../src/operators/holdForHeader.js';

const cellOf = (s: string): string => s[0]!; // 'a1' is sample 1 of cell a
const scheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('holdForHeader', () => {
  it("holds a waiting cell's samples until its header, then lets them through in order; other cells pass", () => {
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-x-------c-|', { a: 'a1', b: 'a2', x: 'x1', c: 'a3' }); // x does not wait
      const headers = hot('------h', { h: 'a' });
      const out = source.pipe(holdForHeader({ cellOf, waits: (c) => c === 'a', headers, maxWait_ms: 100, maxHeld: 10 }));
      // The two held samples leave together when the header arrives; later ones pass straight through.
      expectObservable(out).toBe('-----x(ab)---c-|', { x: 'x1', a: 'a1', b: 'a2', c: 'a3' });
    });
  });

  it('lets them go without a header after maxWait_ms, and says so once', () => {
    const told: string[] = [];
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b 10ms c-|', { a: 'a1', b: 'a2', c: 'a3' });
      const out = source.pipe(
        holdForHeader({ cellOf, waits: () => true, headers: hot('-'), maxWait_ms: 5, maxHeld: 10, onNoHeader: (c, n) => told.push(`${c}:${n}`) }),
      );
      expectObservable(out).toBe('------(ab) 4ms c-|', { a: 'a1', b: 'a2', c: 'a3' });
    });
    expect(told).toEqual(['a:2']);
  });

  it('releases at maxHeld, on releaseNow (a checkpoint), and on completion', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const out1 = hot('-a-b-----c-|', { a: 'a1', b: 'a2', c: 'a3' }).pipe(
        holdForHeader({ cellOf, waits: () => true, headers: hot('-'), maxWait_ms: 100, maxHeld: 2 }),
      );
      expectObservable(out1).toBe('---(ab)--c-|', { a: 'a1', b: 'a2', c: 'a3' });
      const out2 = hot('-a-b-------|', { a: 'a1', b: 'b1' }).pipe(
        holdForHeader({ cellOf, waits: () => true, headers: hot('-'), maxWait_ms: 100, maxHeld: 10, releaseNow: hot('----r--') }),
      );
      expectObservable(out2).toBe('----(ab)---|', { a: 'a1', b: 'b1' });
      const out3 = hot('-a-|', { a: 'a1' }).pipe(holdForHeader({ cellOf, waits: () => true, headers: hot('-'), maxWait_ms: 100, maxHeld: 10 }));
      expectObservable(out3).toBe('---(a|)', { a: 'a1' });
    });
  });

  it('a header that arrives before the first sample: nothing is held', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const out = hot('---a-|', { a: 'a1' }).pipe(holdForHeader({ cellOf, waits: () => true, headers: hot('-h--', { h: 'a' }), maxWait_ms: 100, maxHeld: 10 }));
      expectObservable(out).toBe('---a-|', { a: 'a1' });
    });
  });
});
