import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/domain/sample.js';
import {
  batchMessages,
  decodeImpedance,
  decodeMessages,
  encodeImpedance,
  encodeMessage,
  MAX_PAYLOAD_BYTES,
  readEcBytes,
} from '../../../src/io/wire/payload.js';
import { decodeMessage } from '../../support/lines.js';

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

  it('locates a topic under the prefix it is decoded with, also when the same topic comes again under another', () => {
    const payload = '{"t":"2026-01-01T00:00:00.000Z","voltage_V":0.07,"current_mA":1.5}';
    const cellOf = (topic: string, prefix: string): string => {
      const d = decodeMessage(topic, payload, prefix);
      return d.ok ? d.sample.cell : d.reason;
    };
    for (let round = 0; round < 2; round++) {
      expect(cellOf('lab/cells/c1/ec', 'lab/cells')).toBe('c1');
      expect(cellOf('lab/cells/c1/ec', 'cells')).toBe('unknown-topic');
      expect(cellOf('cells/c 1/ec', 'cells')).toBe('bad-cell-id');
      expect(cellOf('cells/c1/ec', 'cells')).toBe('c1');
      expect(cellOf('cells/c1/ec', '/cells/')).toBe('c1');
    }
  });
});

describe('the ec fast path (bytes, no JSON.parse)', () => {
  it('reads what encodeMessage writes, as JSON.parse would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (t_ms, v, i) => {
          const m = encodeMessage({ cell: 'c1', t_ms, voltage_V: v, current_mA: i, pressure_MPa: undefined, temperature_C: undefined });
          const fast = readEcBytes(Buffer.from(m.payload), 'c1');
          expect(fast).not.toBeNull();
          expect(fast).toEqual((decodeMessage(m.topic, m.payload) as { sample: unknown }).sample);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("never accepts what JSON.parse would read differently or refuse: every answer it gives is the slow path's", () => {
    // Plain decimals of up to 20 digits, as instruments write them: the digit path (≤ 15 digits) and the text path.
    const decimals = fc
      .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,9})$/), fc.option(fc.stringMatching(/^[0-9]{1,10}$/), { nil: undefined }))
      .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : '.' + fraction}`);
    const numbers = fc.oneof(
      fc.double({ noNaN: true }).map(String),
      decimals,
      fc.constantFrom('1.', '01', '-', '1e', '.5', '+1', '1e400', '-1e400', '-0', '0.0e+1', '1E-3', '2e+0', '0x10', 'NaN', 'Infinity', '1_0', '١'),
    );
    const times = fc.oneof(
      fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('2026-01-01T0/:00:00Z', '2026-01-01T00:0a:00.000Z', '2026-01-01T00:00:00.0a0Z', '2026-01-01T00:00:00,000Z', '2026-01-01T23:59:60.999Z'),
      fc.constantFrom(
        '2026-02-30T00:00:00.000Z',
        '2026-01-01T00:00:00Z',
        '2026-01-01T25:00:00.000Z',
        '2026-01-01',
        '',
        'x',
        '2026-01-01T00:00:00.000\\u005a',
        '1700000000000',
        '2026-01-01T00:00:00+02:00',
      ),
    );
    // Mostly the exact template, so that the fast path is taken often enough to be checked.
    const glue = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(' ', '\n') });
    const payloads = fc
      .tuple(
        times,
        numbers,
        numbers,
        glue,
        glue,
        fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(',"pressure_MPa":1', '}') }),
      )
      .map(([t, v, i, g1, g2, swap, extra]) =>
        swap ? `{"t":"${t}",${g1}"current_mA":${i},"voltage_V":${v}${extra}}${g2}` : `{"t":"${t}",${g1}"voltage_V":${v},"current_mA":${i}${extra}}${g2}`,
      );
    let fastTaken = 0;
    fc.assert(
      fc.property(payloads, (payload) => {
        const fast = readEcBytes(Buffer.from(payload), 'c1');
        if (fast === null) return;
        fastTaken++;
        const slow = decodeMessage('cells/c1/ec', payload);
        expect(slow.ok, payload).toBe(true);
        expect(fast, payload).toEqual((slow as { sample: unknown }).sample);
        expect(Object.is(fast.voltage_V, (slow as { sample: Sample }).sample.voltage_V), payload).toBe(true);
        expect(Object.is(fast.current_mA, (slow as { sample: Sample }).sample.current_mA), payload).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(fastTaken).toBeGreaterThan(100); // the fast path was exercised, not only refused
    // And through decodeMessages, a bad one still gets the slow path's rejection.
    const out: string[] = [];
    decodeMessages(
      'cells/c1/ec',
      Buffer.from('{"t":"2026-02-30T00:00:00.000Z","voltage_V":1,"current_mA":2}'),
      'cells',
      () => out.push('sample'),
      (r) => out.push(r),
    );
    decodeMessages(
      'cells/c1/ec',
      Buffer.from('{"t":"2026-01-01T00:00:00.000Z","voltage_V":1e400,"current_mA":2}'),
      'cells',
      () => out.push('sample'),
      (r) => out.push(r),
    );
    expect(out).toEqual(['bad-timestamp', 'bad-number']);
  });
});

describe('batches (several rows in one message)', () => {
  const sample = (cell: string, k: number, extra: Partial<Sample> = {}): Sample => ({
    cell,
    t_ms: Date.UTC(2026, 0, 1) + k * 1000,
    voltage_V: 0.07 + k * 1e-4,
    current_mA: k % 2 === 0 ? 2 : -2,
    pressure_MPa: undefined,
    temperature_C: undefined,
    ...extra,
  });
  const decodeAll = (messages: Iterable<{ topic: string; payload: string }>) => {
    const samples: Sample[] = [];
    const rejected: string[] = [];
    for (const m of messages)
      decodeMessages(
        m.topic,
        m.payload,
        'cells',
        (s) => samples.push(s),
        (reason, detail) => rejected.push(`${reason}: ${detail}`),
      );
    return { samples, rejected };
  };

  it('join consecutive rows of one topic, keep the order across topics, and decode to the same samples', () => {
    const rows = [
      ...Array.from({ length: 250 }, (_, k) => sample('a', k)),
      sample('a', 250, { temperature_C: 25 }), // another topic: cuts the batch
      ...Array.from({ length: 3 }, (_, k) => sample('a', 251 + k)),
      sample('b', 0),
    ];
    const messages = [...batchMessages([...rows.map((s) => encodeMessage(s)), { topic: 'cells/a/impedance', payload: '{"t":0}' }], 100)];
    expect(messages.map((m) => m.topic)).toEqual([
      ...Array(3).fill('cells/a/ec'), // 100 + 100 + 50
      'cells/a/telemetry',
      'cells/a/ec',
      'cells/b/ec',
      'cells/a/impedance',
    ]);
    // A lone row stays a plain SPEC §4 object; a run of rows is an array.
    expect(messages[3]!.payload.startsWith('{')).toBe(true);
    expect(messages[5]!.payload.startsWith('{')).toBe(true);
    expect((JSON.parse(messages[0]!.payload) as unknown[]).length).toBe(100);
    expect(messages.every((m) => m.payload.length <= MAX_PAYLOAD_BYTES)).toBe(true);
    const telemetry = messages.filter((m) => !m.topic.endsWith('/impedance'));
    expect(decodeAll(telemetry)).toEqual({ samples: rows, rejected: [] });
  });

  it('stay under the payload limit whatever the row count, and one row a message when maxRows is 1', () => {
    const rows = Array.from({ length: 500 }, (_, k) => sample('c', k));
    const big = [
      ...batchMessages(
        rows.map((s) => encodeMessage(s)),
        200,
        4096,
      ),
    ];
    expect(big.every((m) => m.payload.length <= 4096)).toBe(true);
    expect(decodeAll(big).samples).toEqual(rows);
    expect(
      [
        ...batchMessages(
          rows.map((s) => encodeMessage(s)),
          1,
        ),
      ].every((m) => m.payload.startsWith('{')),
    ).toBe(true);
  });

  it('reject a bad row of a batch by itself and keep the others', () => {
    const good = encodeMessage(sample('c', 1)).payload;
    const out = decodeAll([
      { topic: 'cells/c/ec', payload: `[${good},{"t":"yesterday","voltage_V":1,"current_mA":1},{"t":0,"voltage_V":"x","current_mA":1}]` },
      { topic: 'cells/c/ec', payload: '[]' },
      { topic: 'cells/c/ec', payload: '[1,' },
      { topic: 'cells/c/ec', payload: `[${good},1,[2]]` }, // not a batch of samples: one rejection
    ]);
    expect(out.samples).toEqual([sample('c', 1)]);
    expect(out.rejected).toEqual([
      'bad-timestamp: batch item 2 of 3: "t" is "yesterday"',
      'bad-number: batch item 3 of 3: voltage_V is "x"',
      'malformed: an empty batch',
      expect.stringMatching(/^malformed: /),
      'malformed: batch item 2 of 3 is not a JSON object',
    ]);
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
