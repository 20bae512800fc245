/**
 * Canonical CSV rows → columns. The decoder turns a batch of lines into typed columns (one number per field,
 * NaN for an empty one) plus the rejected rows, so that the same code runs in the reading thread or in a worker
 * thread that hands its columns over without copying (see csvWorker.ts).
 */
import type { Sample } from '../../domain/sample.js';
import type { RejectReason } from '../../domain/reject.js';
import { chomp } from './textLines.js';
import { ImportError } from './rejections.js';
import { MAX_TIME_MS, parseTimestamp_ms } from '../wire/timestamp.js';
import { LocalClock, parseLocalDateTime_ms } from '../../domain/labTime.js';

/**
 * What a file's time column holds, decided on its first row: ISO dates, or numbers — seconds since the start of the
 * run, unless their magnitude says epoch seconds (≥ 2000-01-01 in seconds: no run lasts 30 years) or epoch
 * milliseconds (≥ 1e11: 3,000 years of seconds).
 */
export type TimeBasis = 'dates' | 'seconds-since-start' | 'epoch-seconds' | 'epoch-milliseconds';

const EPOCH_SECONDS_FROM = 946_684_800;
const EPOCH_MILLISECONDS_FROM = 1e11;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function timeBasisOf(first: string): TimeBasis {
  if (!NUMBER.test(first)) return 'dates';
  const v = Math.abs(+first);
  return v >= EPOCH_MILLISECONDS_FROM ? 'epoch-milliseconds' : v >= EPOCH_SECONDS_FROM ? 'epoch-seconds' : 'seconds-since-start';
}

/** For the note and the summary: what the numbers were read as. */
export function describeTimeBasis(b: TimeBasis, startGiven: boolean): string {
  switch (b) {
    case 'dates':
      return "the time column holds dates (ISO-8601; those without a zone are read in the lab's time zone)";
    case 'epoch-seconds':
      return 'the time column holds numbers as large as seconds since 1970: read as epoch seconds';
    case 'epoch-milliseconds':
      return 'the time column holds numbers as large as milliseconds since 1970: read as epoch milliseconds';
    case 'seconds-since-start':
      return `the time column holds seconds since the start of the run${startGiven ? ' (dated from --start)' : ': times are read as hours since the start (pass --start to date them)'}`;
  }
}

/** NaN for a time no Date can hold (so nothing downstream can throw formatting it). */
const inDateRange = (t_ms: number): number => (Math.abs(t_ms) <= MAX_TIME_MS ? t_ms : NaN);

export interface RowRejection {
  readonly line: number;
  readonly reason: RejectReason;
  readonly detail: string;
}

/** Decoded rows of one batch of lines. Empty fields are NaN; rows with an unreadable number are rejected. */
export interface RowColumns {
  readonly n: number;
  readonly t_ms: Float64Array;
  readonly voltage_V: Float64Array;
  readonly current_mA: Float64Array;
  readonly pressure_MPa: Float64Array;
  readonly temperature_C: Float64Array;
  /** Index into the decoder's cell table; `newCells` are its entries first seen in this batch. */
  readonly cellIndex: Uint32Array;
  readonly newCells: string[];
  readonly rejections: RowRejection[];
  /** Bytes of the file consumed so far, for progress. */
  readonly bytesRead: number;
  /** Set in the batch whose first row decided what the time column holds. */
  readonly timeBasis?: TimeBasis;
}

interface CsvColumns {
  readonly t: number;
  readonly cell: number;
  readonly v: number;
  readonly i: number;
  readonly p: number;
  readonly temp: number;
}

/** The column names of a canonical CSV header line. */
const headerNames = (line: string): string[] => line.split(',').map((h) => h.trim().replace(/^"|"$/g, ''));

function csvColumns(path: string, line: string): CsvColumns {
  const names = headerNames(line);
  const at = (...n: string[]): number => names.findIndex((h) => n.includes(h));
  const cols = {
    t: at('timestamp', 'time', 'time_s', 't'),
    cell: at('cell'),
    v: at('voltage_V'),
    i: at('current_mA'),
    p: at('pressure_MPa'),
    temp: at('temperature_C'),
  };
  if (cols.t < 0) throw new ImportError(path, `line 1: no timestamp column in the header "${line}"`);
  if (cols.v < 0 && cols.i < 0 && cols.p < 0 && cols.temp < 0) {
    throw new ImportError(path, `line 1: none of voltage_V, current_mA, pressure_MPa, temperature_C in the header "${line}"`);
  }
  return cols;
}

export interface CsvDecoderOptions {
  /** The file, named in errors. */
  readonly path: string;
  /** Cell of rows without a cell column. */
  readonly defaultCell: string;
  /** Current of rows with a voltage but no current column value (mA). */
  readonly setCurrent_mA: number | undefined;
  /** What seconds since the start count from (epoch ms); 0 when not given. */
  readonly start_ms?: number;
  /** The lab's zone, for dates without a zone (IANA name or offset). */
  readonly timeZone: string;
}

const MAX_FIELDS = 62;

export class CsvDecoder {
  private lineNo = 0;
  private bytes = 0;
  private cols: CsvColumns | null = null;
  private readonly cells = new Map<string, number>();
  private lastCell = '';
  private lastCellIndex = 0;
  private defaultCellIndex = -1;
  // Field boundaries of the current line: field k spans bounds[k] to bounds[k+1]-1.
  private readonly bounds = new Int32Array(MAX_FIELDS + 2);
  private timeBasis: TimeBasis | null = null;
  private readonly clock: LocalClock;

  constructor(private readonly options: CsvDecoderOptions) {
    this.clock = new LocalClock(options.timeZone);
  }

  /** Whether a header line has been read (an empty file has none). */
  get sawHeader(): boolean {
    return this.cols !== null;
  }

  decode(lines: readonly string[]): RowColumns {
    const cap = lines.length;
    const t_ms = new Float64Array(cap);
    const voltage_V = new Float64Array(cap);
    const current_mA = new Float64Array(cap);
    const pressure_MPa = new Float64Array(cap);
    const temperature_C = new Float64Array(cap);
    const cellIndex = new Uint32Array(cap);
    const newCells: string[] = [];
    const rejections: RowRejection[] = [];
    const setCurrent = this.options.setCurrent_mA ?? NaN;
    const bounds = this.bounds;
    let decided: TimeBasis | undefined;
    let n = 0;
    for (const raw of lines) {
      this.lineNo++;
      this.bytes += raw.length + 1;
      const line = chomp(raw);
      if (line.length === 0) continue;
      const cols = this.cols;
      if (cols === null) {
        this.cols = csvColumns(this.options.path, line);
        continue;
      }
      let nf = 0;
      bounds[0] = 0;
      for (let at = line.indexOf(','); at >= 0 && nf < MAX_FIELDS; at = line.indexOf(',', at + 1)) bounds[++nf] = at + 1;
      bounds[++nf] = line.length + 1;
      const t0 = cols.t < nf ? bounds[cols.t]! : 0;
      const t1 = cols.t < nf ? bounds[cols.t + 1]! - 1 : 0;
      const text = line.slice(t0, t1);
      if (this.timeBasis === null && t1 > t0) this.timeBasis = decided = timeBasisOf(text);
      const t = this.timeOf(text);
      if (!Number.isFinite(t)) {
        rejections.push({ line: this.lineNo, reason: 'bad-timestamp', detail: `"${text}"` });
        continue;
      }
      const v = field(line, bounds, nf, cols.v);
      const i = field(line, bounds, nf, cols.i);
      const p = field(line, bounds, nf, cols.p);
      const temp = field(line, bounds, nf, cols.temp);
      if (v === BAD || i === BAD || p === BAD || temp === BAD) {
        rejections.push({ line: this.lineNo, reason: 'bad-number', detail: line.slice(0, 120) });
        continue;
      }
      if (v !== v && i !== i && p !== p && temp !== temp) {
        rejections.push({ line: this.lineNo, reason: 'no-quantity', detail: line.slice(0, 120) });
        continue;
      }
      let cell: number;
      const c0 = cols.cell >= 0 && cols.cell < nf ? bounds[cols.cell]! : 0;
      const c1 = cols.cell >= 0 && cols.cell < nf ? bounds[cols.cell + 1]! - 1 : 0;
      if (c1 > c0) {
        // Rows of one cell come in runs: compare in place rather than allocate an id per row.
        const same = c1 - c0 === this.lastCell.length && line.startsWith(this.lastCell, c0);
        cell = same ? this.lastCellIndex : this.cellIndexOf(line.slice(c0, c1), newCells);
      } else {
        if (this.defaultCellIndex < 0) this.defaultCellIndex = this.cellIndexOf(this.options.defaultCell, newCells);
        cell = this.defaultCellIndex;
      }
      t_ms[n] = t;
      voltage_V[n] = v;
      current_mA[n] = i === i ? i : v === v ? setCurrent : NaN;
      pressure_MPa[n] = p;
      temperature_C[n] = temp;
      cellIndex[n] = cell;
      n++;
    }
    const out = { n, t_ms, voltage_V, current_mA, pressure_MPa, temperature_C, cellIndex, newCells, rejections, bytesRead: this.bytes };
    return decided === undefined ? out : { ...out, timeBasis: decided };
  }

  /** A time field by the column's basis; an ISO time in a numeric column is still one, a number in a date column is epoch ms. */
  private timeOf(text: string): number {
    const basis = this.timeBasis;
    if (basis !== 'dates' && basis !== null) {
      const v = NUMBER.test(text) ? +text : NaN;
      if (v === v) {
        if (basis === 'epoch-milliseconds') return inDateRange(v);
        if (basis === 'epoch-seconds') return inDateRange(v * 1000);
        return inDateRange((this.options.start_ms ?? 0) + v * 1000);
      }
    }
    const last = text.charCodeAt(text.length - 1);
    if (last >= 48 && last <= 57) {
      // Ends in a digit: a local wall clock (no Z), or an offset (+02:00), or epoch ms. A date alone is left to
      // parseTimestamp_ms (UTC midnight), as the canonical format has always read it.
      const wall = text.length > 10 ? parseLocalDateTime_ms(text) : NaN;
      if (wall === wall) return inDateRange(this.clock.toUtc(wall));
    }
    return parseTimestamp_ms(text);
  }

  private cellIndexOf(name: string, newCells: string[]): number {
    let k = this.cells.get(name);
    if (k === undefined) {
      k = this.cells.size;
      this.cells.set(name, k);
      newCells.push(name);
    }
    this.lastCell = name;
    this.lastCellIndex = k;
    return k;
  }
}

/** A field that is present but not a finite number (distinct from NaN = empty). */
const BAD = Number.NEGATIVE_INFINITY;

function field(line: string, bounds: Int32Array, nf: number, k: number): number {
  if (k < 0 || k >= nf) return NaN;
  const from = bounds[k]!;
  const to = bounds[k + 1]! - 1;
  if (from >= to) return NaN;
  const v = +line.slice(from, to);
  return Number.isFinite(v) ? v : BAD;
}

const opt = (x: number): number | undefined => (x === x ? x : undefined);

/** Samples of decoded columns; `cells` is the receiver's copy of the decoder's cell table. */
export function samplesOf(c: RowColumns, cells: string[]): Sample[] {
  for (const name of c.newCells) cells.push(name);
  const out: Sample[] = new Array(c.n);
  for (let k = 0; k < c.n; k++) {
    out[k] = {
      cell: cells[c.cellIndex[k]!]!,
      t_ms: c.t_ms[k]!,
      voltage_V: opt(c.voltage_V[k]!),
      current_mA: opt(c.current_mA[k]!),
      pressure_MPa: opt(c.pressure_MPa[k]!),
      temperature_C: opt(c.temperature_C[k]!),
    };
  }
  return out;
}
