/**
 * Streaming importers of recorded telemetry: canonical CSV, JSON Lines of MQTT messages, BioLogic EC-Lab
 * text exports. Each yields batches of samples; a bad row is counted with its line number and skipped.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { basename, extname } from 'node:path';
import { SweepNumbering, type ImpedancePoint } from '../../domain/impedance.js';
import type { Sample } from '../../domain/sample.js';
import { CsvDecoder, describeTimeBasis, samplesOf, type CsvDecoderOptions, type TimeBasis } from './csvRows.js';
import type { CsvWorkerMessage } from './csvWorker.js';
import { chomp, firstLines, readLineBatches } from './textLines.js';
import { gcplFromMprSettings, gcplFromMptHeader, type Protocol } from './ecLabProtocol.js';
import { MPR_MAGIC, mprColumn, openMpr, readMprRows } from './mpr.js';
import { readTable, sniffTable, XLSX_MAGIC, type ColumnNames } from './table.js';
import { NDA_MAGIC, openNda, readNdaSamples } from './nda.js';
import { JET_MAGIC, openRes, readResSamples, type ResFile } from './res.js';
import { openNdax, readNdaxSamples, type NdaxFile } from './ndax.js';
import { decodeMessages, decodePayload } from '../wire/payload.js';
import { ImportError, type RejectionLog } from './rejections.js';
import { MAX_TIME_MS } from '../wire/timestamp.js';
import { LocalClock, localToUtc_ms } from '../../domain/labTime.js';

/** The zone this process runs in: the instrument's, when it runs on the cycler PC. */
export const machineTimeZone = (): string => new Intl.DateTimeFormat().resolvedOptions().timeZone;

export type TelemetryFormat = 'csv' | 'jsonl' | 'mpt' | 'mpr' | 'nda' | 'ndax' | 'res' | 'table';
export const FORMATS: readonly TelemetryFormat[] = ['csv', 'jsonl', 'mpt', 'mpr', 'nda', 'ndax', 'res', 'table'];

export interface ImportOptions {
  /** Cell id for single-cell formats (EC-Lab); the file's base name by default. */
  readonly cell?: string;
  /** Set current (mA) for exports without a current column. */
  readonly setCurrent_mA?: number;
  /** Start time for exports whose header does not give one (epoch ms). */
  readonly start_ms?: number;
  /**
   * The start of a table whose times are durations and that has no dates and no `start_ms` (the bridge gives the
   * file's creation: a script's CSV begun with the test).
   */
  readonly startIfUndated_ms?: number;
  /**
   * The lab's zone (IANA name or fixed offset, see src/domain/labTime.ts): local wall-clock times in the file (EC-Lab's
   * acquisition start, the `.mpr` LOG date, absolute time columns, ISO times without a zone) are read in it.
   * Default: this machine's zone.
   */
  readonly timeZone?: string;
  readonly topicPrefix?: string;
  /** Called with bytes read so far, for progress on long files. */
  readonly onProgress?: (bytesRead: number) => void;
  /** Decode CSV in a worker thread (default: for files of 4 MiB and more). */
  readonly parseInWorker?: boolean;
  /** Called with notes a person should see (assumptions the importer made). */
  readonly onNote?: (message: string) => void;
  /** Called once per CSV file with what its time column was read as (seconds since the start, epoch s or ms, dates). */
  readonly onTimeBasis?: (basis: TimeBasis) => void;
  /**
   * Tail mode (`cyclewatch bridge`): only the records in [from, until) — bytes of a text file (whole lines; the header
   * is read as well), rows of an `.mpr` — of a file that may still be being written.
   */
  readonly range?: { readonly from: number; readonly until: number };
  /** Called with each impedance point of EC-Lab files (PEIS/GEIS rows); those rows reach the detector as rests. */
  readonly onImpedance?: (point: ImpedancePoint) => void;
  /** A table's columns named by the user (`--columns`), where its headers are not recognised. */
  readonly columns?: ColumnNames;
}

/** What an instrument file's header says about the cell and the run (EC-Lab files). */
export interface FileMetadata {
  readonly areaCm2?: number;
  /** The largest |voltage| the channel is set to control (`Ewe ctrl range`): the compliance limit. */
  readonly complianceV?: number;
  readonly technique?: string;
  readonly channel?: string;
  /** The programmed GCPL protocol: set current and time limit per sequence. */
  readonly protocol?: Protocol;
  /** The acquisition start (epoch ms, UTC: the header's local time read in the lab's zone). */
  readonly start_ms?: number;
  /** The zone the header's local times were read in. */
  readonly timeZone?: string;
}

export interface ImportedFile {
  readonly path: string;
  readonly format: TelemetryFormat;
  readonly size_bytes: number;
  readonly metadata: FileMetadata;
  readonly batches: AsyncGenerator<Sample[]>;
}

/** Open a telemetry file, sniffing its format when none is given. */
export async function openTelemetry(path: string, rejections: RejectionLog, options: ImportOptions = {}, format?: TelemetryFormat): Promise<ImportedFile> {
  let head: string;
  let size_bytes: number;
  try {
    // Synchronous: one small read (a follower opens every file it follows at every poll).
    const fd = openSync(path, 'r');
    try {
      size_bytes = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(4096);
      const bytesRead = readSync(fd, buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ImportError(path, 'is a folder: pass a file, or a glob such as "data/*.mpr"');
    throw new ImportError(path, `cannot read the file (${code ?? (e as Error).message})`);
  }
  const f = format ?? sniffFormat(path, head, options.columns);
  const zone = options.timeZone ?? machineTimeZone();
  const nda = f === 'nda' ? await openNda(path) : undefined;
  const res = f === 'res' ? await openRes(path) : undefined;
  const ndax = f === 'ndax' ? await openNdax(path) : undefined;
  const metadata =
    f === 'mpt'
      ? mptMetadata(await readHeaderText(path, head), zone)
      : f === 'mpr'
        ? await mprMetadata(path, zone)
        : res !== undefined
          ? resMetadata(res, zone)
          : ndax !== undefined
            ? ndaxMetadata(ndax)
            : {};
  const batches =
    f === 'csv'
      ? readCsv(path, head, size_bytes, rejections, options)
      : f === 'jsonl'
        ? readJsonl(path, rejections, options)
        : f === 'mpr'
          ? readMprSamples(path, rejections, options)
          : nda !== undefined
            ? readNdaSamples(nda, rejections, { ...options, cell: options.cell ?? defaultCellId(path), timeZone: zone })
            : res !== undefined
              ? readResSamples(res, size_bytes, rejections, { ...options, cell: options.cell ?? defaultCellId(path), timeZone: zone })
              : ndax !== undefined
                ? readNdaxSamples(ndax, rejections, { ...options, cell: options.cell ?? defaultCellId(path) })
                : f === 'table'
                  ? readTable(path, head, rejections, { ...options, timeZone: zone })
                  : readMpt(path, head, rejections, options);
  return { path, format: f, size_bytes, metadata, batches };
}

/** What an Arbin `.res` says of its run: the channel, and the start in the lab's zone. */
function resMetadata(res: ResFile, zone: string): FileMetadata {
  return {
    channel: res.channel,
    technique: res.schedule,
    start_ms: res.startWall_ms === undefined ? undefined : localToUtc_ms(zone, res.startWall_ms),
    timeZone: zone,
  };
}

/** What a Neware `.ndax` says of its run: the channel, the step file, and the first record's date (UTC in the file). */
function ndaxMetadata(ndax: NdaxFile): FileMetadata {
  const first = ndax.timed.date_ms[0];
  return {
    channel: ndax.channel,
    technique: ndax.stepFile,
    protocol: ndax.protocol,
    start_ms: first === undefined ? undefined : first - ndax.timed.stepTime_ms[0]!,
  };
}

/** The cell a single-cell file belongs to when no id is given: its base name without extension. */
export function defaultCellId(path: string): string {
  return basename(path).replace(/\.[^.]*$/, '');
}

export function sniffFormat(path: string, head: string, columns?: ColumnNames): TelemetryFormat {
  const ext = extname(path).toLowerCase();
  if (head.startsWith(MPR_MAGIC)) return 'mpr';
  if (ext === '.mpr') throw new ImportError(path, 'not a readable EC-Lab .mpr file: no "BIO-LOGIC MODULAR FILE" magic');
  if (head.startsWith(NDA_MAGIC)) return 'nda';
  if (head.slice(4, 4 + JET_MAGIC.length) === JET_MAGIC) return 'res';
  if (ext === '.res') throw new ImportError(path, 'not a readable Arbin .res file: not an Access (Jet) database');
  if (ext === '.nda') throw new ImportError(path, 'not a readable Neware .nda file: no "NEWARE" magic');
  const first = head.split('\n', 1)[0]!.trim();
  if (ext === '.mps' || first.startsWith('EC-LAB SETTING FILE')) {
    throw new ImportError(path, 'is an EC-Lab settings file (the protocol, no data): pass the data file of the same run (.mpr, or its .mpt export)');
  }
  if (first.startsWith('EC-Lab ASCII FILE') || /(^|\t)time\/s(\t|$)/.test(first)) return 'mpt';
  if (first.startsWith('{')) return 'jsonl';
  if (head.startsWith(XLSX_MAGIC)) {
    if (ext === '.xlsx') return 'table';
    if (ext === '.ndax') return 'ndax';
    throw new ImportError(path, 'a zip archive: pass an .xlsx workbook (saved as .xlsx), or the data file itself');
  }
  if (columns === undefined && /^"?(timestamp|time|time_s|t)"?\s*,/i.test(first)) return 'csv';
  // Any other table: its columns found by name (or named by --columns), or one line saying which headers it has.
  if (/[,;\t]/.test(first)) {
    const table = sniffTable(head.split('\n').slice(0, 40).map(chomp), columns);
    if (!('refused' in table)) return 'table';
    if (columns !== undefined || /[a-z]/i.test(first)) throw new ImportError(path, table.refused);
  }
  throw new ImportError(
    path,
    `unknown format: expected canonical CSV (header "timestamp,cell,voltage_V,…"), JSON Lines of MQTT messages, or an EC-Lab file (.mpr, or its text export .mpt); pass --format ${FORMATS.join('|')} if the file is one of these`,
  );
}

const BATCH = 4096;

/** Files at least this large are decoded in a worker thread (below it, starting one costs more than it saves). */
const WORKER_MIN_BYTES = 4 << 20;
const CSV_WORKER = new URL('./csvWorker.js', import.meta.url);

function readCsv(path: string, head: string, size_bytes: number, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  const decoder: CsvDecoderOptions = {
    path,
    defaultCell: options.cell ?? defaultCellId(path),
    setCurrent_mA: options.setCurrent_mA,
    start_ms: options.start_ms,
    timeZone: options.timeZone ?? machineTimeZone(),
  };
  // The compiled worker exists in the built package; run from TypeScript sources, decoding stays in this thread.
  const inWorker = options.range === undefined && (options.parseInWorker ?? size_bytes >= WORKER_MIN_BYTES) && existsSync(fileURLToPath(CSV_WORKER));
  return inWorker ? readCsvInWorker(decoder, rejections, options) : readCsvHere(decoder, rejections, options);
}

async function* readCsvHere(decoderOptions: CsvDecoderOptions, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  const { path } = decoderOptions;
  const decoder = new CsvDecoder(decoderOptions);
  const cells: string[] = [];
  const range = options.range === undefined ? undefined : { headerLines: 1, ...options.range };
  for await (const lines of readLineBatches(path, 'utf8', range)) {
    const rows = decoder.decode(lines);
    if (rows.timeBasis !== undefined) noteTimeBasis(path, rows.timeBasis, options);
    for (const r of rows.rejections) rejections.reject({ source: path, ...r });
    if (rows.n > 0) yield samplesOf(rows, cells);
    options.onProgress?.(rows.bytesRead);
  }
  if (!decoder.sawHeader) throw new ImportError(path, 'the file is empty');
}

/** What a numeric time column was read as, said once per file (it decides every time in the file). */
function noteTimeBasis(path: string, basis: TimeBasis, options: ImportOptions): void {
  options.onTimeBasis?.(basis);
  // Dates are the canonical form: only numbers need saying what they were taken for.
  if (basis !== 'dates') options.onNote?.(`${basename(path)}: ${describeTimeBasis(basis, options.start_ms !== undefined)}`);
}

/** The same decoding on another core: reading and parsing overlap with the detection of the previous batch. */
async function* readCsvInWorker(decoderOptions: CsvDecoderOptions, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  const { path } = decoderOptions;
  // A small young generation keeps the second heap near 40 MB; the decoder's garbage is short-lived.
  const worker = new Worker(CSV_WORKER, { workerData: decoderOptions, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  const inbox: CsvWorkerMessage[] = [];
  let failure: Error | null = null;
  let exited = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: CsvWorkerMessage) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (e) => {
    failure = e as Error;
    notify();
  });
  worker.on('exit', () => {
    exited = true;
    notify();
  });
  const cells: string[] = [];
  try {
    for (;;) {
      while (inbox.length === 0) {
        if (failure !== null) throw new ImportError(path, `reading failed (${(failure as Error).message})`);
        if (exited) throw new ImportError(path, 'the reading thread stopped before the end of the file');
        await new Promise<void>((r) => (wake = r));
      }
      const m = inbox.shift()!;
      if (m.type === 'error') throw new ImportError(path, m.importError ? m.detail : `cannot read the file (${m.detail})`);
      if (m.type === 'end') {
        if (!m.sawHeader) throw new ImportError(path, 'the file is empty');
        return;
      }
      worker.postMessage(0); // a credit: this batch is taken
      if (m.rows.timeBasis !== undefined) noteTimeBasis(path, m.rows.timeBasis, options);
      for (const r of m.rows.rejections) rejections.reject({ source: path, ...r });
      if (m.rows.n > 0) yield samplesOf(m.rows, cells);
      options.onProgress?.(m.rows.bytesRead);
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * JSON Lines of MQTT messages: `{"topic":"cells/c1/ec","payload":{…}}` (payload as object or string),
 * or bare payloads that name their `cell`.
 */
async function* readJsonl(path: string, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  let lineNo = 0;
  let bytes = 0;
  let out: Sample[] = [];
  const push = (s: Sample): void => void out.push(s);
  const range = options.range === undefined ? undefined : { headerLines: 0, ...options.range };
  for await (const lines of readLineBatches(path, 'utf8', range)) {
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
      if (typeof m === 'object' && m !== null && typeof m['topic'] === 'string') {
        // A captured MQTT message: one sample or a batch of them.
        const payload = typeof m['payload'] === 'string' ? m['payload'] : JSON.stringify(m['payload'] ?? null);
        decodeMessages(m['topic'], payload, options.topicPrefix ?? 'cells', push, (reason, detail) =>
          rejections.reject({ source: path, line: lineNo, reason, detail }),
        );
      } else {
        const decoded =
          typeof m === 'object' && m !== null && typeof m['cell'] === 'string'
            ? decodePayload(m['cell'], 'telemetry', m)
            : ({ ok: false, reason: 'malformed', detail: 'neither {"topic","payload"} nor a payload with "cell"' } as const);
        if (decoded.ok) push(decoded.sample);
        else rejections.reject({ source: path, line: lineNo, reason: decoded.reason, detail: decoded.detail });
      }
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    options.onProgress?.(bytes);
  }
  if (out.length > 0) yield out;
}

/** EC-Lab "Acquisition started on : MM/DD/YYYY HH:MM:SS.fff": the instrument PC's local time, read in the lab's zone. */
function ecLabStart_ms(head: string, zone: string): number | undefined {
  const m = /Acquisition started on : (\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d(?:\.\d+)?)/.exec(head);
  return m === null ? undefined : Math.round(localToUtc_ms(zone, ecLabWallClock_ms(m[1]!)));
}

/**
 * `MM/DD/YYYY HH:MM:SS.ffff` (the start, and the rows of an export with absolute times): a local wall clock, as the
 * epoch ms of that wall clock read as UTC (converted in the lab's zone by the caller).
 */
function ecLabWallClock_ms(text: string): number {
  const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d(?:[.,]\d+)?)$/.exec(text.trim());
  if (m === null) return NaN;
  const [, mo, da, yr, hh, mi, ss] = m;
  return Date.UTC(+yr!, +mo! - 1, +da!, +hh!, +mi!, 0) + parseFloat(ss!.replace(',', '.')) * 1000;
}

/** EC-Lab leaves 0.001 cm² (or 0) in the area field when nobody filled it in. */
const filledArea = (a: number | undefined): number | undefined => (a !== undefined && Number.isFinite(a) && a > 0.0011 ? a : undefined);

/** The header of an EC-Lab text export (at most its first 256 KiB). */
async function readHeaderText(path: string, head: string): Promise<string> {
  const n = /Nb header lines\s*:\s*(\d+)/.exec(head);
  // An export without the count ("time/s" in its first line) has a one-line header.
  return (await firstLines(path, n === null ? 1 : Number(n[1]))).toString('latin1');
}

/** Area, control range, technique and channel from an EC-Lab text export's header. */
export function mptMetadata(header: string, zone: string): FileMetadata {
  const m = /Nb header lines\s*:\s*(\d+)/.exec(header);
  const lines = header.split(/\r?\n/).slice(0, m ? Number(m[1]) - 1 : 0);
  const text = lines.join('\n');
  const area = /Electrode surface area\s*:\s*([\d.,]+)\s*cm/.exec(text);
  const range = /E(?:we|cell) ctrl range\s*:\s*min\s*=\s*(-?[\d.,]+)\s*V,\s*max\s*=\s*(-?[\d.,]+)\s*V/.exec(text);
  const channel = /Run on channel\s*:\s*(.+)/.exec(text);
  // The technique's name is the line after the one naming the export's file ("Nb header lines" is line 2).
  const technique = lines.length > 3 ? lines[3]!.trim() : undefined;
  return {
    areaCm2: filledArea(area ? ecNumber(area[1]) : undefined),
    complianceV: range ? Math.max(Math.abs(ecNumber(range[1])), Math.abs(ecNumber(range[2]))) : undefined,
    technique: technique !== undefined && technique.length > 0 ? technique : undefined,
    channel: channel ? channel[1]!.trim() : undefined,
    protocol: gcplFromMptHeader(text),
    start_ms: ecLabStart_ms(text, zone),
    timeZone: zone,
  };
}

/** The technique ids of the settings module's first byte (those of the real files this reader is tested on). */
const MPR_TECHNIQUES: Record<number, string> = {
  0x04: 'Galvanostatic Cycling with Potential Limitation',
  0x06: 'Cyclic Voltammetry',
  0x0b: 'Open Circuit Voltage',
  0x18: 'Chronoamperometry / Chronocoulometry',
  0x1d: 'Potentio Electrochemical Impedance Spectroscopy',
  0x7f: 'Modulo Bat',
  0x88: 'Battery Capacity Determination',
};

/**
 * From an `.mpr`: the electrode area (float32 at byte 529 of the settings module), the technique (its first byte),
 * and from the LOG module the channel (byte 9, zero-based; serial number u16 at 171) and the control range
 * (float32 min/max at 504/508) — checked against the `.mpt` headers of every real file in the tests.
 */
async function mprMetadata(path: string, zone: string): Promise<FileMetadata> {
  const file = await openMpr(path);
  const set = file.settings;
  const log = file.log;
  const range = log !== null && log.length >= 512 ? [log.readFloatLE(504), log.readFloatLE(508)] : null;
  return {
    areaCm2: set !== null && set.length >= 533 ? filledArea(Number(set.readFloatLE(529).toPrecision(7))) : undefined,
    complianceV: range !== null && range.every(Number.isFinite) && range[1]! > range[0]! ? Math.max(Math.abs(range[0]!), Math.abs(range[1]!)) : undefined,
    technique: set !== null ? MPR_TECHNIQUES[set[0]!] : undefined,
    channel: log !== null && log.length >= 173 ? `${log[9]! + 1} (SN ${log.readUInt16LE(171)})` : undefined,
    start_ms: mprStart_ms(file.startLocal_ms, zone),
    timeZone: zone,
    protocol: set !== null ? gcplFromMprSettings(set, file.modules.find((m) => m.name === 'VMP Set')?.wideHeader ?? false) : undefined,
  };
}

/** The LOG module's local start in the lab's zone (whole ms: the OLE date's last digits are rounding). */
const mprStart_ms = (local_ms: number | undefined, zone: string): number | undefined =>
  local_ms === undefined ? undefined : Math.round(localToUtc_ms(zone, local_ms) * 1000) / 1000;

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
  let impedanceRow: ((fields: string[], t_ms: number) => void) | undefined;
  let impedanceGap: (() => void) | undefined;
  let restCurrent: number | undefined;
  let start_ms = options.start_ms ?? 0;
  const zone = options.timeZone ?? machineTimeZone();
  // Absolute-time exports: local dates in order, read through the repeated autumn hour without going back.
  const clock = new LocalClock(zone);
  let headerText = '';
  let out: Sample[] = [];
  const range = options.range === undefined ? undefined : { headerLines, ...options.range };
  for await (const lines of readLineBatches(path, 'latin1', range)) {
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
        const v = EC_VOLTAGE.map((n) => names.indexOf(n)).find((k) => k >= 0) ?? -1;
        const i = names.findIndex((n) => n === '<I>/mA' || n === 'I/mA');
        if (t < 0 || v < 0) throw new ImportError(path, `line ${lineNo}: EC-Lab columns time/s and Ewe/V not found in the header`);
        // An OCV block without a current column is a rest: its current is zero by definition.
        const ocv = /^Open Circuit Voltage\s*$/m.test(headerText);
        if (i < 0 && options.setCurrent_mA === undefined && !ocv) {
          throw new ImportError(
            path,
            'the export has no current column (<I>/mA or I/mA): give the set current with --set-current-mA or setCurrentMa in the cell registry',
          );
        }
        if (i < 0 && options.setCurrent_mA === undefined) {
          restCurrent = 0;
          options.onNote?.(`${basename(path)}: an open-circuit (OCV) block without a current column: read as a rest (0 mA)`);
        } else if (i < 0) options.onNote?.(`${basename(path)}: no current column, using the set current ${options.setCurrent_mA} mA`);
        const started = ecLabStart_ms(headerText, zone);
        if (options.start_ms === undefined) {
          if (started !== undefined) start_ms = started;
          else options.onNote?.(`${basename(path)}: the header gives no acquisition start: times are hours since the first row (pass --start to date them)`);
        }
        // Impedance rows (PEIS/GEIS) carry an AC mean current, not a galvanostatic one: they are pauses.
        cols = { t, v, i, freq: names.indexOf('freq/Hz') };
        const re = names.indexOf('Re(Z)/Ohm');
        const im = names.indexOf('-Im(Z)/Ohm');
        const mod = names.indexOf('|Z|/Ohm');
        const phase = names.indexOf('Phase(Z)/deg');
        if (options.onImpedance !== undefined && cols.freq >= 0 && ((re >= 0 && im >= 0) || (mod >= 0 && phase >= 0))) {
          const spectra = impedanceSpectra(cell, options.onImpedance);
          impedanceRow = (f, t_ms) => {
            const z = complexZ(ecNumber(f[re]), ecNumber(f[im]), ecNumber(f[mod]), ecNumber(f[phase]));
            spectra.point(t_ms, ecNumber(f[cols!.freq]), z[0], z[1]);
          };
          impedanceGap = spectra.gap;
        }
        continue;
      }
      if (line.length === 0 || cols === null) continue;
      const f = line.split('\t');
      // "Time format : Absolute MMDDYYYY" exports hold dates, not seconds since the start.
      const tText = f[cols.t] ?? '';
      const absolute = tText.indexOf('/') > 0 ? clock.toUtc(ecLabWallClock_ms(tText)) : undefined;
      const t_s = absolute !== undefined ? (absolute - start_ms) / 1000 : ecNumber(tText);
      const v = ecNumber(f[cols.v]);
      const impedance = cols.freq >= 0 && ecNumber(f[cols.freq]) > 0;
      const i = impedance ? 0 : cols.i >= 0 ? ecNumber(f[cols.i]) : (restCurrent ?? options.setCurrent_mA!);
      if (!Number.isFinite(t_s) || !(Math.abs(start_ms + t_s * 1000) <= MAX_TIME_MS)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-timestamp', detail: `time/s "${f[cols.t] ?? ''}"` });
        continue;
      }
      if (!Number.isFinite(v) || !Number.isFinite(i)) {
        rejections.reject({ source: path, line: lineNo, reason: 'bad-number', detail: line.slice(0, 120) });
        continue;
      }
      if (impedance) impedanceRow?.(f, start_ms + t_s * 1000);
      else impedanceGap?.();
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

/** Re(Z) and −Im(Z), from the export's columns or else from |Z| and the phase. */
function complexZ(re: number, minusIm: number, mod: number, phase_deg: number): [number, number] {
  if (Number.isFinite(re) && Number.isFinite(minusIm)) return [re, minusIm];
  const rad = (phase_deg * Math.PI) / 180;
  return [mod * Math.cos(rad), -mod * Math.sin(rad)];
}

/** The impedance rows of one file, numbered into spectra, to `emit`. */
function impedanceSpectra(
  cell: string,
  emit: (p: ImpedancePoint) => void,
): { point(t_ms: number, freq_Hz: number, reZ_Ohm: number, minusImZ_Ohm: number): void; gap(): void } {
  const sweeps = new SweepNumbering();
  return {
    point(t_ms, freq_Hz, reZ_Ohm, minusImZ_Ohm) {
      const block = sweeps.number(t_ms, freq_Hz);
      if (Number.isFinite(reZ_Ohm) && Number.isFinite(minusImZ_Ohm)) emit({ cell, t_ms, block, freq_Hz, reZ_Ohm, minusImZ_Ohm });
    },
    gap: () => sweeps.gap(),
  };
}

/** The cell voltage and current of an EC-Lab file, by the names its export gives them (first in column order). */
// Impedance-only files (PEIS) give the mean potential only.
const EC_VOLTAGE = ['Ewe/V', 'Ecell/V', 'Ewe-Ece/V', '<Ewe>/V'];
const EC_CURRENT = ['<I>/mA', 'I/mA'];

/**
 * EC-Lab binary files, streamed a block of rows at a time. Newer EC-Lab versions store no current column but the
 * charge step `dq`: the current is dq/dt, as EC-Lab's own export computes its `<I>/mA`.
 */
async function* readMprSamples(path: string, rejections: RejectionLog, options: ImportOptions): AsyncGenerator<Sample[]> {
  const file = await openMpr(path);
  if (file.skipped.length > 0) {
    const what = file.skipped.map((c) => `${c.id} (column ${c.position} of ${file.columns.length + file.skipped.length})`).join(', ');
    const bytes = file.skipped.reduce((sum, c) => sum + c.bytes, 0);
    options.onNote?.(
      `${basename(path)}: column id ${what} not known to this version: skipped (${bytes} bytes a row, from the data module's size); the other columns are read`,
    );
  }
  if (file.rows < file.points && options.range === undefined) {
    throw new ImportError(
      path,
      `the file is truncated: ${file.rows} of the ${file.points} points it announces are present (is EC-Lab still writing it? \`cyclewatch bridge\` follows growing files)`,
    );
  }
  const cell = options.cell ?? defaultCellId(path);
  const time = mprColumn(file, 'time/s');
  const voltage = mprColumn(file, ...EC_VOLTAGE);
  if (time === undefined || voltage === undefined) throw new ImportError(path, 'the data module has no time/s or Ewe/V (Ecell/V) column');
  const current = mprColumn(file, ...EC_CURRENT);
  const dq = current === undefined ? mprColumn(file, 'dq/mA.h') : undefined;
  const freq = mprColumn(file, 'freq/Hz');
  // The settings module's first byte is the technique: 0x0b is OCV, a rest whatever its columns.
  const ocv = file.settings?.[0] === 0x0b;
  if (current === undefined && dq === undefined && options.setCurrent_mA === undefined && !ocv) {
    throw new ImportError(path, 'the file has no current column: give the set current with --set-current-mA or setCurrentMa in the cell registry');
  }
  const restCurrent = current === undefined && dq === undefined && options.setCurrent_mA === undefined ? 0 : undefined;
  if (restCurrent !== undefined) options.onNote?.(`${basename(path)}: an open-circuit (OCV) block without a current column: read as a rest (0 mA)`);
  else if (current === undefined && dq === undefined)
    options.onNote?.(`${basename(path)}: no current column, using the set current ${options.setCurrent_mA} mA`);
  const start_ms = options.start_ms ?? mprStart_ms(file.startLocal_ms, options.timeZone ?? machineTimeZone()) ?? 0;
  if (options.start_ms === undefined && file.startLocal_ms === undefined) {
    options.onNote?.(
      `${basename(path)}: the file has no LOG module with the acquisition start: times are hours since the first row (pass --start to date them)`,
    );
  }
  const re = mprColumn(file, 'Re(Z)/Ohm') ?? mprColumn(file, '|Z|/Ohm');
  const im = mprColumn(file, '-Im(Z)/Ohm') ?? mprColumn(file, 'Phase(Z)/deg');
  const polar = re?.name === '|Z|/Ohm';
  const spectra =
    options.onImpedance !== undefined && freq !== undefined && re !== undefined && im !== undefined && polar === (im.name === 'Phase(Z)/deg')
      ? impedanceSpectra(cell, options.onImpedance)
      : undefined;
  const wanted = [time, voltage, current ?? dq ?? time, freq ?? time, ...(spectra !== undefined ? [re!, im!] : [])];
  let prevT_s = NaN;
  // A window starts a row early when the current comes from dq/dt: that row's time is the step's start.
  const from = options.range === undefined ? 0 : Math.max(0, options.range.from - (dq !== undefined ? 1 : 0));
  const until = options.range?.until ?? Infinity;
  // A window (the bridge's step) decodes its own rows only, not a whole default block.
  const blockRows = Number.isFinite(until) ? Math.max(1, Math.min(16_384, until - from)) : undefined;
  for await (const block of readMprRows(file, wanted, from, blockRows)) {
    if (block.first >= until) break;
    const [t, v, i, f, zA, zB] = block.values as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array?, Float64Array?];
    const out: Sample[] = [];
    const n = Math.min(block.n, until - block.first);
    for (let r = 0; r < n; r++) {
      const t_s = t[r]!;
      if (block.first + r < (options.range?.from ?? 0)) {
        prevT_s = t_s;
        continue;
      }
      const impedance = freq !== undefined && f[r]! > 0;
      let i_mA: number;
      if (impedance) i_mA = 0;
      else if (current !== undefined) i_mA = i[r]!;
      else if (dq !== undefined) i_mA = t_s > prevT_s ? (i[r]! * 3600) / (t_s - prevT_s) : 0;
      else i_mA = restCurrent ?? options.setCurrent_mA!;
      prevT_s = t_s;
      const t_ms = start_ms + t_s * 1000;
      if (!Number.isFinite(t_s) || !(Math.abs(t_ms) <= MAX_TIME_MS)) {
        rejections.reject({ source: path, line: block.first + r + 1, reason: 'bad-timestamp', detail: `row ${block.first + r + 1}: time/s ${t_s}` });
        continue;
      }
      if (!Number.isFinite(v[r]!) || !Number.isFinite(i_mA)) {
        rejections.reject({ source: path, line: block.first + r + 1, reason: 'bad-number', detail: `row ${block.first + r + 1}: Ewe ${v[r]}, I ${i_mA}` });
        continue;
      }
      if (spectra !== undefined && impedance) {
        const z = polar ? complexZ(NaN, NaN, zA![r]!, zB![r]!) : [zA![r]!, zB![r]!];
        spectra.point(t_ms, f[r]!, z[0]!, z[1]!);
      } else spectra?.gap();
      out.push({ cell, t_ms, voltage_V: v[r]!, current_mA: i_mA, pressure_MPa: undefined, temperature_C: undefined });
    }
    if (out.length > 0) yield out;
    options.onProgress?.(Math.min(file.size_bytes, file.rowsAt + (block.first + block.n) * file.rowBytes));
  }
}
