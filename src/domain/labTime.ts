/**
 * Time as the lab keeps it. Instruments write local wall-clock time without a zone; people read elapsed hours since
 * the cell's start beside the absolute time in the lab's zone. This module turns local wall-clock times into UTC
 * instants (correct across DST changes: the platform's IANA data through `Intl`, no offset tables here) and
 * formats instants for people: `24.05 h · 2023-11-09 14:03 CET`.
 *
 * A zone is an IANA name (`Europe/Berlin`) or a fixed offset (`+02:00`, `UTC`); `Intl` holds the rules of the
 * first, the second is a constant.
 */

/** Times before this are not absolute: a file without a start counts from 1970, which no person should read. */
export const EARLIEST_ABSOLUTE_MS = Date.UTC(2000, 0, 1);

export class TimeZoneError extends Error {
  override name = 'TimeZoneError';
}

/** Where a cell's zone came from, as outputs say it (`configSources.timeZone`). */
export type TimeZoneSource = 'option' | 'registry' | 'rule' | 'config' | 'machine';

const FIXED = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/**
 * The canonical spelling of a zone (`Europe/Berlin`, `+02:00`, `UTC`), or a TimeZoneError naming what is accepted.
 * IANA names are matched case-insensitively and returned as the platform spells them.
 */
export function parseTimeZone(spec: string): string {
  const s = spec.trim();
  if (/^(?:UTC|GMT|Z|Etc\/UTC)$/i.test(s)) return 'UTC';
  const m = FIXED.exec(s);
  if (m !== null) {
    const h = Number(m[2]);
    const min = m[3] === undefined ? 0 : Number(m[3]);
    if (h > 14 || min > 59) throw new TimeZoneError(`time zone "${spec}": an offset is at most ±14:00 (e.g. +02:00)`);
    if (h === 0 && min === 0) return 'UTC';
    return `${m[1]}${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: s }).resolvedOptions().timeZone;
  } catch {
    throw new TimeZoneError(
      `time zone "${spec}" is not known: give an IANA name such as Europe/Berlin, Asia/Tokyo, America/New_York, or an offset such as +02:00`,
    );
  }
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?$/;

/**
 * `2025-10-26T02:30:00(.fff)` (or with a space, or a date alone): a wall clock written without a zone, as the epoch
 * ms of that wall clock read as UTC (`localToUtc_ms` places it in a zone); NaN for anything else, or a day or time
 * that does not exist (2026-02-30, 24:00).
 */
export function parseLocalDateTime_ms(text: string): number {
  const m = LOCAL_DATE_TIME.exec(text);
  if (m === null) return NaN;
  const [, y, mo, d, h, mi, sec, frac] = m;
  if (+(h ?? 0) > 23 || +(mi ?? 0) > 59 || +(sec ?? 0) > 59) return NaN;
  const day = utcFields_ms(+y!, +mo!, +d!, 0, 0, 0);
  // Date rolls 2026-02-30 into March and month 13 into the next year.
  const real = new Date(day);
  if (real.getUTCMonth() !== +mo! - 1 || real.getUTCDate() !== +d!) return NaN;
  return day + ((+(h ?? 0) * 60 + +(mi ?? 0)) * 60 + +(sec ?? 0)) * 1000 + (frac === undefined ? 0 : Math.round(+`0.${frac}` * 1000));
}

/** Calendar fields (month 1–12) read as UTC, any year (Date.UTC would take years 0–99 for 1900–1999). */
function utcFields_ms(year: number, month: number, day: number, h: number, mi: number, s: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, mi, s, 0);
  return d.getTime();
}

/** A fixed offset's minutes east of UTC, or null for a named zone. */
function fixedOffset_min(zone: string): number | null {
  if (zone === 'UTC') return 0;
  const m = /^([+-])(\d\d):(\d\d)$/.exec(zone);
  return m === null ? null : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();
function partsFormat(zone: string): Intl.DateTimeFormat {
  let f = partsFormats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormats.set(zone, f);
  }
  return f;
}

/** The zone's wall clock at `t_ms`, as the epoch ms of that wall clock read as if it were UTC. */
function wallClock_ms(zone: string, t_ms: number): number {
  const fixed = fixedOffset_min(zone);
  if (fixed !== null) return t_ms + fixed * 60_000;
  const whole = Math.floor(t_ms / 1000) * 1000;
  const f: Record<string, number> = {};
  for (const p of partsFormat(zone).formatToParts(whole)) if (p.type !== 'literal') f[p.type] = Number(p.value);
  return utcFields_ms(f['year']!, f['month']!, f['day']!, f['hour']!, f['minute']!, f['second']!) + (t_ms - whole);
}

/** The zone's offset from UTC at the instant `t_ms` (local = UTC + offset), in ms. */
export function zoneOffset_ms(zone: string, t_ms: number): number {
  return wallClock_ms(zone, t_ms) - t_ms;
}

/** Offsets that map some instant to a wall time in this quarter hour (transitions happen on quarter hours). */
function offsetsAround(zone: string, bucket: number): number[] {
  const mid = bucket * 900_000 + 450_000;
  const before = zoneOffset_ms(zone, mid - 86_400_000);
  const after = zoneOffset_ms(zone, mid + 86_400_000);
  // An offset is valid for this wall time when the instant it gives has that offset; the larger one first: it gives
  // the earlier instant of a repeated (autumn) hour.
  const valid = (before === after ? [before] : [before, after]).filter((o) => zoneOffset_ms(zone, mid - o) === o).sort((a, b) => b - a);
  // No valid offset: the hour skipped in spring. The offset from before the change moves the time forward by the
  // gap (what the clocks and Temporal's "compatible" disambiguation do).
  return valid.length > 0 ? valid : [before];
}

/** The UTC instant of `wall_ms` given the offsets valid in its quarter hour (see localToUtc_ms). */
function resolveWall(offsets: readonly number[], wall_ms: number, notBefore_ms: number): number {
  const first = wall_ms - offsets[0]!;
  if (offsets.length === 1 || first >= notBefore_ms) return first;
  return wall_ms - offsets[1]!;
}

/**
 * The UTC instant of a local wall-clock time (`wall_ms`: the wall clock's fields read as if UTC, e.g. from
 * `Date.UTC(y, mo - 1, d, h, mi, s, ms)`). A repeated autumn hour gives two instants: the earlier one, unless it is
 * before `notBefore_ms` (the previous row's instant), so rows written in order keep their order through the hour
 * written twice. A time in the hour skipped in spring is moved forward by the gap.
 */
export function localToUtc_ms(zone: string, wall_ms: number, notBefore_ms = -Infinity): number {
  const fixed = fixedOffset_min(zone);
  if (fixed !== null) return wall_ms - fixed * 60_000;
  if (!Number.isFinite(wall_ms)) return NaN;
  return resolveWall(offsetsAround(zone, Math.floor(wall_ms / 900_000)), wall_ms, notBefore_ms);
}

/**
 * A reader of a column of local wall-clock times written in order: each one converted with the previous instant
 * as its lower bound, so the repeated autumn hour neither repeats nor jumps.
 */
export class LocalClock {
  private last_ms = -Infinity;
  private readonly fixed: boolean;
  // The last quarter hour's offsets: rows come in order, so one `Intl` look-up per quarter hour, not per row.
  private bucket = NaN;
  private offsets: number[] = [];
  constructor(readonly zone: string) {
    this.fixed = fixedOffset_min(zone) !== null;
  }

  toUtc(wall_ms: number): number {
    if (!Number.isFinite(wall_ms)) return NaN;
    let t: number;
    if (this.fixed) t = localToUtc_ms(this.zone, wall_ms);
    else {
      const bucket = Math.floor(wall_ms / 900_000);
      if (bucket !== this.bucket) [this.bucket, this.offsets] = [bucket, offsetsAround(this.zone, bucket)];
      t = resolveWall(this.offsets, wall_ms, this.last_ms);
    }
    this.last_ms = t;
    return t;
  }
}

const nameFormats = new Map<string, Intl.DateTimeFormat[]>();

/** The zone's short name at `t_ms`: `CET`, `EDT`, else its offset, `UTC+9`, `UTC+5:30`. */
export function zoneAbbreviation(zone: string, t_ms: number): string {
  if (fixedOffset_min(zone) === null) {
    let fs = nameFormats.get(zone);
    if (fs === undefined) {
      fs = ['en-US', 'en-GB'].map((loc) => new Intl.DateTimeFormat(loc, { timeZone: zone, timeZoneName: 'short' }));
      nameFormats.set(zone, fs);
    }
    for (const f of fs) {
      const name = f.formatToParts(t_ms).find((p) => p.type === 'timeZoneName')?.value ?? '';
      if (/^[A-Z]{2,5}$/.test(name)) return name;
    }
  }
  const o = zoneOffset_ms(zone, t_ms) / 60_000;
  if (o === 0) return 'UTC';
  const h = Math.trunc(Math.abs(o) / 60);
  const m = Math.abs(o) % 60;
  return `UTC${o < 0 ? '-' : '+'}${h}${m === 0 ? '' : `:${String(m).padStart(2, '0')}`}`;
}

/** `2023-11-09 14:03 CET` (`seconds`: `2023-11-09 14:03:27 CET`). */
export function formatZoned(t_ms: number, zone: string, seconds = false): string {
  const w = new Date(wallClock_ms(zone, t_ms)).toISOString();
  return `${w.slice(0, 10)} ${w.slice(11, seconds ? 19 : 16)} ${zoneAbbreviation(zone, t_ms)}`;
}

/** Hours since the cell's start, as people read them: `24.05 h`. */
export function formatElapsed(t_ms: number, start_ms: number): string {
  const h = (t_ms - start_ms) / 3.6e6;
  return `${Number.isFinite(h) ? h.toFixed(2) : '?'} h`;
}

/** Elapsed hours since `start_ms`, rounded to the second's worth (outputs' `elapsed_h`). */
export const elapsed_h = (t_ms: number, start_ms: number): number => Math.round(((t_ms - start_ms) / 3.6e6) * 1e6) / 1e6;

/** Whether a time is absolute (a real date) rather than a count from 1970 for a file that gave no start. */
export const isAbsolute = (t_ms: number): boolean => t_ms >= EARLIEST_ABSOLUTE_MS;

/**
 * A time for people: elapsed hours since the cell's start and, when the time is absolute, the wall clock in the
 * lab's zone with the zone named: `24.05 h · 2023-11-09 14:03 CET`; elapsed hours only otherwise.
 */
export function labTime(t_ms: number, start_ms: number, zone: string, seconds = false): string {
  const elapsed = Number.isFinite(start_ms) ? formatElapsed(t_ms, start_ms) : null;
  const absolute = isAbsolute(t_ms) && Number.isFinite(t_ms) ? formatZoned(t_ms, zone, seconds) : null;
  if (elapsed !== null && absolute !== null) return `${elapsed} · ${absolute}`;
  return elapsed ?? absolute ?? `${t_ms} ms`;
}

/** How far (± ms) an offset between event time and a clock may be from whole or half hours and still be a zone's. */
export const ZONE_TOLERANCE_MS = 2 * 60_000;

/** Two zones' offsets differ by at most 26 h (UTC−12 against UTC+14). */
const MAX_ZONE_DIFFERENCE_H = 26;

/**
 * An offset between event time and a clock that looks like a time zone misread: from one hour up to the largest
 * difference two zones can have (26 h), within ±2 min of a whole number of hours or of half hours (India,
 * Newfoundland, South Australia). The offset in hours, or null.
 */
export function zoneLikeOffset_h(offset_ms: number): number | null {
  const halves = Math.round(offset_ms / 1_800_000);
  if (Math.abs(halves) < 2 || Math.abs(halves) > 2 * MAX_ZONE_DIFFERENCE_H || Math.abs(offset_ms - halves * 1_800_000) > ZONE_TOLERANCE_MS) return null;
  return halves / 2;
}
