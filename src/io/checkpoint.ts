/**
 * Restart without forgetting. Two files in the state directory:
 * - a journal of accepted samples, appended synchronously before the broker is acknowledged, in numbered
 *   segments, so that a sample acknowledged but not yet covered by a checkpoint survives a SIGKILL;
 * - `checkpoint.json`, written atomically: every cell's pipeline state and the first journal segment it does
 *   not cover. A restart loads the checkpoint and replays the journal segments from there.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../domain/sample.js';

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
  readonly cells: Record<string, S>;
}

const segmentName = (seq: number): string => `journal-${String(seq).padStart(9, '0')}.jsonl`;

/** A line per sample, `[cell,t_ms,V,I,p,T]` with null for a missing quantity. */
const opt = (x: number | undefined): string | number => (x !== undefined && Number.isFinite(x) ? x : 'null');
const FLUSH_BYTES = 1 << 20;

export class StateStore<S> {
  private fd: number | null = null;
  private seq: number;
  private buf = Buffer.allocUnsafe(FLUSH_BYTES);
  /** `["<cell>",` per cell id, quoted once. */
  private readonly quoted = new Map<string, string>();
  private used = 0;
  private pendingCount = 0;
  /** Journal writes (system calls) so far. */
  writes = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.seq = Math.max(0, ...this.segments()) + 1;
  }

  private segments(): number[] {
    return readdirSync(this.dir)
      .map((n) => /^journal-(\d{9})\.jsonl$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** The last checkpoint (if any) and the samples journalled after it, in order. */
  load(): { checkpoint: Checkpoint<S> | null; journal: Sample[] } {
    const path = join(this.dir, 'checkpoint.json');
    const checkpoint = existsSync(path) ? parseState<Checkpoint<S>>(readFileSync(path, 'utf8')) : null;
    const from = checkpoint?.journalSeq ?? 0;
    const journal: Sample[] = [];
    for (const seq of this.segments()) {
      if (seq < from) continue;
      for (const line of readFileSync(join(this.dir, segmentName(seq)), 'utf8').split('\n')) {
        if (line.length === 0) continue;
        try {
          const [cell, t_ms, v, i, p, temp] = JSON.parse(line) as [string, number, number | null, number | null, number | null, number | null];
          journal.push({ cell, t_ms, voltage_V: v ?? undefined, current_mA: i ?? undefined, pressure_MPa: p ?? undefined, temperature_C: temp ?? undefined });
        } catch {
          // a line cut short by a kill mid-write: its message was not acknowledged, the broker sends it again
        }
      }
    }
    return { checkpoint, journal };
  }

  /**
   * Journal one accepted sample. It is buffered: `flush()` writes the buffer in one system call, and the broker's
   * PUBACKs for these samples leave only after it (group commit, see `connectMqtt`'s `beforeAcknowledge`).
   */
  append(s: Sample): void {
    // Encoded into bytes at once: the line's string then dies young (a turn's worth of pending strings would
    // otherwise outlive the young generation at high message rates).
    let cell = this.quoted.get(s.cell);
    if (cell === undefined) {
      if (this.quoted.size >= 10_000) this.quoted.clear();
      this.quoted.set(s.cell, (cell = '[' + JSON.stringify(s.cell) + ','));
    }
    const line = `${cell}${s.t_ms},${opt(s.voltage_V)},${opt(s.current_mA)},${opt(s.pressure_MPa)},${opt(s.temperature_C)}]\n`;
    const need = 3 * line.length;
    if (this.used + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    this.used += this.buf.write(line, this.used, 'utf8');
    this.pendingCount++;
  }

  /** Write what is buffered, synchronously: on disk (in the OS) when this returns. Returns the samples written. */
  flush(): number {
    if (this.pendingCount === 0) return 0;
    if (this.fd === null) this.fd = openSync(join(this.dir, segmentName(this.seq)), 'a');
    writeSync(this.fd, this.buf, 0, this.used);
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
    return ++this.seq;
  }

  /** Write the checkpoint atomically, then drop the journal segments it covers. */
  save(cells: string, journalSeq: number, eventsBytes: number): void {
    const path = join(this.dir, 'checkpoint.json');
    const tmp = path + '.tmp';
    const body = `{"version":1,"savedAt":${JSON.stringify(new Date().toISOString())},"journalSeq":${journalSeq},"eventsBytes":${eventsBytes},"cells":${cells}}`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    for (const seq of this.segments()) if (seq < journalSeq) unlinkSync(join(this.dir, segmentName(seq)));
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
