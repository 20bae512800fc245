/** Reading the command line: options checked with messages a person can act on, and the closest option to a typo. */
import { closestId } from '../../pipelines/analyze.js';
import { parseTimestamp_ms } from '../io/wire/timestamp.js';
import { localToUtc_ms, parseLocalDateTime_ms, parseTimeZone } from '../domain/labTime.js';
import { DEFAULT_FIGURE_OPTIONS, figureFont, type FigureFormat, type FigureOptions } from '../report/figures.js';
import type { FigureWidth } from '../report/figure2.js';
import { parseColumnNames, type ColumnNames } from '../io/instruments/table.js';

export class UsageError extends Error {
  override name = 'UsageError';
}
export function positive(v: number | undefined, flag: string, what: string): number | undefined {
  if (v !== undefined && !(v > 0)) throw new UsageError(`${flag} expects a positive number (${what}), got ${v}`);
  return v;
}
export function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v)) throw new UsageError(`${flag} expects a number, got "${value}"`);
  return v;
}
/** `--tz ZONE`: an IANA name or an offset, checked now (undefined: not given). */
export function zoneOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTimeZone(value);
  } catch (e) {
    throw new UsageError(`--tz: ${(e as Error).message}`);
  }
}
/** `--start`: an ISO-8601 time; one without a zone (`2025-03-07T11:21:39`) is the lab's wall clock, read in `zone`. */
export function startOption(value: string | undefined, zone: string): number | undefined {
  if (value === undefined) return undefined;
  const wall = parseLocalDateTime_ms(value.trim());
  const t = wall === wall ? localToUtc_ms(zone, wall) : parseTimestamp_ms(value);
  if (!Number.isFinite(t))
    throw new UsageError(`--start expects an ISO-8601 time of a real day (2025-03-07T11:21:39 in the lab's zone, or with Z or an offset), got "${value}"`);
  return t;
}
/** The option of `options` nearest to `unknown`: one it is a prefix of (a missing unit suffix), else a typo's. */
export function nearestOption(unknown: string, options: readonly string[]): string | null {
  const bare = (o: string): string => o.replace(/^-+/, '');
  const u = bare(unknown);
  const names = options.map(bare);
  const prefixed = names.findIndex((name) => name.startsWith(u) || u.startsWith(name));
  if (prefixed >= 0) return options[prefixed]!;
  const near = closestId(u, names);
  return near === null ? null : options[names.indexOf(near)]!;
}
/** The options that say how to read a recorded file, shared by `analyze` and `replay`. */
export const IMPORT_FLAGS = {
  format: { type: 'string' },
  cell: { type: 'string' },
  'set-current-mA': { type: 'string' },
  columns: { type: 'string' },
  start: { type: 'string' },
  tz: { type: 'string' },
} as const;

export const FIGURE_FLAGS = { png: { type: 'boolean' }, svg: { type: 'boolean' }, dpi: { type: 'string' }, width: { type: 'string' } } as const;
/** --png/--svg/--dpi/--width → what to export (undefined: no figures). */
export function figureOptions(values: { png?: boolean; svg?: boolean; dpi?: string; width?: string }): FigureOptions | undefined {
  const dpi = num(values.dpi, '--dpi') ?? DEFAULT_FIGURE_OPTIONS.dpi;
  if (!(dpi >= 50 && dpi <= 1200)) throw new UsageError(`--dpi must be between 50 and 1200, got ${values.dpi}`);
  const formats: FigureFormat[] = [...(values.png ? ['png' as const] : []), ...(values.svg ? ['svg' as const] : [])];
  if (formats.length === 0) {
    if (values.dpi !== undefined) throw new UsageError('--dpi sets the PNG resolution: add --png');
    if (values.width !== undefined) throw new UsageError('--width sets the figure width: add --png or --svg');
    return undefined;
  }
  let width: FigureWidth = 'double';
  if (values.width === 'single' || values.width === 'double') width = values.width;
  else if (values.width !== undefined) {
    const mm = Number(values.width);
    if (!(mm >= 40 && mm <= 300)) throw new UsageError(`--width expects single, double or a width in mm between 40 and 300, got ${values.width}`);
    width = mm;
  }
  figureFont(); // no font: say so before the analysis, not after it
  return { formats, dpi, width };
}
export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard expects i/n with 0 ≤ i < n, got "${text}"`);
  return { index: Number(m[1]), count: Number(m[2]) };
}
/** `--speed -1`: a negative number after a flag is its value, not another flag. */
export function negativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** `--columns time=…,voltage=…,current=…`: the table's columns named, or a usage error saying what it takes. */
export function columnsOption(value: string | undefined): { columns?: ColumnNames } {
  if (value === undefined) return {};
  try {
    return { columns: parseColumnNames(value) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
