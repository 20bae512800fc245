/**
 * Neware BTS `.nda` files, read in a stream of fixed-size records with positional reads, so memory stays bounded
 * whatever the run's length, and a growing file can be followed record by record.
 *
 * Layout (no official documentation; established from the public readers and checked record by record against
 * NewareNDA's reference output of the same files in the twin tests):
 * - magic `NEWARE`; the version is byte 14: 29 (BTS 7.x) or 130 (BTS 8/9);
 * - version 29: 86-byte records after the first `00 00 00 00 55 00` whose record is valid. A data record starts
 *   `55 00`: index u32 @2, cycle u32 @6, step u32 @10, status u8 @12, step time u64 ms @14, voltage i32 (0.1 mV) @22,
 *   current i32 @26 scaled by the current range i32 @78, the wall-clock date (u16 year, u8 month, day, hour, minute,
 *   second) @70, in the instrument PC's zone; the last 4 bytes are zero. An auxiliary record starts `65`: channel u8
 *   @1, index u32 @2, voltage i32 (0.1 mV) @22, temperature i16 (0.1 °C) @34;
 * - version 130: 88-byte records from byte 1024, each prefixed by 4 bytes. A data record repeats the first record's
 *   6 leading bytes: step u8 @9, status u8 @10, index u32 @16, test time u64 µs @28, voltage f32 V @36, current f32
 *   mA @40, date u64 µs since 1970 UTC @68. An auxiliary record starts `00 00 00 00 65`, laid out as version 29's
 *   from byte 4. Byte `81` ends the records;
 * - version 130 as BTS 9.1 writes it: records start `55` at byte 1024, their size the distance to the next record's
 *   first two bytes. Step u8 @2, status u8 @3, index u32 @8, test time u32 s @12 + u32 ns @16, current f32 mA @20,
 *   voltage f32 V @24, date u32 s @44 + u32 ns @48 since 1970 UTC; 56-byte records end with a temperature f32 °C @52.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { LocalClock } from '../../domain/labTime.js';
import { nextRecordTime, TEST_CLOCK_START, type TestClockState } from '../../domain/testClock.js';
import type { Sample } from '../../domain/sample.js';
import { MAX_TIME_MS } from '../wire/timestamp.js';
import { ImportError, type RejectionLog } from './rejections.js';

export const NDA_MAGIC = 'NEWARE';

export type NdaVersion = 29 | 130;

export interface NdaLayout {
  readonly path: string;
  readonly version: NdaVersion;
  /** Version 130 as BTS 9.1 writes it (see above). */
  readonly bts91: boolean;
  /** Byte where record 0 starts. */
  readonly dataStart: number;
  readonly recordBytes: number;
  /** Whole records in the file now (a growing file has more later). */
  readonly records: number;
  readonly size_bytes: number;
  /** `BTSServer…` and client versions when the file names them. */
  readonly software?: string;
}

/** One record, decoded: a measurement, or an auxiliary channel's reading at a measurement's index. */
export type NdaRecord =
  | {
      readonly kind: 'data';
      /** Record number in the file (0 = the first record). */
      readonly at: number;
      readonly index: number;
      readonly step: number;
      readonly status: number;
      /** Version 29: time since the step began; version 130: time since the test began. */
      readonly time_s: number;
      readonly voltage_V: number;
      readonly current_mA: number;
      /** Version 29: the wall clock of the instrument PC, as if UTC (second resolution); version 130: epoch ms, UTC. */
      readonly date_ms: number;
      /** BTS 9.1's 56-byte records carry the first auxiliary temperature in the record itself. */
      readonly temperature_C?: number;
    }
  | { readonly kind: 'aux'; readonly at: number; readonly index: number; readonly channel: number; readonly temperature_C: number; readonly voltage_V: number };

/** Version 29's current scale (mA per count) for each current range the instrument reports. */
const RANGE_SCALE_mA = new Map<number, number>([
  [-100_000_000, 10],
  ...[-200_000, -100_000, -60_000, -50_000, -30_000, -20_000, -12_000, -10_000, -6000, -5000, -3000, -2000, -1000].map((r) => [r, 1e-2] as [number, number]),
  [-500, 1e-3],
  [-100, 1e-3],
  ...[-50, -25, -20, -10].map((r) => [r, 1e-4] as [number, number]),
  ...[-5, -2, -1].map((r) => [r, 1e-5] as [number, number]),
  [0, 0],
  ...[1, 2, 5].map((r) => [r, 1e-4] as [number, number]),
  ...[10, 20, 50].map((r) => [r, 1e-3] as [number, number]),
  ...[100, 200, 250, 500].map((r) => [r, 1e-2] as [number, number]),
  ...[1000, 6000, 10_000, 12_000, 20_000, 30_000, 40_000, 50_000, 60_000, 100_000, 200_000].map((r) => [r, 1e-1] as [number, number]),
]);

const V29_RECORD = 86;
const V130_RECORD = 88;
const V130_START = 1024;
const V29_MARK = Buffer.from([0, 0, 0, 0, 0x55, 0]);

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The file's version and where its records are; an unknown version is refused naming what was found. */
export async function openNda(path: string): Promise<NdaLayout> {
  const fh = await open(path, 'r');
  try {
    const size_bytes = (await fh.stat()).size;
    const head = await readAt(fh, 0, Math.min(size_bytes, 8192));
    if (head.subarray(0, 6).toString('latin1') !== NDA_MAGIC) throw new ImportError(path, 'not a Neware .nda file: no "NEWARE" magic');
    if (head.length < 15) throw new ImportError(path, `only ${head.length} bytes: the header is not written yet`);
    const version = head[14]!;
    const server = head.indexOf('BTSServer', 0, 'latin1');
    const software =
      server >= 0
        ? head
            .subarray(server, server + 50)
            .toString('latin1')
            .replace(/\0+/g, ' ')
            .trim()
        : undefined;
    if (version === 130) {
      const first = await readAt(fh, V130_START, 512);
      if (first.length < 8) return { path, version, bts91: false, dataStart: V130_START, recordBytes: V130_RECORD, records: 0, size_bytes, software };
      if (first[0] === 0x55) {
        const next = first.indexOf(first.subarray(0, 2), 2);
        // One record so far: its size is not known yet (a file just started); wait for the second.
        if (next < 0) return { path, version, bts91: true, dataStart: V130_START, recordBytes: first.length, records: 0, size_bytes, software };
        if (next < 52) throw new ImportError(path, `a BTS 9.1 .nda with ${next}-byte records: records of at least 52 bytes are read`);
        return {
          path,
          version,
          bts91: true,
          dataStart: V130_START,
          recordBytes: next,
          records: Math.floor((size_bytes - V130_START) / next),
          size_bytes,
          software,
        };
      }
      const records = Math.floor((size_bytes - V130_START) / V130_RECORD);
      return { path, version, bts91: false, dataStart: V130_START, recordBytes: V130_RECORD, records, size_bytes, software };
    }
    if (version === 29) {
      const dataStart = await v29DataStart(fh, size_bytes);
      const records = dataStart === undefined ? 0 : Math.floor((size_bytes - dataStart) / V29_RECORD);
      return { path, version, bts91: false, dataStart: dataStart ?? size_bytes, recordBytes: V29_RECORD, records, size_bytes, software };
    }
    throw new ImportError(path, `Neware .nda version ${version} (byte 14) is not known: versions 29 (BTS 7) and 130 (BTS 8/9) are read`);
  } finally {
    await fh.close();
  }
}

/**
 * Version 29's first record: the first `00 00 00 00 55 00` whose record has a non-zero status and is followed by
 * another data record (the header can hold the same bytes by chance).
 */
async function v29DataStart(fh: FileHandle, size_bytes: number): Promise<number | undefined> {
  const CHUNK = 1 << 16;
  for (let at = 0; at < size_bytes; at += CHUNK) {
    const buf = await readAt(fh, at, Math.min(size_bytes - at, CHUNK + 2 * V29_RECORD + 8));
    for (let i = buf.indexOf(V29_MARK); i >= 0 && i < CHUNK; i = buf.indexOf(V29_MARK, i + 1)) {
      const r = i + 4;
      const nextMark = r + V29_RECORD;
      if (nextMark >= buf.length) {
        // The file ends inside or just after this record: accept it when it is the only one so far.
        if (at + nextMark >= size_bytes && buf.length >= r + V29_RECORD && buf[r + 12] !== 0) return at + r;
        continue;
      }
      if (buf[r + 12] !== 0 && buf[nextMark] === 0x55) return at + r;
    }
  }
  return undefined;
}

/** Records [from, until) of the file, decoded a block at a time; records of other kinds are passed over. */
const BLOCK_RECORDS = 8192;

export async function* readNdaRecords(
  layout: NdaLayout,
  from = 0,
  until = layout.records,
  blockRecords = BLOCK_RECORDS,
): AsyncGenerator<{ first: number; records: NdaRecord[] }> {
  const fh = await open(layout.path, 'r');
  try {
    const n = layout.recordBytes;
    const identifier = layout.version === 130 ? await readAt(fh, layout.dataStart, 6) : undefined;
    for (let first = from; first < until; first += blockRecords) {
      const count = Math.min(blockRecords, until - first);
      const buf = await readAt(fh, layout.dataStart + first * n, count * n);
      const records: NdaRecord[] = [];
      const whole = Math.floor(buf.length / n);
      for (let k = 0; k < whole; k++) {
        const r =
          layout.version === 29
            ? decodeV29(layout.path, buf, k * n, first + k)
            : layout.bts91
              ? decodeBts91(buf, k * n, n, first + k)
              : decodeV130(buf, k * n, first + k, identifier!);
        if (r === 'end') {
          yield { first, records };
          return;
        }
        if (r !== undefined) records.push(r);
      }
      yield { first, records };
      if (whole < count) return;
    }
  } finally {
    await fh.close();
  }
}

function decodeV29(path: string, b: Buffer, o: number, at: number): NdaRecord | undefined {
  if (b.readUInt32LE(o + 82) !== 0) return undefined;
  if (b[o] === 0x55 && b[o + 1] === 0) {
    const index = b.readUInt32LE(o + 2);
    const status = b[o + 12]!;
    if (index === 0 || status === 0) return undefined;
    const range = b.readInt32LE(o + 78);
    const scale = RANGE_SCALE_mA.get(range);
    if (scale === undefined)
      throw new ImportError(path, `record ${index}: current range ${range} is not known to this reader, so its current cannot be scaled`);
    const date_ms = Date.UTC(b.readUInt16LE(o + 70), b[o + 72]! - 1, b[o + 73]!, b[o + 74]!, b[o + 75]!, b[o + 76]!);
    return {
      kind: 'data',
      at,
      index,
      step: b.readUInt32LE(o + 10),
      status,
      time_s: Number(b.readBigUInt64LE(o + 14)) / 1000,
      voltage_V: b.readInt32LE(o + 22) / 10_000,
      current_mA: b.readInt32LE(o + 26) * scale,
      date_ms,
    };
  }
  if (b[o] === 0x65) return auxRecord(b, o, at);
  return undefined;
}

function decodeV130(b: Buffer, o: number, at: number, identifier: Buffer): NdaRecord | 'end' | undefined {
  if (b[o] === 0x81) return 'end';
  if (b.compare(identifier, 0, 6, o, o + 6) === 0) {
    const d = o + 4;
    return {
      kind: 'data',
      at,
      index: b.readUInt32LE(d + 12),
      step: b[d + 5]!,
      status: b[d + 6]!,
      time_s: Number(b.readBigUInt64LE(d + 24)) / 1e6,
      voltage_V: b.readFloatLE(d + 32),
      current_mA: b.readFloatLE(d + 36),
      date_ms: Number(b.readBigUInt64LE(d + 64)) / 1000,
    };
  }
  if (b.readUInt32LE(o) === 0 && b[o + 4] === 0x65) return auxRecord(b, o + 4, at);
  return undefined;
}

function decodeBts91(b: Buffer, o: number, n: number, at: number): NdaRecord | 'end' | undefined {
  if (b[o] === 0x81) return 'end';
  if (b[o] !== 0x55) return undefined;
  return {
    kind: 'data',
    at,
    index: b.readUInt32LE(o + 8),
    step: b[o + 2]!,
    status: b[o + 3]!,
    time_s: b.readUInt32LE(o + 12) + b.readUInt32LE(o + 16) * 1e-9,
    voltage_V: b.readFloatLE(o + 24),
    current_mA: b.readFloatLE(o + 20),
    date_ms: b.readUInt32LE(o + 44) * 1000 + b.readUInt32LE(o + 48) / 1e6,
    temperature_C: n >= 56 ? b.readFloatLE(o + 52) : undefined,
  };
}

function auxRecord(b: Buffer, o: number, at: number): NdaRecord {
  return {
    kind: 'aux',
    at,
    channel: b[o + 1]!,
    index: b.readUInt32LE(o + 2),
    voltage_V: b.readInt32LE(o + 22) / 10_000,
    temperature_C: b.readInt16LE(o + 34) / 10,
  };
}

/** Where the test clock stood after a file's records [0, at): the state `readNdaSamples` carries from record to record. */
interface ClockState {
  readonly at: number;
  readonly stepKey: number;
  readonly prevTime_s: number;
  readonly clock: TestClockState;
  readonly lastIndex: number;
}

/**
 * A bounded memo of a pure function of a file's first records (the records written do not change as the file grows),
 * so following a file costs its new records, not a scan from the start at every step.
 */
const clockMemo = new Map<string, ClockState>();
const CLOCK_MEMO_FILES = 256;

export interface NdaSampleOptions {
  readonly cell: string;
  /** The instrument PC's zone: version 29's dates are its wall clock. */
  readonly timeZone: string;
  /** Records [from, until) only (`cyclewatch bridge`); version 29's step clock is still counted from record 0. */
  readonly range?: { readonly from: number; readonly until: number };
  readonly onProgress?: (bytesRead: number) => void;
  readonly onNote?: (message: string) => void;
}

/**
 * Samples of an `.nda`: voltage and current of each data record, with the first auxiliary channel's temperature
 * joined on the record's index. A record whose index is not above the last one read is a copy the instrument wrote
 * again (NewareNDA drops them the same way) and is counted as a duplicate.
 *
 * Times: each record's date (µs since 1970 in version 130; the PC's wall clock to the second, read in the lab's zone,
 * in version 29) and its test clock (test time in version 130, time within each step in version 29) are combined by
 * domain/testClock.ts: dates misorder pulses and jump when the PC's clock is set; the test clock misses pauses.
 */
export async function* readNdaSamples(layout: NdaLayout, rejections: RejectionLog, o: NdaSampleOptions): AsyncGenerator<Sample[]> {
  const { path } = layout;
  const from = o.range?.from ?? 0;
  const until = Math.min(layout.records, o.range?.until ?? Infinity);
  // The clock is carried from record 0: a window of a growing file (the bridge) resumes it where the previous
  // window of the same file left it, or scans the records before it.
  const memoKey = `${path}\0${layout.dataStart}\0${layout.recordBytes}`;
  const resumed = from > 0 ? clockMemo.get(memoKey) : undefined;
  const c: ClockState = resumed !== undefined && resumed.at <= from ? resumed : { at: 0, stepKey: NaN, prevTime_s: 0, clock: TEST_CLOCK_START, lastIndex: 0 };
  let { stepKey, prevTime_s, clock, lastIndex } = c;
  let auxChannel = -1;
  let pending: { s: Sample; index: number; at: number } | undefined;
  const out: Sample[] = [];
  const flush = (): void => {
    if (pending !== undefined && pending.at >= from) out.push(pending.s);
    pending = undefined;
  };
  const wallClock = new LocalClock(o.timeZone);
  for await (const block of readNdaRecords(layout, c.at, until)) {
    for (const r of block.records) {
      const at = r.at;
      if (r.kind === 'aux') {
        if (auxChannel < 0) auxChannel = r.channel;
        if (r.channel === auxChannel && pending !== undefined && pending.index === r.index) pending.s = { ...pending.s, temperature_C: r.temperature_C };
        continue;
      }
      flush();
      if (r.index <= lastIndex) {
        if (at >= from) rejections.reject({ source: path, line: r.index, reason: 'duplicate', detail: `record index ${r.index} after ${lastIndex}` });
        continue;
      }
      lastIndex = r.index;
      const date_ms = layout.version === 29 ? wallClock.toUtc(r.date_ms) : r.date_ms;
      const key = r.step * 256 + r.status;
      // Version 29's clock starts again at each step; version 130's runs through the test.
      const step_s = layout.version === 29 && key !== stepKey ? r.time_s : r.time_s - prevTime_s;
      stepKey = key;
      prevTime_s = r.time_s;
      clock = nextRecordTime(clock, date_ms, step_s);
      const t_ms = clock.last_ms;
      if (!(Math.abs(t_ms) <= MAX_TIME_MS)) {
        if (at >= from) rejections.reject({ source: path, line: r.index, reason: 'bad-timestamp', detail: `record index ${r.index}: date ${t_ms} ms` });
        clock = TEST_CLOCK_START;
        continue;
      }
      if (!Number.isFinite(r.voltage_V) || !Number.isFinite(r.current_mA)) {
        if (at >= from)
          rejections.reject({ source: path, line: r.index, reason: 'bad-number', detail: `record index ${r.index}: ${r.voltage_V} V, ${r.current_mA} mA` });
        continue;
      }
      const temperature_C = r.temperature_C;
      if (temperature_C !== undefined && auxChannel < 0) auxChannel = 1;
      pending = { s: { cell: o.cell, t_ms, voltage_V: r.voltage_V, current_mA: r.current_mA, pressure_MPa: undefined, temperature_C }, index: r.index, at };
    }
    if (out.length > 0) yield out.splice(0);
    o.onProgress?.(Math.min(layout.size_bytes, layout.dataStart + (block.first + BLOCK_RECORDS) * layout.recordBytes));
  }
  flush();
  if (out.length > 0) yield out.splice(0);
  if (clockMemo.size >= CLOCK_MEMO_FILES) clockMemo.delete(clockMemo.keys().next().value!);
  clockMemo.set(memoKey, { at: until, stepKey, prevTime_s, clock, lastIndex });
  if (auxChannel >= 0 && from === 0) o.onNote?.(`${basename(path)}: temperature from auxiliary channel ${auxChannel}`);
}
