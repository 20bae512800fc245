/**
 * Streaming importers of recorded telemetry: canonical CSV, JSON Lines of MQTT messages, BioLogic EC-Lab
 * text exports. Each yields batches of samples; a bad row is counted with its line number and skipped.
 */
import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Sample } from '../domain/sample.js';
import { chomp, readLineBatches } from './lines.js';
import { decodeMessage, decodePayload } from './payload.js';
import { ImportError, type RejectionLog } from './report.js';
import { MAX_TIME_MS, parseTimestamp_ms } from './timestamp.js';

export type TelemetryFormat = 'csv' | 'jsonl' | 'mpt';
export const FORMATS: readonly TelemetryFormat[] = ['csv', 'jsonl', 'mpt'];

export interface ImportOptions {
  /** Cell id for single-cell formats (EC-Lab); the file's base name by default. */
  readonly cell?: string;
  /** Set current (mA) for exports without a current column. */
  readonly setCurrent_mA?: number;
  /** Start time for exports whose header does not give one (epoch ms). */
  readonly start_ms?: number;
  readonly topicPrefix?: string;
  /** Called with bytes read so far, for progress on long files. */
  readonly onProgress?: (bytesRead: number) => void;
  /** Called with notes a person should see (assumptions the importer made). */
  readonly onNote?: (message: string) => void;
}

export interface ImportedFile {
  readonly path: string;
  readonly format: TelemetryFormat;
  readonly size_bytes: number;
  readonly batches: AsyncGenerator<Sample[]>;
}

/** Open a telemetry file, sniffing its format when none is given. */
export async function openTelemetry(path: string, rejections: RejectionLog, options: ImportOptions = {}, format?: TelemetryFormat): Promise<ImportedFile> {
  let head: string;
  let size_bytes: number;
  try {
    const fh = await open(path, 'r');
    try {
      size_bytes = (await fh.stat()).size;
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString('latin1');
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new ImportError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const f = format ?? sniffFormat(path, head);
  const batches =
    f === 'csv' ? readCsv(path, rejections, options) : f === 'jsonl' ? readJsonl(path, rejections, options) : readMpt(path, head, rejections, options);
  return { path, format: f, size_bytes, batches };
}

/** The cell a single-cell file belongs to when no id is given: its base name without extension. */
export function defaultCellId(path: string): string {
  return basename(path).replace(/\.[^.]*$/, '');
}

export function sniffFormat(path: string, head: string): TelemetryFormat {
  const ext = extname(path).toLowerCase();
  const first = head.split('\n', 1)[0]!.trim();
  if (first.startsWith('EC-Lab ASCII FILE') || /(^|\t)time\/s(\t|$)/.test(first)) return 'mpt';
  if (first.startsWith('{')) return 'jsonl';
  if (/^"?(timestamp|time|t)"?\s*,/i.test(first)) return 'csv';
  if (ext === '.mpr') throw new ImportError(path, 'binary EC-Lab .mpr files are not read: export the run as text (.mpt) from EC-Lab');
  throw new ImportError(
    path,
    `unknown format: expected canonical CSV (header "timestamp,cell,voltage_V,…"), JSON Lines of MQTT messages, or an EC-Lab text export (.mpt); pass --format ${FORMATS.join('|')} if the file is one of these`,
  );
}

const BATCH = 4096;

/** A field as a number: undefined when empty, NaN when not a finite number. */
function fieldNumber(line: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  const v = +line.slice(from, to);
  return Number.isFinite(v) ? v : NaN;
}

interface CsvColumns {
  readonly t: number;
  readonly cell: number;
  readonly v: number;
  readonly i: number;
  readonly p: number;
  readonly temp: number;
}

function csvColumns(path: string, line: string): CsvColumns {
  const names = line.split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const at = (...n: string[]): number => names.findIndex((h) => n.includes(h));
  const cols = { t: at('timestamp', 'time', 't'), cell: at('cell'), v: at('voltage_V'), i: at('current_mA'), p: at('pressure_MPa'), temp: at('temperature_C') };
  if (cols.t < 0) throw new ImportError(path, `line 1: no timestamp column in the header "${line}"`);
  if (cols.v < 0 && cols.i < 0 && cols.p < 0 && cols.temp < 0) {
    throw new ImportError(path, `line 1: none of voltage_V, current_mA, pressure_MPa, temperature_C in the header "${line}"`);
  }
  return cols;
}

async function* readCsv(path: string, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  let lineNo = 0;
  let bytes = 0;
  let cols: CsvColumns | null = null;
  const defaultCell = options.cell ?? defaultCellId(path);
  // Field boundaries of the current line: start of field k at bounds[k], its end at bounds[k+1]-1.
  const bounds = new Int32Array(64);
  let lastCell = defaultCell;
  let out: Sample[] = [];
  for await (const lines of readLineBatches(path)) {
    for (const raw of lines) {
      lineNo++;
      bytes += raw.length + 1;
      const line = chomp(raw);
      if (line.length === 0) continue;
      if (cols === null) {
        cols = csvColumns(path, line);
        continue;
      }
      let nf = 0;
      bounds[0] = 0;
      for (let at = line.indexOf(','); at >= 0 && nf < 62; at = line.indexOf(',', at + 1)) bounds[++nf] = at + 1;
      bounds[++nf] = line.length + 1;
      const num = (k: number): number | undefined => (k >= 0 && k < nf ? fieldNumber(line, bounds[k]!, bounds[k + 1]! - 1) : undefined);
      const t0 = cols.t < nf ? bounds[cols.t]! : 0;
      const t1 = cols.t < nf ? bounds[cols.t + 1]! - 1 : 0;
      const t_ms = parseTimestamp_ms(line.slice(t0, t1));
      if (!Number.isFinite(t_ms)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-timestamp', detail: `"${line.slice(t0, t1)}"` });
        continue;
      }
      const v = num(cols.v);
      const i = num(cols.i);
      const p = num(cols.p);
      const temp = num(cols.temp);
      if (Number.isNaN(v) || Number.isNaN(i) || Number.isNaN(p) || Number.isNaN(temp)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-number', detail: line.slice(0, 120) });
        continue;
      }
      if (v === undefined && i === undefined && p === undefined && temp === undefined) {
        rejections.reject({ source: path, line: lineNo, reason: 'no-quantity', detail: line.slice(0, 120) });
        continue;
      }
      let cell = defaultCell;
      if (cols.cell >= 0 && cols.cell < nf) {
        const c0 = bounds[cols.cell]!;
        const c1 = bounds[cols.cell + 1]! - 1;
        // Rows of one cell come in runs: reuse its id string rather than allocate one per row.
        if (c1 - c0 === lastCell.length && line.startsWith(lastCell, c0)) cell = lastCell;
        else if (c1 > c0) cell = lastCell = line.slice(c0, c1);
      }
      out.push({ cell, t_ms, voltage_V: v, current_mA: i ?? (v !== undefined ? options.setCurrent_mA : undefined), pressure_MPa: p, temperature_C: temp });
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    options.onProgress?.(bytes);
  }
  if (cols === null) throw new ImportError(path, 'the file is empty');
  if (out.length > 0) yield out;
}

/**
 * JSON Lines of MQTT messages: `{"topic":"cells/c1/ec","payload":{…}}` (payload as object or string),
 * or bare payloads that name their `cell`.
 */
async function* readJsonl(path: string, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  let lineNo = 0;
  let bytes = 0;
  let out: Sample[] = [];
  for await (const lines of readLineBatches(path)) {
    for (const raw of lines) {
      lineNo++;
      bytes += raw.length + 1;
      const line = chomp(raw).trim();
      if (line.length === 0) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch (e) {
        rejections.reject({ source: path, line: lineNo, reason: 'malformed', detail: (e as Error).message });
        continue;
      }
      const m = msg as Record<string, unknown>;
      const decoded =
        typeof m === 'object' && m !== null && typeof m['topic'] === 'string'
          ? typeof m['payload'] === 'string'
            ? decodeMessage(m['topic'], m['payload'], options.topicPrefix)
            : decodeMessage(m['topic'], JSON.stringify(m['payload'] ?? null), options.topicPrefix)
          : typeof m === 'object' && m !== null && typeof m['cell'] === 'string'
            ? decodePayload(m['cell'], 'telemetry', m)
            : ({ ok: false, reason: 'malformed', detail: 'neither {"topic","payload"} nor a payload with "cell"' } as const);
      if (!decoded.ok) {
        rejections.reject({ source: path, line: lineNo, reason: decoded.reason, detail: decoded.detail });
        continue;
      }
      out.push(decoded.sample);
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    options.onProgress?.(bytes);
  }
  if (out.length > 0) yield out;
}

/** EC-Lab "Acquisition started on : MM/DD/YYYY HH:MM:SS.fff" (local time of the instrument; read as UTC). */
function ecLabStart_ms(head: string): number | undefined {
  const m = /Acquisition started on : (\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d(?:\.\d+)?)/.exec(head);
  if (m === null) return undefined;
  const [, mo, da, yr, hh, mi, ss] = m;
  return Date.UTC(+yr!, +mo! - 1, +da!, +hh!, +mi!, 0) + Math.round(parseFloat(ss!) * 1000);
}

/** EC-Lab numbers may use a decimal comma, depending on the PC's locale. */
function ecNumber(s: string | undefined): number {
  if (s === undefined || s.length === 0) return NaN;
  return +(s.indexOf(',') >= 0 ? s.replace(',', '.') : s);
}

async function* readMpt(path: string, head: string, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  const headerLinesMatch = /Nb header lines\s*:\s*(\d+)/.exec(head);
  const headerLines = headerLinesMatch ? Number(headerLinesMatch[1]) : 1;
  const cell = options.cell ?? defaultCellId(path);
  let lineNo = 0;
  let bytes = 0;
  let cols: { t: number; v: number; i: number; freq: number } | null = null;
  let start_ms = options.start_ms ?? 0;
  let headerText = '';
  let out: Sample[] = [];
  for await (const lines of readLineBatches(path, 'latin1')) {
    for (const raw of lines) {
      lineNo++;
      bytes += raw.length + 1;
      const line = chomp(raw);
      if (lineNo < headerLines) {
        headerText += line + '\n';
        continue;
      }
      if (lineNo === headerLines) {
        const names = line.split('\t').map((s) => s.trim());
        const t = names.indexOf('time/s');
        const v = names.findIndex((n) => n === 'Ewe/V' || n === 'Ecell/V' || n === 'Ewe-Ece/V');
        const i = names.findIndex((n) => n === '<I>/mA' || n === 'I/mA');
        if (t < 0 || v < 0) throw new ImportError(path, `line ${lineNo}: EC-Lab columns time/s and Ewe/V not found in the header`);
        if (i < 0 && options.setCurrent_mA === undefined) {
          throw new ImportError(
            path,
            'the export has no current column (<I>/mA or I/mA): give the set current with --set-current-mA or setCurrentMa in the cell registry',
          );
        }
        if (i < 0) options.onNote?.(`${basename(path)}: no current column, using the set current ${options.setCurrent_mA} mA`);
        const started = ecLabStart_ms(headerText);
        if (options.start_ms === undefined) {
          if (started !== undefined) start_ms = started;
          else options.onNote?.(`${basename(path)}: the header gives no acquisition start; times count from 1970-01-01T00:00:00Z (pass --start to set it)`);
        }
        // Impedance rows (PEIS/GEIS) carry an AC mean current, not a galvanostatic one: they are pauses.
        cols = { t, v, i, freq: names.indexOf('freq/Hz') };
        continue;
      }
      if (line.length === 0 || cols === null) continue;
      const f = line.split('\t');
      const t_s = ecNumber(f[cols.t]);
      const v = ecNumber(f[cols.v]);
      const impedance = cols.freq >= 0 && ecNumber(f[cols.freq]) > 0;
      const i = impedance ? 0 : cols.i >= 0 ? ecNumber(f[cols.i]) : options.setCurrent_mA!;
      if (!Number.isFinite(t_s) || !(Math.abs(start_ms + t_s * 1000) <= MAX_TIME_MS)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-timestamp', detail: `time/s "${f[cols.t] ?? ''}"` });
        continue;
      }
      if (!Number.isFinite(v) || !Number.isFinite(i)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-number', detail: line.slice(0, 120) });
        continue;
      }
      // Sub-millisecond times are kept: EC-Lab logs points microseconds apart around steps.
      out.push({ cell, t_ms: start_ms + t_s * 1000, voltage_V: v, current_mA: i, pressure_MPa: undefined, temperature_C: undefined });
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    options.onProgress?.(bytes);
  }
  if (cols === null) throw new ImportError(path, `the file ends inside its ${headerLines}-line header`);
  if (out.length > 0) yield out;
}
