/**
 * Where the monitor's points go: InfluxDB (through @influxdata/influxdb-client) with batching, retry with
 * back-off and a disk spool during outages; or, with no database configured, daily line-protocol files.
 */
import { Backoff, sleep } from '../backoff.js';
import { InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Spool } from './spool.js';
import type { LineSlot, LineTarget } from './lineBytes.js';

export interface SinkStats {
  /** The database cannot be reached: points go to the spool. */
  outage: boolean;
  written: number;
  retried: number;
  spooled: number;
  dropped: number;
  queued: number;
  spoolBytes: number;
  spoolBatches: number;
}

/** Lines encoded as bytes (`reserveLine`, `commitLine`: the per-sample path) or given as strings. */
export interface PointSink extends LineTarget {
  /** Queue lines; never throws and never blocks the pipeline. */
  write(lines: readonly string[]): void;
  /** Send (or spool) everything queued so far. */
  flush(): Promise<void>;
  /**
   * Make everything queued so far durable now, without waiting for the database (spooled to disk, or written to
   * its file): a checkpoint may then drop the journal behind it. Points in flight may be written twice, which
   * line protocol makes harmless (same series, same time, same value).
   */
  persist(): void;
  /**
   * A sink that appends to files of its own (not a database, which keeps one point per series and time): how long
   * each file is now, to be saved with a checkpoint after `persist()`.
   */
  position?(): Record<string, number>;
  /**
   * Cut the files back to a checkpoint's `position()` (or to nothing: `{}`), before the journal written after it is
   * replayed: the points it gives again are then written once, not twice.
   */
  rewind?(to: Readonly<Record<string, number>>): void;
  close(): Promise<void>;
  readonly stats: SinkStats;
}

export interface InfluxSinkOptions {
  readonly url: string;
  readonly token?: string;
  readonly org: string;
  readonly bucket: string;
  readonly batchSize: number;
  readonly flushInterval_ms: number;
  /** Attempts per batch before it goes to the spool. */
  readonly maxRetries: number;
  readonly minRetryDelay_ms: number;
  readonly maxRetryDelay_ms: number;
  /** Lines held in memory before further ones go straight to the spool. */
  readonly maxQueueLines: number;
  readonly spoolDir: string;
  readonly spoolMaxBytes: number;
  readonly timeout_ms: number;
  /** For https URLs: CA, client certificate and key files. */
  readonly tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized: boolean };
  readonly log: (message: string) => void;
}

function transportOptions(tls: InfluxSinkOptions['tls']): Record<string, unknown> | undefined {
  if (tls === undefined) return undefined;
  return {
    ca: tls.caFile === undefined ? undefined : readFileSync(tls.caFile),
    cert: tls.certFile === undefined ? undefined : readFileSync(tls.certFile),
    key: tls.keyFile === undefined ? undefined : readFileSync(tls.keyFile),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}

export class InfluxSink implements PointSink {
  readonly stats: SinkStats = { outage: false, written: 0, retried: 0, spooled: 0, dropped: 0, queued: 0, spoolBytes: 0, spoolBatches: 0 };
  private queue: string[] = [];
  /** The batch taken from the queue and being sent, until the server has it. */
  private inFlight: string[] | null = null;
  /** Lines ever queued / taken from the queue: a flush waits only for what was queued before it. */
  private queuedTotal = 0;
  private dequeuedTotal = 0;
  private readonly api: WriteApi;
  private readonly spool: Spool;
  private busy: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout;
  private closed = false;
  private outage = false;
  private spoolWarned = false;
  /** Points dropped since the spool stopped taking them (full or read-only disk). */
  private droppedUnwritable = 0;

  constructor(private readonly o: InfluxSinkOptions) {
    // The client sends; retries, ordering and spooling are ours so that nothing is reordered or lost.
    this.api = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeout_ms, transportOptions: transportOptions(o.tls) }).getWriteApi(
      o.org,
      o.bucket,
      'ms',
      {
        batchSize: o.batchSize + 1,
        flushInterval: 0,
        maxRetries: 0,
        maxBufferLines: 2 * o.batchSize + 2,
        writeFailed: (error) => Promise.reject(error),
      },
    );
    this.spool = new Spool(o.spoolDir, o.spoolMaxBytes);
    if (this.spool.error !== null) {
      o.log(`influx: WARNING the spool directory ${o.spoolDir} is not writable (${this.spool.error}): during a database outage points would be dropped`);
    }
    this.updateSpoolStats();
    if (this.spool.batches > 0) o.log(`influx: ${this.spool.batches} spooled batches from an earlier run will be written first`);
    this.timer = setInterval(() => void this.flush(), o.flushInterval_ms);
    this.timer.unref();
  }

  write(lines: readonly string[]): void {
    for (const l of lines) this.queue.push(l);
    this.queuedTotal += lines.length;
    this.queued();
  }

  private writeLine(line: string): void {
    this.queue.push(line);
    this.queuedTotal++;
    this.queued();
  }

  // The client takes strings: an encoded line is read back from a scratch buffer.
  private readonly slot: LineSlot = { buf: Buffer.allocUnsafe(1024), at: 0 };

  reserveLine(_t_ms: number, maxBytes: number): LineSlot {
    if (this.slot.buf.length < maxBytes) this.slot.buf = Buffer.allocUnsafe(maxBytes);
    return this.slot;
  }

  commitLine(end: number): void {
    this.writeLine(this.slot.buf.toString('utf8', 0, end));
  }

  private queued(): void {
    if (this.queue.length > this.o.maxQueueLines) this.toSpool(this.take(this.queue.length));
    this.stats.queued = this.queue.length;
    if (this.queue.length >= this.o.batchSize) void this.flush();
  }

  private take(n: number): string[] {
    const batch = this.queue.splice(0, n);
    this.dequeuedTotal += batch.length;
    this.stats.queued = this.queue.length;
    return batch;
  }

  /**
   * Everything queued before this call is written or spooled when it resolves. Serialised: one batch in
   * flight at a time keeps the order of points.
   */
  flush(): Promise<void> {
    const target = this.queuedTotal;
    this.busy = this.busy.then(() => this.drain(target));
    return this.busy;
  }

  private async drain(target: number): Promise<void> {
    while (this.spool.batches > 0) {
      const batch = this.spool.peek();
      if (batch === null) break; // its files were removed behind our back: nothing left to drain
      if (!(await this.send(batch.lines, true))) return this.keepQueueSafe();
      this.spool.remove(batch.name);
      this.updateSpoolStats();
    }
    while (this.queue.length > 0 && this.dequeuedTotal < target) {
      const batch = this.take(this.o.batchSize);
      this.inFlight = batch;
      const sent = await this.send(batch, false);
      const persisted = this.inFlight === null; // persist() spooled a copy meanwhile
      this.inFlight = null;
      if (!sent) {
        if (!persisted) this.toSpool(batch);
        return this.keepQueueSafe();
      }
    }
  }

  persist(): void {
    if (this.inFlight !== null) {
      this.toSpool(this.inFlight);
      this.inFlight = null;
    }
    while (this.queue.length > 0) this.toSpool(this.take(this.o.batchSize));
  }

  /** During an outage (or at close), what is queued goes to disk, batch by batch, rather than waiting in memory. */
  private keepQueueSafe(): void {
    if (!this.outage && !this.closed) return;
    while (this.queue.length > 0) this.toSpool(this.take(this.o.batchSize));
  }

  private async send(lines: string[], fromSpool: boolean): Promise<boolean> {
    const backoff = new Backoff({ initial_ms: this.o.minRetryDelay_ms, max_ms: this.o.maxRetryDelay_ms });
    const attempts = this.outage ? 1 : this.o.maxRetries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        this.api.writeRecords(lines);
        await this.api.flush();
        this.stats.written += lines.length;
        if (this.outage) {
          this.outage = false;
          this.stats.outage = false;
          this.o.log(`influx: ${this.o.url} reachable again, writing ${fromSpool ? 'spooled' : 'queued'} points`);
        }
        return true;
      } catch (e) {
        if (attempt === 1 && !this.outage) this.o.log(`influx: write of ${lines.length} lines failed (${(e as Error).message}); retrying with back-off`);
        if (attempt < attempts) {
          this.stats.retried += lines.length;
          await sleep(backoff.next(), true);
        }
      }
    }
    if (!this.outage) this.o.log(`influx: ${this.o.url} unreachable, spooling points to ${this.o.spoolDir}`);
    this.outage = true;
    this.stats.outage = true;
    return false;
  }

  private toSpool(lines: string[]): void {
    if (lines.length === 0) return;
    const wasFailing = this.spool.error !== null && this.droppedUnwritable > 0;
    const dropped = this.spool.push(lines);
    if (this.spool.error !== null) {
      // Full or read-only disk: these points are lost, loudly; detection and alerts go on.
      this.stats.dropped += dropped;
      this.droppedUnwritable += dropped;
      if (!wasFailing) {
        this.o.log(
          `influx: WARNING cannot spool to ${this.o.spoolDir} (${this.spool.error}) while ${this.o.url} is unreachable: dropping points until the disk takes them again; detection and alerts go on`,
        );
      }
      return;
    }
    if (this.droppedUnwritable > 0) {
      this.o.log(`influx: the spool is writable again; ${this.droppedUnwritable} points were dropped while it was not`);
      this.droppedUnwritable = 0;
    }
    this.stats.spooled += lines.length;
    if (dropped > 0) {
      this.stats.dropped += dropped;
      this.o.log(`influx: spool full (${this.o.spoolMaxBytes} bytes): dropped the ${dropped} oldest spooled points`);
    }
    this.updateSpoolStats();
    const full = this.spool.bytes / this.o.spoolMaxBytes;
    if (full > 0.8 && !this.spoolWarned) {
      this.spoolWarned = true;
      this.o.log(`influx: WARNING spool at ${(100 * full).toFixed(0)} % of its ${this.o.spoolMaxBytes} bytes: points will be dropped when it is full`);
    } else if (full < 0.5) this.spoolWarned = false;
  }

  private updateSpoolStats(): void {
    this.stats.spoolBytes = this.spool.bytes;
    this.stats.spoolBatches = this.spool.batches;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // During an outage, retrying at shutdown would outlast a container's stop grace period: spool at once.
    if (!this.outage) await this.flush();
    this.closed = true;
    this.keepQueueSafe();
    await this.api.close().catch(() => undefined);
  }
}

/** The line-protocol files of a lines folder. */
const lineFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.lp')) : []);

/** No database: line-protocol files per event-time day, `DIR/lines/YYYY-MM-DD.lp`. */
const LINE_FILE_BLOCK_BYTES = 256 * 1024;

interface DayBlock {
  readonly day: string;
  buf: Buffer;
  used: number;
  lines: number;
}

export class LineFileSink implements PointSink {
  readonly stats: SinkStats = { outage: false, written: 0, retried: 0, spooled: 0, dropped: 0, queued: 0, spoolBytes: 0, spoolBatches: 0 };
  private readonly dir: string;
  private failing: string | null = null;
  // Lines are encoded into a byte block per day at once: a line string then dies young instead of waiting, with
  // tens of thousands of others, for the next write and swelling the heap. Blocks are written when full.
  private readonly pending = new Map<string, DayBlock>();
  // The block of the day of the last line written (lines come in time order).
  private dayIndex = NaN;
  private block: DayBlock | null = null;
  private timer: NodeJS.Timeout;

  constructor(
    dataDir: string,
    flushInterval_ms = 1000,
    private readonly log?: (message: string) => void,
  ) {
    this.dir = join(dataDir, 'lines');
    mkdirSync(this.dir, { recursive: true });
    this.timer = setInterval(() => void this.flush(), flushInterval_ms);
    this.timer.unref();
  }

  write(lines: readonly string[]): void {
    for (const l of lines) this.writeLine(l, Number(l.slice(l.lastIndexOf(' ') + 1)));
  }

  /** One line whose time (ms) the caller knows. */
  writeLine(l: string, t_ms: number): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    const slot = this.reserveLine(t_ms, 3 * l.length);
    this.commitLine(slot.at + slot.buf.write(l, slot.at, 'utf8'));
  }

  private readonly slot: LineSlot = { buf: Buffer.alloc(0), at: 0 };

  reserveLine(t_ms: number, maxBytes: number): LineSlot {
    // The day of the time written in the line (rounded to the ms).
    const dayIndex = Math.floor(Math.round(t_ms) / 86_400_000);
    let b = this.block;
    if (dayIndex !== this.dayIndex || b === null) {
      const day = Number.isFinite(dayIndex) ? new Date(dayIndex * 86_400_000).toISOString().slice(0, 10) : 'undated';
      b = this.pending.get(day) ?? null;
      if (b === null) this.pending.set(day, (b = { day, buf: Buffer.allocUnsafe(LINE_FILE_BLOCK_BYTES), used: 0, lines: 0 }));
      this.dayIndex = dayIndex;
      this.block = b;
    }
    // Room for the line and its newline; a line longer than a block gets its own buffer.
    if (b.used + maxBytes + 1 > b.buf.length) {
      this.writeBlock(b);
      if (maxBytes + 1 > b.buf.length) b.buf = Buffer.allocUnsafe(maxBytes + 1);
    }
    this.slot.buf = b.buf;
    this.slot.at = b.used;
    return this.slot;
  }

  commitLine(end: number): void {
    const b = this.block!;
    b.buf[end] = 10;
    b.used = end + 1;
    b.lines++;
    this.stats.queued++;
  }

  async flush(): Promise<void> {
    this.persist();
  }

  position(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of lineFiles(this.dir)) out[name] = statSync(join(this.dir, name)).size;
    return out;
  }

  rewind(to: Readonly<Record<string, number>>): void {
    for (const name of lineFiles(this.dir)) {
      const path = join(this.dir, name);
      const keep = to[name] ?? 0;
      if (statSync(path).size > keep) truncateSync(path, keep);
    }
  }

  /** Appends synchronously; a full or read-only disk costs the points (counted, said once), never the process. */
  persist(): void {
    for (const b of this.pending.values()) this.writeBlock(b);
    // Blocks of days no longer written to are let go; the current day keeps its buffer.
    for (const [day, b] of this.pending) if (b !== this.block) this.pending.delete(day);
  }

  private writeBlock(b: DayBlock): void {
    if (b.lines === 0) return;
    try {
      appendFileSync(join(this.dir, `${b.day}.lp`), b.buf.subarray(0, b.used));
      this.stats.written += b.lines;
      if (this.failing !== null) {
        this.log?.(`lines: ${this.dir} writable again`);
        this.failing = null;
      }
    } catch (e) {
      this.stats.dropped += b.lines;
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (this.failing === null) this.log?.(`lines: WARNING cannot write to ${this.dir} (${why}): dropping points until it can; detection and alerts go on`);
      this.failing = why;
    }
    this.stats.queued -= b.lines;
    b.used = 0;
    b.lines = 0;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** The sink a monitor writes to: InfluxDB when configured, daily line-protocol files under dataDir otherwise. */
export function sinkFor(
  influx: (Omit<InfluxSinkOptions, 'spoolDir' | 'log'> & { spoolDir?: string }) | undefined,
  dataDir: string,
  log: (message: string) => void,
): PointSink {
  if (influx === undefined) return new LineFileSink(dataDir, 1000, log);
  return new InfluxSink({ ...influx, spoolDir: influx.spoolDir ?? join(dataDir, 'spool'), log });
}
