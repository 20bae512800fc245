/**
 * One step of following a growing telemetry file: the records written since `offset` (whole lines of a text file,
 * whole rows of an `.mpr`, whole records of an `.nda`, the records of a saved `.ndax`), decoded by the same importers `analyze` uses. Nothing here
 * remembers anything: the caller keeps the offset and moves it on only once the step's records are safely delivered.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Sample } from '../../domain/sample.js';
import { ImportError, RejectionLog } from '../instruments/rejections.js';
import { openTelemetry, sniffFormat, type FileMetadata, type ImportOptions, type TelemetryFormat } from '../instruments/importers.js';
import { wholeLinesUntil } from '../instruments/textLines.js';
import { openMpr } from '../instruments/mpr.js';
import { openNda } from '../instruments/nda.js';
import { openRes } from '../instruments/res.js';
import { openNdax } from '../instruments/ndax.js';
import { isAbsolute } from '../../domain/labTime.js';
import { XLSX_MAGIC } from '../instruments/table.js';
import type { ImpedanceReading } from '../wire/payload.js';

/** The first bytes of a file: a file replaced by another (same name, new run) no longer starts with them. */
export const SIGNATURE_BYTES = 64;

export interface TailPosition {
  /** Next byte (text formats) or record (`.mpr` row, `.nda` record) to read. */
  readonly offset: number;
  /** Hex of the file's first bytes when the offset was taken. */
  readonly signature: string;
}

export type TailStep =
  | {
      readonly kind: 'records';
      readonly format: TelemetryFormat;
      readonly metadata: FileMetadata;
      readonly samples: Sample[];
      readonly impedance: ImpedanceReading[];
      /** Where the next step starts; the offset to keep once these records are delivered. */
      readonly next: number;
      /** Records (bytes or rows) still in the file after this step: how far behind the follower is. */
      readonly behind: number;
      readonly signature: string;
      /** The acquisition start the file gives (epoch ms), if it gives one. */
      readonly start_ms: number | undefined;
      /** What the reader assumed, for a person (how a table's columns and times were read). */
      readonly notes: readonly string[];
    }
  /** Not readable yet (a header still being written, an `.mpr` without its LOG module yet); `why` says so. */
  | { readonly kind: 'waiting'; readonly why: string; readonly signature: string }
  /** The file is shorter than the offset, or starts differently: it was replaced or truncated. */
  | { readonly kind: 'replaced'; readonly signature: string };

export interface TailOptions extends Pick<ImportOptions, 'cell' | 'setCurrent_mA' | 'start_ms' | 'timeZone' | 'columns' | 'startIfUndated_ms'> {
  readonly maxRows: number;
  /** Bytes of text read at most per step. */
  readonly maxBytes: number;
  readonly rejections: RejectionLog;
  /**
   * The file has stopped changing: its last line is read even without a newline (EC-Lab ends its exports without
   * one), and an `.mpr` that never got its LOG module (the acquisition start) is read with times from 1970.
   */
  readonly settled?: boolean;
}

function signatureOf(path: string): { signature: string; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(SIGNATURE_BYTES, size));
    readSync(fd, buf, 0, buf.length, 0);
    return { signature: buf.toString('hex'), size };
  } finally {
    closeSync(fd);
  }
}

export async function readTailStep(path: string, at: TailPosition | undefined, o: TailOptions): Promise<TailStep> {
  const { signature, size } = signatureOf(path);
  // Still being created: not even the signature is there.
  if (size < SIGNATURE_BYTES) return { kind: 'waiting', why: `only ${size} bytes so far`, signature };
  if (at !== undefined && at.offset > 0 && at.signature !== signature) return { kind: 'replaced', signature };
  const from = at?.offset ?? 0;
  const head = Buffer.from(signature, 'hex').toString('latin1');
  let format: TelemetryFormat;
  try {
    format = sniffFormat(path, head, o.columns);
  } catch (e) {
    if (e instanceof ImportError) return { kind: 'waiting', why: e.detail, signature };
    throw e;
  }
  let until: number;
  let total: number;
  let start_ms: number | undefined;
  try {
    if (format === 'mpr') {
      const file = await openMpr(path);
      total = file.rows;
      if (from > total) return { kind: 'replaced', signature };
      until = Math.min(total, from + o.maxRows);
      if (file.startLocal_ms === undefined && o.start_ms === undefined && !o.settled) {
        return { kind: 'waiting', why: 'no LOG module (the acquisition start) in the file yet', signature };
      }
    } else if (format === 'res') {
      // A database is rewritten in place, not appended to: it is read whole at each step, its rows counted.
      total = (await openRes(path)).rows;
      if (from > total) return { kind: 'replaced', signature };
      until = Math.min(total, from + o.maxRows);
    } else if (format === 'ndax') {
      // BTSDA writes an .ndax whole (a zip, its directory last) when it saves or backs up a test.
      if (!o.settled) return { kind: 'waiting', why: 'an .ndax is written whole when BTSDA saves the test: it is read once it has settled', signature };
      total = (await openNdax(path)).records;
      if (from > total) return { kind: 'replaced', signature };
      until = Math.min(total, from + o.maxRows);
    } else if (format === 'nda') {
      const layout = await openNda(path);
      total = layout.records;
      if (from > total) return { kind: 'replaced', signature };
      until = Math.min(total, from + o.maxRows);
    } else if (format === 'table' && head.startsWith(XLSX_MAGIC)) {
      // A workbook is a zip written whole when saved: nothing to follow row by row. Read once it has settled.
      if (!o.settled) return { kind: 'waiting', why: 'an .xlsx is complete only when saved: it is read once it has settled', signature };
      if (from > size) return { kind: 'replaced', signature };
      total = size;
      until = size;
      if (from === size)
        return { kind: 'records', format, metadata: {}, samples: [], impedance: [], next: size, behind: 0, signature, start_ms: undefined, notes: [] };
    } else {
      if (from > size) return { kind: 'replaced', signature };
      total = size;
      until = await wholeLinesUntil(path, from, from + o.maxBytes);
      // Only a settled file's unterminated last line is whole: while a file grows, it may be half written.
      if (o.settled && until === from && size > from && size - from <= o.maxBytes) until = size;
    }
  } catch (e) {
    if (e instanceof ImportError) return { kind: 'waiting', why: e.detail, signature };
    throw e;
  }
  const impedance: ImpedanceReading[] = [];
  const notes: string[] = [];
  const samples: Sample[] = [];
  let metadata: FileMetadata;
  {
    try {
      const file = await openTelemetry(
        path,
        o.rejections,
        {
          cell: o.cell,
          setCurrent_mA: o.setCurrent_mA,
          start_ms: o.start_ms,
          startIfUndated_ms: o.startIfUndated_ms,
          columns: o.columns,
          timeZone: o.timeZone,
          // A workbook is read whole, once.
          ...(format === 'table' && head.startsWith(XLSX_MAGIC) ? {} : { range: { from, until } }),
          onImpedance: ({ block: _block, ...p }) => void impedance.push(p),
          onNote: (m) => void notes.push(m),
        },
        format,
      );
      metadata = file.metadata;
      if (until > from) for await (const batch of file.batches) for (const s of batch) samples.push(s);
      start_ms = file.metadata.start_ms;
    } catch (e) {
      if (e instanceof ImportError) return { kind: 'waiting', why: e.detail, signature };
      throw e;
    }
  }
  // Durations with nothing to date them would be published at 1970 and refused by the monitor as too old.
  if (format === 'table' && samples.length > 0 && !isAbsolute(samples[0]!.t_ms)) {
    return {
      kind: 'waiting',
      why: "its times are durations and it has no dates, nor a creation time on this file system: give start: (the test's start) in the bridge configuration",
      signature,
    };
  }
  return { kind: 'records', format, metadata, samples, impedance, next: until, behind: total - until, signature, start_ms, notes };
}
