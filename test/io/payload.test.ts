import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/domain/sample.js';
import { decodeMessage, encodeMessage } from '../../src/io/payload.js';

// -0 travels as 0, which is the same reading.
const value = fc.option(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x + 0),
  { nil: undefined },
);

describe('wire format', () => {
  it('decodes every encoded sample back to itself, on the topic its fields call for', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('c1', 'NaSICON-07', 'cell_ä'),
        // Whole and fractional milliseconds (EC-Lab logs points microseconds apart).
        fc.oneof(fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }), fc.double({ min: 946_684_800_000, max: 4_102_444_800_000, noNaN: true })),
        value,
        value,
        value,
        value,
        (cell, t_ms, v, i, p, temp) => {
          // An ec pair is complete or absent; at least one quantity.
          const ec = v !== undefined && i !== undefined;
          const s: Sample = { cell, t_ms, voltage_V: ec ? v : undefined, current_mA: ec ? i : undefined, pressure_MPa: p, temperature_C: temp };
          fc.pre(ec || p !== undefined || temp !== undefined);
          const m = encodeMessage(s, 'lab/a');
          expect(m.topic).toBe(`lab/a/${cell}/${p === undefined && temp === undefined ? 'ec' : 'telemetry'}`);
          const d = decodeMessage(m.topic, m.payload, 'lab/a');
          expect(d).toEqual({ ok: true, sample: s });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes whole-millisecond times as ISO-8601 for a person reading the broker', () => {
    const m = encodeMessage({ cell: 'c1', t_ms: Date.UTC(2026, 0, 1), voltage_V: 0.07, current_mA: 1.5, pressure_MPa: undefined, temperature_C: undefined });
    expect(m).toEqual({ topic: 'cells/c1/ec', payload: '{"t":"2026-01-01T00:00:00.000Z","voltage_V":0.07,"current_mA":1.5}' });
  });
});
