import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/domain/sample.js';
import { decodeImpedance, decodeMessage, encodeImpedance, encodeMessage } from '../../src/io/payload.js';

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

describe('impedance messages', () => {
  it('decode what encodeImpedance wrote, on the cell of the topic', () => {
    const p = { cell: 'c-7', t_ms: Date.parse('2026-11-25T10:00:00Z'), freq_Hz: 1e5, reZ_Ohm: 905.25, minusImZ_Ohm: -3.5 };
    const m = encodeImpedance(p, 'lab/cells');
    expect(m.topic).toBe('lab/cells/c-7/impedance');
    expect(decodeImpedance(m.topic, Buffer.from(m.payload), 'lab/cells')).toEqual({ ok: true, point: p });
    // Sub-millisecond times travel as epoch milliseconds.
    const q = { ...p, t_ms: p.t_ms + 0.25 };
    expect(decodeImpedance(encodeImpedance(q).topic, encodeImpedance(q).payload)).toEqual({ ok: true, point: q });
  });

  it('reject, with a reason, what is not an impedance point', () => {
    const bad: [string, string, string][] = [
      ['cells/c1/impedance', '{"t":"2026-01-01T00:00:00Z","freq_Hz":0,"ReZ_Ohm":1,"minusImZ_Ohm":1}', 'bad-number'],
      ['cells/c1/impedance', '{"t":"2026-01-01T00:00:00Z","freq_Hz":10,"ReZ_Ohm":"1","minusImZ_Ohm":1}', 'bad-number'],
      ['cells/c1/impedance', '{"t":1e20,"freq_Hz":10,"ReZ_Ohm":1,"minusImZ_Ohm":1}', 'bad-timestamp'],
      ['cells/c1/impedance', '[1,2]', 'malformed'],
      ['cells/c1/impedance', '{"t":', 'malformed'],
      ['cells/c 1/impedance', '{}', 'bad-cell-id'],
      ['cells/c1/ec', '{}', 'unknown-topic'],
      ['cells/a/b/impedance', '{}', 'unknown-topic'],
    ];
    for (const [topic, payload, reason] of bad) expect(decodeImpedance(topic, payload), `${topic} ${payload}`).toMatchObject({ ok: false, reason });
  });
});
