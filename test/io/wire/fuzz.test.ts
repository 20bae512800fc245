/**
 * Property-based fuzzing of the payload decoder and of the monitoring pipeline: bad messages mixed into good
 * ones never crash anything, each is counted under its reason, and every good one is processed.
 */
import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { assumedCell } from '../../../src/domain/cell.js';
import { DEFAULT_DETECTOR_OPTIONS } from '../../../src/domain/detector/index.js';
import type { Sample } from '../../../src/domain/sample.js';
import { decodeMessage } from '../../support/lines.js';
import { monitorCells } from '../../../src/operators/monitor.js';
import { decodeBad, goodMessages, mix, type BadMessage } from '../../support/badMessages.js';

describe('payload decoder', () => {
  it('never throws on arbitrary topics and payloads, and returns a sample or a reason', () => {
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 }), fc.json().map(String)), (topic, payload) => {
        const d = decodeMessage(topic, payload);
        expect(d.ok || typeof d.reason === 'string').toBe(true);
        if (d.ok) expect(Number.isFinite(d.sample.t_ms)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects each kind of bad message for its own reason', () => {
    fc.assert(
      fc.property(decodeBad, (b) => {
        const d = decodeMessage(b.topic, b.payload);
        expect(d.ok ? 'accepted' : d.reason).toBe(b.reason);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('pipeline under fuzz', () => {
  let badTried = 0;
  it('counts every bad message and processes every good one, over ≥ 10,000 generated bad messages', async () => {
    const good = goodMessages(900);
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(decodeBad, { minLength: 400, maxLength: 600 })
          .chain((bad) => fc.tuple(fc.constant(bad), fc.array(fc.nat(good.length), { minLength: bad.length, maxLength: bad.length }))),
        async ([bad, positions]) => {
          badTried += bad.length;
          const counts = new Map<string, number>();
          const count = (r: string) => counts.set(r, (counts.get(r) ?? 0) + 1);
          const samples: Sample[] = [];
          for (const m of mix(good, bad, positions)) {
            const d = decodeMessage(m.topic, m.payload);
            if (d.ok) samples.push(d.sample);
            else count(d.reason);
          }
          const outputs = await lastValueFrom(
            from(samples).pipe(
              monitorCells({
                reorderWindow_ms: 5000,
                auxStaleness_ms: 60_000,
                detector: DEFAULT_DETECTOR_OPTIONS,
                derived: true,
                resolveCell: (id) => assumedCell(id),
                onReject: (r) => count(r),
              }),
              toArray(),
            ),
          );
          const expected = new Map<string, number>();
          for (const b of bad as BadMessage[]) expected.set(b.reason, (expected.get(b.reason) ?? 0) + 1);
          expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
          expect(outputs.filter((o) => o.type === 'derived')).toHaveLength(good.length);
        },
      ),
      { numRuns: 25 },
    );
    expect(badTried).toBeGreaterThanOrEqual(10_000);
  });
});
