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
    const v = cachedDay_ms + ((hh * 60 + mm) * 60 + ss) * 1000 + Math.round(ms);
    return hh < 24 && mm < 60 && ss < 61 ? v : NaN;
  }
  if (n > 0 && n <= 16 && /^\d+(\.\d+)?$/.test(text)) return inRange(Number(text));
  return parseSlow(text);
}

/** Accepts ISO strings and epoch-millisecond numbers (SPEC §4). */
export function timestampOf(value: unknown): number {
  if (typeof value === 'number') return inRange(value);
  if (typeof value === 'string') return parseTimestamp_ms(value);
  return NaN;
}
