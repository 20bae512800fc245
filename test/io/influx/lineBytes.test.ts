import { describe, expect, it } from 'vitest';
import { writeDecimal, writeInteger, writeTelemetryLine } from '../../../src/io/influx/lineBytes.js';
import { StringLineTarget } from '../../support/lines.js';
import { arrivedNumbers } from '../../../src/io/numbers.js';
import { sample } from '../../../src/domain/sample.js';
import { readEcBytes } from '../../../src/io/wire/payload.js';

const buf = Buffer.alloc(64);
const decimal = (x: number): string => buf.toString('latin1', 0, writeDecimal(buf, 0, x));
const integer = (n: number): string => buf.toString('latin1', 0, writeInteger(buf, 0, n));

// A deterministic spread of doubles over every magnitude the writer handles in plain notation and beyond.
function* doubles(count: number): Generator<number> {
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let k = 0; k < count; k++) {
    const exponent = Math.floor(random() * 44) - 14;
    const sign = random() < 0.3 ? -1 : 1;
    yield sign * random() * 10 ** exponent;
  }
}

describe('line bytes', () => {
  it('writes a derived value with 9 significant digits: the value toPrecision(9) gives, in plain notation from 1e-7 to 1e21', () => {
    const wrong: string[] = [];
    let plainCount = 0;
    for (const x of doubles(200_000)) {
      const text = decimal(x);
      const plain = Math.abs(x) >= 1e-7 && Math.abs(x) < 1e21;
      plainCount += plain ? 1 : 0;
      const shape = plain ? /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/ : /^-?[1-9](\.\d*[1-9])?e[+-]\d+$/;
      if (Number(text) !== Number(x.toPrecision(9)) || !shape.test(text)) wrong.push(`${x} → ${text}`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(plainCount).toBeGreaterThan(100_000);
  });

  it('writes the edges: zero, powers of ten, values that round up to one, the ends of the plain range', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [10, '10'],
      [1000, '1000'],
      [0.001, '0.001'],
      [1e-7, '0.0000001'],
      [9.9999999999, '10'],
      [0.99999999996, '1'],
      [-2.5, '-2.5'],
      [35.61234567891, '35.6123457'],
      [1234567890123, '1234567890000'],
      [1e20, '100000000000000000000'],
      [1e21, '1e+21'],
      [1.5e-8, '1.5e-8'],
      [0.0712, '0.0712'],
    ];
    for (const [x, text] of cases) expect(decimal(x), String(x)).toBe(text);
  });

  it('writes integers with every digit', () => {
    for (const n of [0, 7, 10, 99, 100, -42, 1767225600000, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60]) expect(integer(n)).toBe(String(n));
  });

  it('keeps every digit of raw telemetry: each value reads back to the same double', () => {
    const target = new StringLineTarget();
    const wrong: string[] = [];
    for (const v of doubles(20_000)) {
      writeTelemetryLine(target, sample('c1', 1767225600000, { voltage_V: v, current_mA: v / 3, temperature_C: 25 + v }));
      const line = target.line!;
      const [, fields, t] = line.split(' ');
      const values = Object.fromEntries(fields!.split(',').map((f) => f.split('=') as [string, string]));
      const exact = Number(values['voltage_V']) === v && Number(values['current_mA']) === v / 3 && Number(values['temperature_C']) === 25 + v;
      if (!exact || 'pressure_MPa' in values || t !== '1767225600000') wrong.push(line);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('copies the digits a live value arrived with into its raw line, and formats any other value itself', () => {
    const target = new StringLineTarget();
    const arrived = arrivedNumbers();
    const payload = (v: string, i: string): Buffer => Buffer.from(`{"t":"2026-01-01T00:00:00.000Z","voltage_V":${v},"current_mA":${i}}`);
    for (const [v, i, vText, iText] of [
      ['0.071200', '2.0', '0.0712', '2'],
      ['-0.0000000123', '-2', '-0.0000000123', '-2'],
      ['0.07119999825954437', '1.5e0', '0.07119999825954437', '1.5'],
      ['-0', '0.000', '-0', '0'],
      ['100', '-10.50', '100', '-10.5'],
      ['12345678901234567890', '3', '12345678901234567890', '3'],
    ] as const) {
      const s = readEcBytes(payload(v, i), 'c1', arrived)!;
      writeTelemetryLine(target, s, arrived);
      // Plain decimals keep their digits (a fraction's trailing zeros dropped); a number with an exponent is formatted.
      expect(target.line).toBe(`telemetry,cell=c1 voltage_V=${vText},current_mA=${iText} 1767225600000`);
      expect(Number(vText)).toBe(s.voltage_V);
      expect(Number(iText)).toBe(s.current_mA);
    }
    // Another sample (from the journal, say) with other values: its own digits, not the last message's.
    writeTelemetryLine(target, sample('c1', 1767225600000, { voltage_V: 0.0713, current_mA: 2 }), arrived);
    expect(target.line).toBe('telemetry,cell=c1 voltage_V=0.0713,current_mA=2 1767225600000');
  });
});
