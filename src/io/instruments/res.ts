/**
 * Arbin MITS Pro `.res` files: a Microsoft Access (Jet 4) database, read with `mdb-reader` (pure JavaScript, so it
 * runs on the cycler's Windows PC as on a server; Debian's `mdb-tools` decodes faster but is one more program to
 * install, and not there on Windows). The tables used:
 * - `Global_Table`: the test's name, channel, schedule, software version and start (an OLE date in the PC's zone);
 * - `Channel_Normal_Table`: one row per data point, `Test_Time` (s), `DateTime` (OLE date), `Current` (A), `Voltage` (V);
 * - `Auxiliary_Table` with `Aux_Global_Data_Table`: auxiliary channels by data point; the first channel in °C is the
 *   temperature.
 * A row's time combines its date and the test clock (domain/testClock.ts): Arbin's PC clock is seen stepping back
 * 7 s twice in a real file here.
 *
 * The reader holds the file in memory (a database is not read front to back): about 100 bytes a row, 30 MB for
 * 800 h at 10 s.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LocalClock } from '../../domain/labTime.js';
import type { Sample } from '../../domain/sample.js';
import { nextRecordTime, TEST_CLOCK_START } from '../../domain/testClock.js';
import { MAX_TIME_MS } from '../wire/timestamp.js';
import { ImportError, type RejectionLog } from './rejections.js';

/** Jet 4 databases start with this (bytes 4–19). */
export const JET_MAGIC = 'Standard Jet DB';

/** OLE automation date (days since 1899-12-30) → the wall clock as epoch ms read as UTC. */
const oleWall_ms = (days: number): number => Math.round((days - 25_569) * 86_400_000);

type Row = Record<string, unknown>;

export interface ResFile {
  readonly path: string;
  readonly rows: number;
  readonly testName?: string;
  readonly channel?: string;
  readonly schedule?: string;
  readonly software?: string;
  /** The test's start as the PC's wall clock read as UTC (place it in the lab's zone). */
  readonly startWall_ms?: number;
  readonly table: { getData(o?: { rowOffset?: number; rowLimit?: number; columns?: string[] }): Row[]; rowCount: number };
  readonly temperatureByPoint: ReadonlyMap<number, number>;
  readonly temperatureChannel?: number;
}

export async function openRes(path: string): Promise<ResFile> {
  const { default: MDBReader } = await import('mdb-reader');
  let reader: InstanceType<typeof MDBReader>;
  try {
    reader = new MDBReader(await readFile(path));
  } catch (e) {
    throw new ImportError(path, `not a readable Arbin .res (Access) database: ${(e as Error).message}`);
  }
  const names = reader.getTableNames();
  if (!names.includes('Channel_Normal_Table') || !names.includes('Global_Table')) {
    throw new ImportError(path, `an Access database without Arbin's Channel_Normal_Table and Global_Table (tables: ${names.slice(0, 8).join(', ')})`);
  }
  const table = reader.getTable('Channel_Normal_Table');
  const missing = ['Test_Time', 'DateTime', 'Current', 'Voltage', 'Data_Point'].filter((c) => !table.getColumnNames().includes(c));
  if (missing.length > 0) throw new ImportError(path, `Arbin's Channel_Normal_Table has no ${missing.join(', ')} column: this MITS version is not known`);
  const global = reader.getTable('Global_Table').getData({ rowLimit: 1 })[0] ?? {};
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);
  // The first auxiliary channel in °C, by the channel list's unit (Data_Type 1 where no unit is given).
  const temperatureByPoint = new Map<number, number>();
  let temperatureChannel: number | undefined;
  if (names.includes('Auxiliary_Table')) {
    const channels = names.includes('Aux_Global_Data_Table') ? reader.getTable('Aux_Global_Data_Table').getData() : [];
    const celsius = channels.find((c) => /^(°?c|deg ?c)$/i.test(String(c.Unit ?? '').trim())) ?? channels.find((c) => c.Data_Type === 1);
    const aux = reader.getTable('Auxiliary_Table');
    if (aux.rowCount > 0) {
      temperatureChannel = celsius === undefined ? undefined : Number(celsius.Auxiliary_Index);
      const type = celsius === undefined ? 1 : Number(celsius.Data_Type);
      for (const r of aux.getData({ columns: ['Data_Point', 'Auxiliary_Index', 'Data_Type', 'X'] })) {
        if (Number(r.Data_Type) !== type || (temperatureChannel !== undefined && Number(r.Auxiliary_Index) !== temperatureChannel)) continue;
        temperatureChannel ??= Number(r.Auxiliary_Index);
        if (!temperatureByPoint.has(Number(r.Data_Point))) temperatureByPoint.set(Number(r.Data_Point), Number(r.X));
      }
    }
  }
  const start = typeof global.Start_DateTime === 'number' ? oleWall_ms(global.Start_DateTime) : undefined;
  return {
    path,
    rows: table.rowCount,
    testName: text(global.Test_Name),
    channel: text(global.Channel_Number),
    schedule: text(global.Schedule_File_Name),
    software: text(global.Software_Version),
    startWall_ms: start,
    table,
    temperatureByPoint,
    temperatureChannel: temperatureByPoint.size > 0 ? temperatureChannel : undefined,
  };
}

export interface ResSampleOptions {
  readonly cell: string;
  /** The PC's zone: Arbin's dates are its wall clock. */
  readonly timeZone: string;
  /** Rows [from, until) only (`cyclewatch bridge`). */
  readonly range?: { readonly from: number; readonly until: number };
  readonly onProgress?: (bytesRead: number) => void;
  readonly onNote?: (message: string) => void;
}

const BLOCK_ROWS = 8192;

/** Samples of a `.res`, a block of rows at a time; the test clock is carried from row 0 (a database is in memory). */
export async function* readResSamples(file: ResFile, size_bytes: number, rejections: RejectionLog, o: ResSampleOptions): AsyncGenerator<Sample[]> {
  const { path } = file;
  const from = o.range?.from ?? 0;
  const until = Math.min(file.rows, o.range?.until ?? Infinity);
  const wall = new LocalClock(o.timeZone);
  let clock = TEST_CLOCK_START;
  let prevTest_s = NaN;
  let lastPoint = -Infinity;
  const columns = ['Data_Point', 'Test_Time', 'DateTime', 'Current', 'Voltage'];
  for (let first = 0; first < until; first += BLOCK_ROWS) {
    const rows = file.table.getData({ rowOffset: first, rowLimit: Math.min(BLOCK_ROWS, until - first), columns });
    const out: Sample[] = [];
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      const at = first + k;
      const point = Number(r.Data_Point);
      const test_s = Number(r.Test_Time);
      const date_ms = typeof r.DateTime === 'number' ? wall.toUtc(oleWall_ms(r.DateTime)) : NaN;
      if (point <= lastPoint) {
        if (at >= from) rejections.reject({ source: path, line: point, reason: 'duplicate', detail: `data point ${point} after ${lastPoint}` });
        continue;
      }
      lastPoint = point;
      clock = nextRecordTime(clock, date_ms, Number.isNaN(prevTest_s) ? 0 : test_s - prevTest_s);
      prevTest_s = test_s;
      if (at < from) continue;
      const t_ms = clock.last_ms;
      const voltage_V = Number(r.Voltage);
      const current_mA = Number(r.Current) * 1000;
      if (!(Math.abs(t_ms) <= MAX_TIME_MS)) {
        rejections.reject({ source: path, line: point, reason: 'bad-timestamp', detail: `data point ${point}: test time ${r.Test_Time}, date ${r.DateTime}` });
        continue;
      }
      if (!Number.isFinite(voltage_V) || !Number.isFinite(current_mA)) {
        rejections.reject({ source: path, line: point, reason: 'bad-number', detail: `data point ${point}: ${r.Voltage} V, ${r.Current} A` });
        continue;
      }
      const temperature_C = file.temperatureByPoint.get(point);
      out.push({ cell: o.cell, t_ms, voltage_V, current_mA, pressure_MPa: undefined, temperature_C });
    }
    if (out.length > 0) yield out;
    o.onProgress?.(Math.round((size_bytes * Math.min(until, first + BLOCK_ROWS)) / Math.max(1, file.rows)));
  }
  if (from === 0 && file.temperatureChannel !== undefined) o.onNote?.(`${basename(path)}: temperature from auxiliary channel ${file.temperatureChannel}`);
}
