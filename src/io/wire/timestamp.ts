/**
 * Timestamp parsing for telemetry: ISO-8601 or epoch milliseconds. Returns NaN when unreadable.
 * The common `YYYY-MM-DDTHH:MM:SS(.fff)Z` form is parsed from character codes with the day cached,
 * because it runs once per sample and `Date.parse` is a large share of an import's cost.
 */
let cachedDay = '';
let cachedDay_ms = NaN;

/** The largest |time| a JavaScript Date can hold (±100,000,000 days from 1970). */
export const MAX_TIME_MS = 8.64e15;

/** A calendar date that exists: Date.parse reads 2026-02-30 as 2 March. */
function realDay(day: string, day_ms: number): boolean {
  return Number.isFinite(day_ms) && new Date(day_ms).toISOString().slice(0, 10) === day;
}

/** NaN for anything a Date cannot hold, so no later `toISOString()` can throw on it. */
const inRange = (t_ms: number): number => (t_ms >= -MAX_TIME_MS && t_ms <= MAX_TIME_MS ? t_ms : NaN);

function parseSlow(text: string): number {
  const t = Date.parse(text);
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(text);
  if (m !== null && !realDay(m[1]!, Date.parse(m[1]! + 'T00:00:00Z'))) return NaN;
  return inRange(t);
}

const d = (s: string, i: number): number => s.charCodeAt(i) - 48;
const isDigit = (c: number): boolean => c >= 0 && c <= 9;
/** hh, mm and ss of `…THH:MM:SS…` are digits. */
const clockDigits = (s: string): boolean =>
  isDigit(d(s, 11)) && isDigit(d(s, 12)) && isDigit(d(s, 14)) && isDigit(d(s, 15)) && isDigit(d(s, 17)) && isDigit(d(s, 18));

/** A clock time on the cached day (both readers' common form), NaN when the clock is out of range. */
const onCachedDay = (hh: number, mm: number, ss: number, ms: number): number =>
  hh < 24 && mm < 60 && ss < 61 ? cachedDay_ms + ((hh * 60 + mm) * 60 + ss) * 1000 + Math.round(ms) : NaN;

export function parseTimestamp_ms(text: string): number {
  const n = text.length;
  if (
    n >= 20 &&
    n <= 24 &&
    text.charCodeAt(10) === 84 /* T */ &&
    text.charCodeAt(n - 1) === 90 /* Z */ &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58
  ) {
    const day = text.slice(0, 10);
    if (day !== cachedDay) {
      const day_ms = Date.parse(day + 'T00:00:00Z');
      cachedDay_ms = realDay(day, day_ms) ? day_ms : NaN;
      cachedDay = day;
    }
    if (!clockDigits(text)) return parseSlow(text);
    const hh = d(text, 11) * 10 + d(text, 12);
    const mm = d(text, 14) * 10 + d(text, 15);
    const ss = d(text, 17) * 10 + d(text, 18);
    let ms = 0;
    if (n > 20) {
      if (text.charCodeAt(19) !== 46 /* . */) return parseSlow(text);
      let scale = 100;
      for (let i = 20; i < n - 1; i++) {
        const c = d(text, i);
        if (c < 0 || c > 9) return parseSlow(text);
        ms += c * scale;
        scale /= 10;
      }
    }
    return onCachedDay(hh, mm, ss, ms);
  }
  if (n > 0 && n <= 16 && /^\d+(\.\d+)?$/.test(text)) return inRange(Number(text));
  return parseSlow(text);
}

/**
 * `parseTimestamp_ms` of the Latin-1 text of `b[start, end)`, without making a string for the common
 * `YYYY-MM-DDTHH:MM:SS(.fff)Z` form of a day already seen (the live ec message's time).
 */
export function timestampOfBytes(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 20 || n > 24 || cachedDay.length !== 10 || b[end - 1] !== 90 /* Z */ || b[start + 10] !== 84 /* T */) return slowBytes(b, start, end);
  for (let i = 0; i < 10; i++) if (b[start + i] !== cachedDay.charCodeAt(i)) return slowBytes(b, start, end);
  if (b[start + 13] !== 58 || b[start + 16] !== 58) return slowBytes(b, start, end);
  const h1 = b[start + 11]! - 48;
  const h2 = b[start + 12]! - 48;
  const m1 = b[start + 14]! - 48;
  const m2 = b[start + 15]! - 48;
  const s1 = b[start + 17]! - 48;
  const s2 = b[start + 18]! - 48;
  if (!(isDigit(h1) && isDigit(h2) && isDigit(m1) && isDigit(m2) && isDigit(s1) && isDigit(s2))) return slowBytes(b, start, end);
  const hh = h1 * 10 + h2;
  const mm = m1 * 10 + m2;
  const ss = s1 * 10 + s2;
  let ms = 0;
  if (n > 20) {
    if (b[start + 19] !== 46 /* . */) return slowBytes(b, start, end);
    let scale = 100;
    for (let i = 20; i < n - 1; i++) {
      const c = b[start + i]! - 48;
      if (!isDigit(c)) return slowBytes(b, start, end);
      ms += c * scale;
      scale /= 10;
    }
  }
  return onCachedDay(hh, mm, ss, ms);
}

const slowBytes = (b: Uint8Array, start: number, end: number): number =>
  parseTimestamp_ms(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1'));

/** Accepts ISO strings and epoch-millisecond numbers (SPEC §4). */
export function timestampOf(value: unknown): number {
  if (typeof value === 'number') return inRange(value);
  if (typeof value === 'string') return parseTimestamp_ms(value);
  return NaN;
}
