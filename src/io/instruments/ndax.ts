/**
 * Neware BTS 8 `.ndax` files: a zip of XML (the test, its steps, the software) and `.ndc` binaries, written whole when
 * BTSDA saves or backs up a test. Held in memory: 8 bytes a record, 23 MB for 800 h at 1 s.
 *
 * Layout (no official documentation; established from NewareNDA's reader and checked record by record against its
 * reference output of the same file in the twin test). Every `.ndc` starts with its file type (byte 0) and the ndc
 * version (byte 2); version 14 is read. After a 4096-byte header come 4096-byte pages, each with its record count
 * (u16 @2) and records from byte 132:
 * - `data.ndc` (type 1): per record, voltage f32 V and current f32 A; the record index counts from 1;
 * - `data_runInfo.ndc` (type 18): 55-byte records for only some of the data records (every 61st of a steady step,
 *   each step's first and last): time in the step i32 ms @0, date i32 s since 1970 UTC @33 + i16 ms @45, step
 *   number i32 @37, record index i32 @41. The times of the records between are the straight line between their
 *   neighbours in the same step (NewareNDA does the same), past a step's last one its pace carried on;
 * - `data_AUX_<channel>_<n>_<m>.ndc` (type 5): a temperature f32 °C per record; `TestInfo.xml` maps the channel to its
 *   auxiliary number, and the lowest number is the cell's temperature.
 * An ndc version other than 14 (BTS 8.0's; cellpy carries a version 17 file that no public reader reads) is refused by
 * name.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Sample } from '../../domain/sample.js';
import { nextRecordTime, TEST_CLOCK_START } from '../../domain/testClock.js';
import { MAX_TIME_MS } from '../wire/timestamp.js';
import { ImportError, type RejectionLog } from './rejections.js';
import { ZipError, zipEntries, zipEntryData } from './zip.js';
import type { Protocol, ProtocolStep } from './ecLabProtocol.js';

const PAGE_BYTES = 4096;
const RECORDS_AT = 132;
const NDC_VERSION = 14;
const RUN_RECORD_BYTES = 55;

export interface NdaxFile {
  readonly path: string;
  readonly size_bytes: number;
  /** Data records (the last record index). */
  readonly records: number;
  readonly voltage_V: Float32Array;
  readonly current_A: Float32Array;
  /** The records whose time the instrument wrote, by ascending record index (the first of a repeated index). */
  readonly timed: { readonly index: Int32Array; readonly stepTime_ms: Float64Array; readonly date_ms: Float64Array; readonly step: Int32Array };
  readonly temperature_C?: Float32Array;
  readonly temperatureChannel?: number;
  /** `<device>-<unit>-<channel>`, the step file's name, the software, as `TestInfo.xml` and `VersionInfo.xml` say. */
  readonly channel?: string;
  readonly stepFile?: string;
  readonly software?: string;
  /** The constant-current steps `Step.xml` programs, as EC-Lab's GCPL sequences (the t_max check reads them). */
  readonly protocol?: Protocol;
}

/** `Step.xml`'s step types that pass a constant current, with the current's sign (NewareNDA's state list). */
const CC_STEP_SIGN = new Map([
  [1, 1], // CC charge
  [2, -1], // CC discharge
]);

/**
 * The constant-current steps of a BTS step file: `Limit/Main` gives the current (`Curr`, mA), the time limit (`Time`,
 * ms) and the voltage cut-off (`Stop_Volt`, 0.1 mV). Undefined when it programs none.
 */
export function stepFileProtocol(xml: string): Protocol | undefined {
  const steps: ProtocolStep[] = [];
  for (const m of xml.matchAll(/<Step(\d+) Step_ID="(\d+)" Step_Type="(\d+)"[^>]*>([\s\S]*?)<\/Step\1>/g)) {
    const sign = CC_STEP_SIGN.get(Number(m[3]));
    const limit = /<Limit>\s*<Main>([\s\S]*?)<\/Main>/.exec(m[4]!)?.[1];
    if (sign === undefined || limit === undefined) continue;
    const value = (name: string): number | null => {
      const v = new RegExp(`<${name} Value="([-\\d.eE+]+)"`).exec(limit)?.[1];
      return v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
    };
    const current = value('Curr');
    const time_ms = value('Time');
    const stop = value('Stop_Volt');
    steps.push({
      sequence: Number(m[2]),
      current_mA: current === null ? null : sign * Math.abs(current),
      setBy: 'I',
      duration_s: time_ms === null ? null : time_ms / 1000,
      voltageLimit_V: stop === null ? null : stop / 1e4,
    });
  }
  return steps.length > 0 ? { technique: 'GCPL', steps } : undefined;
}

/** An XML element's attribute (the files are GB2312; the attributes read here are ASCII). */
const attribute = (xml: string, element: string, name: string): string | undefined => new RegExp(`<${element}\\b[^>]*\\s${name}="([^"]*)"`).exec(xml)?.[1];

/** The pages of an ndc of `type`, after checking its version: each page's records as (offset, count). */
function ndcPages(path: string, name: string, ndc: Buffer, type: number, recordBytes: number): { at: number; count: number }[] {
  if (ndc.length < PAGE_BYTES) throw new ImportError(path, `${name} is ${ndc.length} bytes, shorter than an ndc header`);
  if (ndc[0] !== type || ndc[2] !== NDC_VERSION) {
    throw new ImportError(
      path,
      `Neware .ndax: ${name} is ndc file type ${ndc[0]}, version ${ndc[2]} (bytes 0 and 2); version ${NDC_VERSION} with type ${type} is known: export the test from BTSDA as .nda, CSV or Excel`,
    );
  }
  const capacity = Math.floor((PAGE_BYTES - RECORDS_AT) / recordBytes);
  const pages: { at: number; count: number }[] = [];
  for (let p = PAGE_BYTES; p + PAGE_BYTES <= ndc.length; p += PAGE_BYTES) {
    const count = ndc.readUInt16LE(p + 2);
    if (count > capacity) throw new ImportError(path, `Neware .ndax: ${name}, page at byte ${p}, counts ${count} records where ${capacity} fit`);
    pages.push({ at: p + RECORDS_AT, count });
  }
  return pages;
}

export async function openNdax(path: string): Promise<NdaxFile> {
  const zip = await readFile(path);
  let entries;
  try {
    entries = zipEntries(zip);
  } catch (e) {
    if (e instanceof ZipError) throw new ImportError(path, `not a readable Neware .ndax: ${e.message}`);
    throw e;
  }
  const entry = (name: string): Buffer | undefined => {
    const e = entries.get(name);
    if (e === undefined) return undefined;
    try {
      return zipEntryData(zip, e);
    } catch (err) {
      if (err instanceof ZipError) throw new ImportError(path, `not a readable Neware .ndax: ${err.message}`);
      throw err;
    }
  };
  const names = [...entries.keys()];
  const data = entry('data.ndc');
  const runInfo = entry('data_runInfo.ndc');
  if (data === undefined || runInfo === undefined) {
    throw new ImportError(
      path,
      `a zip without Neware's data.ndc and data_runInfo.ndc (entries: ${names.slice(0, 8).join(', ')}): this BTS version is not known`,
    );
  }

  const dataPages = ndcPages(path, 'data.ndc', data, 1, 8);
  const records = dataPages.reduce((n, p) => n + p.count, 0);
  const voltage_V = new Float32Array(records);
  const current_A = new Float32Array(records);
  let k = 0;
  for (const p of dataPages) {
    for (let r = 0; r < p.count; r++, k++) {
      voltage_V[k] = data.readFloatLE(p.at + 8 * r);
      current_A[k] = data.readFloatLE(p.at + 8 * r + 4);
    }
  }

  const runPages = ndcPages(path, 'data_runInfo.ndc', runInfo, 18, RUN_RECORD_BYTES);
  const n = runPages.reduce((s, p) => s + p.count, 0);
  const index = new Int32Array(n);
  const stepTime_ms = new Float64Array(n);
  const date_ms = new Float64Array(n);
  const step = new Int32Array(n);
  let m = 0;
  for (const p of runPages) {
    for (let r = 0; r < p.count; r++) {
      const at = p.at + RUN_RECORD_BYTES * r;
      const i = runInfo.readInt32LE(at + 41);
      // Index 0 is no record; a repeated index (the test's first record, timed twice) keeps its first time.
      if (i <= 0 || (m > 0 && i <= index[m - 1]!)) continue;
      index[m] = i;
      stepTime_ms[m] = runInfo.readInt32LE(at);
      date_ms[m] = runInfo.readInt32LE(at + 33) * 1000 + runInfo.readInt16LE(at + 45);
      step[m] = runInfo.readInt32LE(at + 37);
      m++;
    }
  }

  const testInfo = entry('TestInfo.xml')?.toString('latin1') ?? '';
  const stepXml = entry('Step.xml')?.toString('latin1');
  const version = entry('VersionInfo.xml')?.toString('latin1') ?? '';
  // The auxiliary channels: data_AUX_<real channel>_…, numbered by TestInfo.xml's AuxID; the lowest is T1.
  const auxOf = new Map<number, number>();
  for (const a of testInfo.matchAll(/<Aux\d+\b[^>]*\bAuxID="(\d+)"[^>]*\bRealChlID="(\d+)"/g)) auxOf.set(Number(a[2]), Number(a[1]));
  const aux = names
    .map((name) => ({ name, real: Number(/^data_AUX_(\d+)_\d+_\d+\.ndc$/.exec(name)?.[1] ?? NaN) }))
    .filter((a) => Number.isFinite(a.real))
    .map((a) => ({ ...a, id: auxOf.get(a.real) ?? a.real }))
    .sort((a, b) => a.id - b.id)[0];
  let temperature_C: Float32Array | undefined;
  if (aux !== undefined) {
    const ndc = entry(aux.name)!;
    temperature_C = new Float32Array(records).fill(NaN);
    let t = 0;
    for (const p of ndcPages(path, aux.name, ndc, 5, 4)) for (let r = 0; r < p.count && t < records; r++, t++) temperature_C[t] = ndc.readFloatLE(p.at + 4 * r);
  }
  const info = (name: string): string | undefined => attribute(testInfo, 'TestInfo', name);
  const [dev, unit, chl] = [info('DevID'), info('UnitID'), info('ChlID')];
  return {
    path,
    size_bytes: zip.length,
    records,
    voltage_V,
    current_A,
    timed: { index: index.subarray(0, m), stepTime_ms: stepTime_ms.subarray(0, m), date_ms: date_ms.subarray(0, m), step: step.subarray(0, m) },
    temperature_C,
    temperatureChannel: aux?.id,
    channel: dev !== undefined && unit !== undefined && chl !== undefined ? `${dev}-${unit}-${chl}` : undefined,
    stepFile: info('StepName'),
    software: attribute(version, 'ZwjVersion', 'SvrVer') ?? attribute(testInfo, 'config', 'SortVersion'),
    protocol: stepXml === undefined ? undefined : stepFileProtocol(stepXml),
  };
}

export interface NdaxSampleOptions {
  readonly cell: string;
  /** Records [from, until) only (`cyclewatch bridge`). */
  readonly range?: { readonly from: number; readonly until: number };
  readonly onProgress?: (bytesRead: number) => void;
  readonly onNote?: (message: string) => void;
}

const BLOCK_RECORDS = 8192;

/**
 * Samples of an `.ndax`, with each record's time from its step time and its date (domain/testClock.ts), those of the
 * records the instrument did not time being placed on the line between the timed ones.
 */
export async function* readNdaxSamples(file: NdaxFile, rejections: RejectionLog, o: NdaxSampleOptions): AsyncGenerator<Sample[]> {
  const { path, timed } = file;
  const from = o.range?.from ?? 0;
  const until = Math.min(file.records, o.range?.until ?? Infinity);
  let clock = TEST_CLOCK_START;
  let prevStep = -1;
  let prevTime_ms = 0;
  // The pace (ms a record) of the last stretch between two timed records of one step: carried past a step's last.
  let pace_ms = 0;
  let j = -1;
  let out: Sample[] = [];
  for (let k = 0; k < until; k++) {
    const index = k + 1;
    while (j + 1 < timed.index.length && timed.index[j + 1]! <= index) {
      j++;
      if (j > 0 && timed.step[j] === timed.step[j - 1]) {
        const span = timed.index[j]! - timed.index[j - 1]!;
        if (span > 0) pace_ms = (timed.stepTime_ms[j]! - timed.stepTime_ms[j - 1]!) / span;
      }
    }
    if (j < 0) {
      if (k >= from)
        rejections.reject({
          source: path,
          line: index,
          reason: 'bad-timestamp',
          detail: `record ${index}: before the first timed record (${timed.index[0] ?? 'none'})`,
        });
      continue;
    }
    const step = timed.step[j]!;
    let time_ms = timed.stepTime_ms[j]!;
    if (timed.index[j] !== index) {
      const next = j + 1 < timed.index.length && timed.step[j + 1] === step ? j + 1 : -1;
      const after = index - timed.index[j]!;
      time_ms += next >= 0 ? ((timed.stepTime_ms[next]! - time_ms) * after) / (timed.index[next]! - timed.index[j]!) : after * Math.max(0, pace_ms);
    }
    const date_ms = timed.date_ms[j]! + (time_ms - timed.stepTime_ms[j]!);
    // The step time starts again at each step.
    const step_s = (step !== prevStep ? time_ms : time_ms - prevTime_ms) / 1000;
    prevStep = step;
    prevTime_ms = time_ms;
    clock = nextRecordTime(clock, date_ms, step_s);
    if (k < from) continue;
    const t_ms = clock.last_ms;
    const voltage_V = file.voltage_V[k]!;
    const current_mA = file.current_A[k]! * 1000;
    if (!(Math.abs(t_ms) <= MAX_TIME_MS)) {
      rejections.reject({ source: path, line: index, reason: 'bad-timestamp', detail: `record ${index}: date ${date_ms} ms` });
      clock = TEST_CLOCK_START;
      continue;
    }
    if (!Number.isFinite(voltage_V) || !Number.isFinite(current_mA)) {
      rejections.reject({ source: path, line: index, reason: 'bad-number', detail: `record ${index}: ${voltage_V} V, ${current_mA} mA` });
      continue;
    }
    const t = file.temperature_C?.[k];
    out.push({ cell: o.cell, t_ms, voltage_V, current_mA, pressure_MPa: undefined, temperature_C: t === undefined || Number.isNaN(t) ? undefined : t });
    if (out.length >= BLOCK_RECORDS) {
      yield out;
      out = [];
      o.onProgress?.(Math.round((file.size_bytes * (k + 1)) / Math.max(1, file.records)));
    }
  }
  if (out.length > 0) yield out;
  o.onProgress?.(file.size_bytes);
  if (from === 0 && file.temperatureChannel !== undefined) o.onNote?.(`${basename(path)}: temperature from auxiliary channel ${file.temperatureChannel}`);
}
