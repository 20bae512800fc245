/** fast-check generators of bad telemetry messages, each with the reason it must be rejected for. */
import fc from 'fast-check';
import { MAX_PAYLOAD_BYTES } from '../../src/io/wire/payload.js';
import { parseTimestamp_ms } from '../../src/io/wire/timestamp.js';

export interface Message {
  readonly topic: string;
  readonly payload: string;
}
export interface BadMessage extends Message {
  readonly reason: string;
}

const T = '2026-01-01T00:00:00.000Z';
const cell = fc.constantFrom('c0', 'c1', 'c2');

/** Bad at decoding: any path (file or broker) must reject these. */
export const decodeBad: fc.Arbitrary<BadMessage> = fc.oneof(
  fc
    .string({ maxLength: 40 })
    .filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    })
    .chain((s) => cell.map((c) => ({ topic: `cells/${c}/ec`, payload: s, reason: 'malformed' }))),
  fc
    .oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant(null), fc.string({ maxLength: 10 }))
    .chain((v) => cell.map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify(v), reason: 'malformed' }))),
  fc
    .oneof(
      fc.string({ maxLength: 8 }),
      fc.boolean(),
      fc.constant('NaN'),
      fc.constant('Infinity'),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    )
    .chain((v) => cell.map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify({ t: T, voltage_V: v, current_mA: 2 }), reason: 'bad-number' }))),
  cell.map((c) => ({ topic: `cells/${c}/ec`, payload: `{"t":"${T}","voltage_V":1e999,"current_mA":2}`, reason: 'bad-number' })),
  fc
    .oneof(fc.string({ maxLength: 12 }), fc.constant(null), fc.boolean())
    .filter((t) => typeof t !== 'string' || Number.isNaN(parseTimestamp_ms(t)))
    .chain((t) => cell.map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify({ t, voltage_V: 0.07, current_mA: 2 }), reason: 'bad-timestamp' }))),
  // Times no Date can hold, and calendar dates that do not exist: each once killed the monitor or was misread.
  fc
    .constantFrom<unknown>(1e20, -1e17, 8.64e15 + 1, '9999999999999999', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00.000Z', '+275760-09-13T00:00:00.001Z')
    .chain((t) => cell.map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify({ t, voltage_V: 0.07, current_mA: 2 }), reason: 'bad-timestamp' }))),
  cell.map((c) => ({
    topic: `cells/${c}/ec`,
    payload: JSON.stringify({ t: T, voltage_V: 0.07, current_mA: 2, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) }),
    reason: 'too-large',
  })),
  fc
    .constantFrom('other/c0/ec', 'cells/c0/humidity', 'cells//ec', 'cells/c0/ec/extra')
    .map((topic) => ({ topic, payload: JSON.stringify({ t: T, voltage_V: 0.07, current_mA: 2 }), reason: 'unknown-topic' })),
  cell.map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify({ t: T, voltage_V: 0.07 }), reason: 'no-current' })),
  cell.map((c) => ({ topic: `cells/${c}/pressure`, payload: JSON.stringify({ t: T, voltage_V: 0.07 }), reason: 'no-quantity' })),
);

/** Good ec messages for cells c0..c2, one second apart per cell, interleaved. */
export function goodMessages(count: number, start_ms = Date.parse(T)): Message[] {
  return Array.from({ length: count }, (_, k) => {
    const c = `c${k % 3}`;
    const t = new Date(start_ms + Math.floor(k / 3) * 1000).toISOString();
    return { topic: `cells/${c}/ec`, payload: JSON.stringify({ t, voltage_V: 0.07 + 0.0001 * (k % 7), current_mA: k % 120 < 60 ? 2 : -2 }) };
  });
}

/** Merge bad messages into good ones at the given positions, keeping the good ones' order. */
export function mix(good: readonly Message[], bad: readonly BadMessage[], positions: readonly number[]): (Message | BadMessage)[] {
  const out: (Message | BadMessage)[] = [...good];
  bad.forEach((b, k) => out.splice(Math.min(out.length, positions[k] ?? 0), 0, b));
  return out;
}
