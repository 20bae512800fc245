import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatZoned,
  labTime,
  LocalClock,
  localToUtc_ms,
  parseLocalDateTime_ms,
  parseTimeZone,
  TimeZoneError,
  zoneAbbreviation,
  zoneLikeOffset_h,
  zoneOffset_ms,
} from '../../src/domain/labTime.js';

/** A wall clock written as ISO without a zone, as the epoch ms of it read as UTC. */
const wall = (s: string): number => Date.parse(`${s}Z`);
const utc = (t: number): string => new Date(t).toISOString();

describe('parseTimeZone', () => {
  it('accepts IANA names in any case and fixed offsets, in one spelling', () => {
    expect(parseTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone('+02:00')).toBe('+02:00');
    expect(parseTimeZone('+2')).toBe('+02:00');
    expect(parseTimeZone('UTC-0530')).toBe('-05:30');
    expect(parseTimeZone('utc')).toBe('UTC');
    expect(parseTimeZone('+00:00')).toBe('UTC');
  });
  it('names what it accepts when the zone is unknown', () => {
    expect(() => parseTimeZone('Mars/Olympus')).toThrow(TimeZoneError);
    expect(() => parseTimeZone('Mars/Olympus')).toThrow(/IANA name such as Europe\/Berlin/);
    expect(() => parseTimeZone('+15:00')).toThrow(/at most ±14:00/);
  });
});

describe('localToUtc_ms', () => {
  it('reads a wall clock in the zone of its date (CET in winter, CEST in summer)', () => {
    expect(utc(localToUtc_ms('Europe/Berlin', wall('2025-01-15T12:00:00')))).toBe('2025-01-15T11:00:00.000Z');
    expect(utc(localToUtc_ms('Europe/Berlin', wall('2025-07-15T12:00:00')))).toBe('2025-07-15T10:00:00.000Z');
    expect(utc(localToUtc_ms('America/New_York', wall('2025-07-15T12:00:00.250')))).toBe('2025-07-15T16:00:00.250Z');
    expect(utc(localToUtc_ms('Asia/Tokyo', wall('2025-03-07T11:21:39')))).toBe('2025-03-07T02:21:39.000Z');
    expect(utc(localToUtc_ms('+05:30', wall('2025-03-07T11:21:39')))).toBe('2025-03-07T05:51:39.000Z');
    expect(utc(localToUtc_ms('UTC', wall('2025-03-07T11:21:39')))).toBe('2025-03-07T11:21:39.000Z');
  });
  it('moves a time of the hour skipped in spring forward by the gap', () => {
    // 2025-03-30 02:00 CET → 03:00 CEST: 02:30 does not exist; the clocks would show 03:30 CEST.
    expect(utc(localToUtc_ms('Europe/Berlin', wall('2025-03-30T02:30:00')))).toBe('2025-03-30T01:30:00.000Z');
    expect(utc(localToUtc_ms('Europe/Berlin', wall('2025-03-30T03:30:00')))).toBe('2025-03-30T01:30:00.000Z');
  });
  it('takes the earlier of a repeated autumn hour, the later one when the earlier is before the previous row', () => {
    const t = wall('2025-10-26T02:30:00');
    expect(utc(localToUtc_ms('Europe/Berlin', t))).toBe('2025-10-26T00:30:00.000Z');
    expect(utc(localToUtc_ms('Europe/Berlin', t, Date.parse('2025-10-26T00:59:00Z')))).toBe('2025-10-26T01:30:00.000Z');
  });
  it('is the inverse of the zone offset for every instant (property, several zones)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Tokyo'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, t) => {
        const w = t + zoneOffset_ms(zone, t);
        const back = localToUtc_ms(zone, w, t);
        // The wall clock of the answer is the one asked for, and with the instant itself as the bound it is that instant.
        expect(back + zoneOffset_ms(zone, back)).toBe(w);
        expect(back).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('LocalClock', () => {
  it('reads rows written every minute through the autumn change without a jump or a repeat', () => {
    const clock = new LocalClock('Europe/Berlin');
    // The instrument's clock: 00:00 CEST … 02:59 CEST, 02:00 CET … 04:00 CET, one row a minute.
    const rows: number[] = [];
    for (let t = Date.parse('2025-10-25T22:00:00Z'); t <= Date.parse('2025-10-26T03:00:00Z'); t += 60_000) rows.push(t + zoneOffset_ms('Europe/Berlin', t));
    const read = rows.map((w) => clock.toUtc(w));
    const steps = new Set(read.slice(1).map((t, k) => t - read[k]!));
    expect([...steps]).toEqual([60_000]);
    expect(utc(read[0]!)).toBe('2025-10-25T22:00:00.000Z');
    expect(utc(read.at(-1)!)).toBe('2025-10-26T03:00:00.000Z');
  });
  it('reads rows through the spring change continuously', () => {
    const clock = new LocalClock('America/New_York');
    const read: number[] = [];
    for (let t = Date.parse('2025-03-09T05:00:00Z'); t <= Date.parse('2025-03-09T09:00:00Z'); t += 10_000)
      read.push(clock.toUtc(t + zoneOffset_ms('America/New_York', t)));
    expect(new Set(read.slice(1).map((t, k) => t - read[k]!))).toEqual(new Set([10_000]));
  });
});

describe('times for people', () => {
  it('names the zone by its abbreviation where it has one, else by its offset', () => {
    expect(zoneAbbreviation('Europe/Berlin', Date.parse('2023-11-09T13:03:00Z'))).toBe('CET');
    expect(zoneAbbreviation('Europe/Berlin', Date.parse('2023-07-09T13:03:00Z'))).toBe('CEST');
    expect(zoneAbbreviation('America/New_York', Date.parse('2023-07-09T13:03:00Z'))).toBe('EDT');
    expect(zoneAbbreviation('Asia/Tokyo', Date.parse('2023-07-09T13:03:00Z'))).toBe('UTC+9');
    expect(zoneAbbreviation('Asia/Kolkata', Date.parse('2023-07-09T13:03:00Z'))).toBe('UTC+5:30');
    expect(zoneAbbreviation('-03:00', 0)).toBe('UTC-3');
  });
  it('gives elapsed hours and the wall clock in the zone, elapsed hours only before 2000', () => {
    const start = Date.parse('2023-11-08T13:00:00Z');
    expect(labTime(start + 24.05 * 3.6e6, start, 'Europe/Berlin')).toBe('24.05 h · 2023-11-09 14:03 CET');
    expect(formatZoned(Date.parse('2021-08-23T10:00:05Z'), 'Europe/Berlin', true)).toBe('2021-08-23 12:00:05 CEST');
    // A file without a start counts from 1970: no date is shown.
    expect(labTime(5 * 3.6e6, 0, 'Europe/Berlin')).toBe('5.00 h');
  });
});

describe('zoneLikeOffset_h', () => {
  it('takes whole hours (and half hours) within ±2 min for a zone misread', () => {
    expect(zoneLikeOffset_h(2 * 3.6e6 + 90_000)).toBe(2);
    expect(zoneLikeOffset_h(9 * 3.6e6 - 60_000)).toBe(9);
    expect(zoneLikeOffset_h(5.5 * 3.6e6)).toBe(5.5);
    expect(zoneLikeOffset_h(-5 * 3.6e6)).toBe(-5);
    expect(zoneLikeOffset_h(2 * 3.6e6 + 5 * 60_000)).toBeNull();
    expect(zoneLikeOffset_h(20 * 60_000)).toBeNull();
    // Two days ahead is no zone's offset (they differ by 26 h at most): a wrong clock.
    expect(zoneLikeOffset_h(48 * 3.6e6)).toBeNull();
    expect(zoneLikeOffset_h(26 * 3.6e6)).toBe(26);
  });
});

describe('parseLocalDateTime_ms', () => {
  it('reads a wall clock without a zone, refuses days and times that do not exist and anything with a zone', () => {
    expect(parseLocalDateTime_ms('2025-10-26T02:30:00')).toBe(Date.UTC(2025, 9, 26, 2, 30));
    expect(parseLocalDateTime_ms('2025-10-26 02:30:00,250')).toBe(Date.UTC(2025, 9, 26, 2, 30, 0, 250));
    expect(parseLocalDateTime_ms('2025-10-26')).toBe(Date.UTC(2025, 9, 26));
    expect(parseLocalDateTime_ms('0050-01-01T00:00')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
    for (const bad of ['2026-02-30T00:00', '2025-13-01T00:00', '2025-10-26T24:00', '2025-10-26T02:30:00Z', '2025-10-26T02:30:00+02:00', '1761438600'])
      expect(parseLocalDateTime_ms(bad), bad).toBeNaN();
  });
});
