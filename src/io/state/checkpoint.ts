/**
 * Restart without forgetting. Two kinds of file in the state directory:
 * - a journal of accepted samples, appended synchronously before the broker is acknowledged, in numbered
 *   segments, so that a sample acknowledged but not yet covered by a checkpoint survives a SIGKILL;
 * - `checkpoint.json`, written atomically: every cell's pipeline state and the first journal segment it does
 *   not cover. A restart loads the checkpoint and replays the journal segments from there.
 *
 * A journal segment (`journal-NNNNNNNNN.bin`) is a sequence of binary records, little-endian:
 * - `0x01 u16:length utf8:cell` names the next cell number of the segment (0, 1, …), before its first sample;
 * - `0x02 u32:cell f64:t_ms f64:voltage_V f64:current_mA f64:pressure_MPa f64:temperature_C`, NaN for a
 *   quantity the sample does not have.
 * Numbers are stored as they are, not as text: formatting doubles was most of the cost of journalling. A record
 * cut short (a kill mid-write) ends the segment: its message was not acknowledged, the broker sends it again.
 * Segments of the earlier text format (`journal-NNNNNNNNN.jsonl`, a `[cell,t_ms,V,I,p,T]` line per sample) are
 * still read.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../../domain/sample.js';

/** JSON with NaN and ±Infinity kept (the detector uses them as "not yet" markers). */
export function stringifyState(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v));
}

export function parseState<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && '$num' in v && Object.keys(v).length === 1) return Number((v as { $num: string }).$num);
    return v;
  }) as T;
}

export interface Checkpoint<S> {
  readonly version: 1;
  readonly savedAt: string;
  /** The first journal segment not covered by this checkpoint. */
  readonly journalSeq: number;
  /** Length of events.jsonl when the checkpoint was taken. */
  readonly eventsBytes: number;
  /** Length of each of the point sink's own files (line protocol) when the checkpoint was taken; none for a database. */
  readonly sinkFiles?: Record<string, number>;
  readonly cells: Record<string, S>;
}

const SEGMENT = /^journal-(\d{9})\.(bin|jsonl)$/;
const segmentName = (seq: number, ext: 'bin' | 'jsonl' = 'bin'): string => `journal-${String(seq).padStart(9, '0')}.${ext}`;

const CELL_RECORD = 0x01;
const SAMPLE_RECORD = 0x02;
const SAMPLE_BYTES = 1 + 4 + 6 * 8;
/** Cell ids longer than this (bytes) are journalled cut: no id the monitor takes on comes close. */
const MAX_CELL_BYTES = 0xffff;
const FLUSH_BYTES = 1 << 20;

const orNaN = (x: number | undefined): number => (x === undefined ? NaN : x);
const orUndefined = (x: number): number | undefined => (Number.isFinite(x) ? x : undefined);

/** The samples of one binary segment, up to its first incomplete or unknown record. */
export function readJournalSegment(bytes: Buffer): Sample[] {
  const cells: string[] = [];
  const out: Sample[] = [];
  let at = 0;
  while (at < bytes.length) {
    const kind = bytes[at];
    if (kind === CELL_RECORD) {
      if (at + 3 > bytes.length) break;
      const length = bytes.readUInt16LE(at + 1);
      if (at + 3 + length > bytes.length) break;
      cells.push(bytes.toString('utf8', at + 3, at + 3 + length));
      at += 3 + length;
    } else if (kind === SAMPLE_RECORD) {
      if (at + SAMPLE_BYTES > bytes.length) break;
      const cell = cells[bytes.readUInt32LE(at + 1)];
      if (cell === undefined) break;
      const f = at + 5;
      out.push({
        cell,
        t_ms: bytes.readDoubleLE(f),
        voltage_V: orUndefined(bytes.readDoubleLE(f + 8)),
        current_mA: orUndefined(bytes.readDoubleLE(f + 16)),
        pressure_MPa: orUndefined(bytes.readDoubleLE(f + 24)),
        temperature_C: orUndefined(bytes.readDoubleLE(f + 32)),
      });
      at += SAMPLE_BYTES;
    } else break;
  }
  return out;
}

function readTextSegment(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    try {
      const [cell, t_ms, v, i, p, temp] = JSON.parse(line) as [string, number, number | null, number | null, number | null, number | null];
      out.push({ cell, t_ms, voltage_V: v ?? undefined, current_mA: i ?? undefined, pressure_MPa: p ?? undefined, temperature_C: temp ?? undefined });
    } catch {
      // a line cut short by a kill mid-write: its message was not acknowledged, the broker sends it again
    }
  }
  return out;
}

export class StateStore<S> {
  private fd: number | null = null;
  /** Bytes of the open segment known to be whole records: a failed write is cut back to this. */
  private fileBytes = 0;
  private seq: number;
  private buf = Buffer.allocUnsafe(FLUSH_BYTES);
  /** Cell numbers of the open segment (records naming them are in the segment or in the buffer). */
  private cellNumbers = new Map<string, number>();
  private used = 0;
  private pendingCount = 0;
  /** Journal writes (system calls) so far. */
  writes = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.seq = Math.max(0, ...this.segments().map((s) => s.seq)) + 1;
  }

  private segments(): { seq: number; name: string }[] {
    return readdirSync(this.dir)
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ seq: Number(m[1]), name: m[0] }))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The last checkpoint (if any) and the samples journalled after it, in order. Called once, before the first `append`. */
  load(): { checkpoint: Checkpoint<S> | null; journal: Sample[] } {
    const path = join(this.dir, 'checkpoint.json');
    const checkpoint = existsSync(path) ? parseState<Checkpoint<S>>(readFileSync(path, 'utf8')) : null;
    const from = checkpoint?.journalSeq ?? 0;
    // The segment written from now on must be one the next restart replays: a checkpoint that covered every segment
    // (nothing arrived after it) left none on disk to count on from.
    if (this.seq < from) this.seq = from;
    const journal: Sample[] = [];
    for (const { seq, name } of this.segments()) {
      if (seq < from) continue;
      const samples = name.endsWith('.bin')
        ? readJournalSegment(readFileSync(join(this.dir, name)))
        : readTextSegment(readFileSync(join(this.dir, name), 'utf8'));
      for (const s of samples) journal.push(s);
    }
    return { checkpoint, journal };
  }

  /**
   * Journal one accepted sample. It is buffered: `flush()` writes the buffer in one system call, and the broker's
   * PUBACKs for these samples leave only after it (group commit, see `connectMqtt`'s `beforeAcknowledge`).
   */
  append(s: Sample): void {
    let cell = this.cellNumbers.get(s.cell);
    if (cell === undefined) {
      const name = Buffer.from(s.cell, 'utf8').subarray(0, MAX_CELL_BYTES);
      this.reserve(3 + name.length);
      this.buf[this.used] = CELL_RECORD;
      this.buf.writeUInt16LE(name.length, this.used + 1);
      name.copy(this.buf, this.used + 3);
      this.used += 3 + name.length;
      this.cellNumbers.set(s.cell, (cell = this.cellNumbers.size));
    }
    this.reserve(SAMPLE_BYTES);
    const b = this.buf;
    const at = this.used;
    b[at] = SAMPLE_RECORD;
    b.writeUInt32LE(cell, at + 1);
    b.writeDoubleLE(s.t_ms, at + 5);
    b.writeDoubleLE(orNaN(s.voltage_V), at + 13);
    b.writeDoubleLE(orNaN(s.current_mA), at + 21);
    b.writeDoubleLE(orNaN(s.pressure_MPa), at + 29);
    b.writeDoubleLE(orNaN(s.temperature_C), at + 37);
    this.used = at + SAMPLE_BYTES;
    this.pendingCount++;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    this.flush();
    if (this.used + bytes > this.buf.length) {
      // The write failed and the buffer still holds what it could not write: it grows rather than lose a sample.
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.used + bytes));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
  }

  /**
   * Write what is buffered, synchronously: on disk (in the OS) when this returns. Returns the samples written.
   * When the write fails (full disk) the segment is cut back to its last whole record and the buffer kept, so a
   * later flush writes it all; the error is thrown for the caller to hold the acknowledgements back.
   */
  flush(): number {
    if (this.used === 0) return 0;
    if (this.fd === null) {
      this.fd = openSync(join(this.dir, segmentName(this.seq)), 'a');
      this.fileBytes = 0;
    }
    try {
      let done = 0;
      while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
    } catch (e) {
      try {
        ftruncateSync(this.fd, this.fileBytes);
      } catch {
        // the next open of this segment by a restart stops at the first incomplete record anyway
      }
      throw e;
    }
    this.fileBytes += this.used;
    const n = this.pendingCount;
    this.used = 0;
    this.pendingCount = 0;
    this.writes++;
    return n;
  }

  /** Start a new segment; returns its number, the first one a checkpoint taken now does not cover. */
  rotate(): number {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.cellNumbers = new Map();
    return ++this.seq;
  }

  /** Write the checkpoint atomically, then drop the journal segments it covers. */
  save(cells: string, journalSeq: number, eventsBytes: number, sinkFiles?: Record<string, number>): void {
    const path = join(this.dir, 'checkpoint.json');
    const tmp = path + '.tmp';
    const files = sinkFiles === undefined ? '' : `"sinkFiles":${JSON.stringify(sinkFiles)},`;
    const body = `{"version":1,"savedAt":${JSON.stringify(new Date().toISOString())},"journalSeq":${journalSeq},"eventsBytes":${eventsBytes},${files}"cells":${cells}}`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    for (const { seq, name } of this.segments()) if (seq < journalSeq) unlinkSync(join(this.dir, name));
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
