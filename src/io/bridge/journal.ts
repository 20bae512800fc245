/**
 * The bridge's journal: the offsets of the followed files and an mqtt.js outgoing store, in one log on disk, for
 * exactly-once publishing across crashes. With QoS 2, a persistent session (clean: false, a fixed client id) and
 * this store, a message is on disk before its PUBLISH (and its PUBREL) leaves, and after a restart mqtt.js sends
 * every unfinished one again under its old packet id, which the broker recognises instead of delivering twice.
 *
 * Records, one a line: `P <id> <qos> <retain 0|1> <topic JSON> <payload JSON>` (a PUBLISH), `R <id>` (its PUBREL: the
 * broker has the message), `D <id>` (done), `F <file JSON>` (a file's offset after the messages before it). Records
 * are written once per turn of the event loop, all together, and only then acknowledged to mqtt.js: a killed or
 * crashed process loses nothing the operating system has. They reach the disk itself within a second (fdatasync):
 * after a power cut the last second may be read and sent again — a row delivered twice, never one lost. A step's messages and the offset after them are handed over in the same turn (`mark`), so they reach the
 * disk in one write: PUBLISH records after the last `F` record were never acknowledged (a torn write at a power cut)
 * and are dropped, and their rows are read again from the file. The log is rewritten with the live records when it
 * has grown well past them.
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { IStore, Packet } from 'mqtt';

type Stored = Packet & { messageId: number };

/** A followed file's position, as the journal keeps it. */
export interface FileMark {
  readonly path: string;
  /** Next byte (text) or row (`.mpr`) to read. */
  readonly offset: number;
  /** Hex of the file's first bytes: another file under the same name starts differently. */
  readonly signature: string;
  readonly cell: string;
  /** Rows handed over for publishing so far. */
  readonly published: number;
  /** Event time of the last row handed over (epoch ms). */
  readonly lastSample_ms: number | null;
  /** The retained `meta` payload last published for this file. */
  readonly meta: string | null;
}

export class JournalError extends Error {
  override name = 'JournalError';
}

export class BridgeJournal implements IStore {
  private readonly packets = new Map<number, Stored>();
  readonly files = new Map<string, FileMark>();
  private fd: number;
  private pending: string[] = [];
  private waiting: ((e?: Error) => void)[] = [];
  /** Written since the last flush to the disk itself (once a second: see above). */
  private unsynced = false;
  private readonly syncTimer: NodeJS.Timeout;
  private scheduled = false;
  private logRecords = 0;

  constructor(private readonly path: string) {
    if (existsSync(path)) this.replay(readFileSync(path, 'utf8'));
    this.fd = this.rewrite();
    this.syncTimer = setInterval(() => this.sync(), 1000);
    this.syncTimer.unref();
  }

  private sync(): void {
    if (!this.unsynced) return;
    this.unsynced = false;
    try {
      fdatasyncSync(this.fd);
    } catch {
      // the next write reports a failing disk to its callers
    }
  }

  private drainWaiters: { limit: number; resolve: () => void }[] = [];

  /** Messages handed over and not yet completed by the broker. */
  get size(): number {
    return this.packets.size;
  }

  /** Resolves once at most `limit` messages await the broker: the bound on what a broker outage holds on disk. */
  whenAtMost(limit: number): Promise<void> {
    if (this.packets.size <= limit) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ limit, resolve }));
  }

  private replay(text: string): void {
    // PUBLISH records since the last `F` record: dropped at the end unless a mark follows them.
    let unmarked: number[] = [];
    const lines = text.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!;
      if (line.length === 0) continue;
      const space = line.indexOf(' ');
      const kind = line.slice(0, space);
      const rest = line.slice(space + 1);
      try {
        if (kind === 'F') {
          const mark = JSON.parse(rest) as FileMark;
          this.files.set(mark.path, mark);
          unmarked = [];
        } else if (kind === 'P') {
          const [idText, qos, retain, topicJson, ...payload] = rest.split(' ');
          const messageId = Number(idText);
          const packet = {
            cmd: 'publish',
            qos: Number(qos),
            dup: true,
            retain: retain === '1',
            messageId,
            topic: JSON.parse(topicJson!) as string,
            payload: JSON.parse(payload.join(' ')) as string,
          };
          this.packets.set(messageId, packet as Stored);
          unmarked.push(messageId);
        } else if (kind === 'R') this.packets.set(Number(rest), { cmd: 'pubrel', qos: 2, messageId: Number(rest) } as Stored);
        else if (kind === 'D') this.packets.delete(Number(rest));
        else throw new Error(`unknown record "${kind}"`);
      } catch (e) {
        // Only the last line can be cut (a crash in the middle of a write); anything else is damage.
        if (k < lines.length - 1 && lines.slice(k + 1).some((l) => l.length > 0)) {
          throw new JournalError(`${this.path}, line ${k + 1}: ${(e as Error).message}; move the file away to publish every file from its start again`);
        }
      }
    }
    for (const id of unmarked) if (this.packets.get(id)?.cmd === 'publish') this.packets.delete(id);
  }

  /** The live records alone, through a temporary file; returns the descriptor to append to. */
  private rewrite(): number {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    // Messages first, then the marks: a PUBLISH record is kept only when a mark follows it.
    const lines = [...this.packets.values()].map((p) => this.record(p)).join('') + [...this.files.values()].map((f) => `F ${JSON.stringify(f)}\n`).join('');
    if (lines.length > 0) writeSync(fd, lines);
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.logRecords = this.packets.size + this.files.size;
    return openSync(this.path, 'a');
  }

  private record(p: Stored): string {
    if (p.cmd === 'pubrel') return `R ${p.messageId}\n`;
    const pub = p as Stored & { topic: string; payload: string | Buffer; retain?: boolean; qos?: number };
    const payload = typeof pub.payload === 'string' ? pub.payload : pub.payload.toString('utf8');
    return `P ${p.messageId} ${pub.qos} ${pub.retain ? 1 : 0} ${JSON.stringify(pub.topic)} ${JSON.stringify(payload)}\n`;
  }

  private append(line: string, done?: (e?: Error) => void): void {
    this.pending.push(line);
    if (done !== undefined) this.waiting.push(done);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Everything appended this turn, in one write and one flush to disk. */
  private flush(): void {
    this.scheduled = false;
    const text = this.pending.join('');
    const waiting = this.waiting;
    this.logRecords += this.pending.length;
    this.pending = [];
    this.waiting = [];
    let error: Error | undefined;
    try {
      writeSync(this.fd, text);
      this.unsynced = true;
      if (this.logRecords > 4 * (this.packets.size + this.files.size) + 100_000) {
        closeSync(this.fd);
        this.fd = this.rewrite();
      }
    } catch (e) {
      error = e as Error;
    }
    for (const w of waiting) w(error);
  }

  /**
   * A file's new position, after the messages handed over before it in this turn; resolves once it is on disk.
   * Messages and mark must be handed over in one turn of the event loop (see above).
   */
  mark(file: FileMark): Promise<void> {
    this.files.set(file.path, file);
    return new Promise((resolve, reject) => this.append(`F ${JSON.stringify(file)}\n`, (e) => (e === undefined ? resolve() : reject(e))));
  }

  /** Forget a file (replaced under the bridge): it is read from its start again. */
  forget(path: string): Promise<void> {
    const mark = this.files.get(path);
    if (mark === undefined) return Promise.resolve();
    return this.mark({ ...mark, offset: 0, published: 0, lastSample_ms: null, meta: null, signature: '' });
  }

  put(packet: Packet, cb: (e?: Error) => void): this {
    const p = packet as Stored;
    if (p.cmd !== 'publish' && p.cmd !== 'pubrel') {
      cb();
      return this;
    }
    this.packets.set(p.messageId, p);
    this.append(this.record(p), cb);
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: (e?: Error, p?: Packet) => void): this {
    const p = this.packets.get(packet.messageId!);
    if (p === undefined) cb(new Error('missing packet'));
    else cb(undefined, p);
    return this;
  }

  del(packet: Pick<Packet, 'messageId'>, cb: (e?: Error, p?: Packet) => void): this {
    const id = packet.messageId!;
    const p = this.packets.get(id);
    if (p === undefined) {
      cb(new Error('missing packet'));
      return this;
    }
    this.packets.delete(id);
    if (this.drainWaiters.length > 0) {
      const ready = this.drainWaiters.filter((w) => this.packets.size <= w.limit);
      this.drainWaiters = this.drainWaiters.filter((w) => this.packets.size > w.limit);
      for (const w of ready) w.resolve();
    }
    // Not waited for: a lost `D` only sends a PUBREL again, which the broker completes without delivering twice.
    this.append(`D ${id}\n`);
    cb(undefined, p);
    return this;
  }

  createStream(): ReturnType<IStore['createStream']> {
    // Everything streamed from the store is sent again: a PUBLISH goes with its DUP flag set (MQTT 3.1.1 §3.3.1.1),
    // which mqtt.js leaves to the store. mqtt.js types its stream as readable-stream's; Node's Readable is what that
    // package re-exports here.
    const again = [...this.packets.values()].map((p) => (p.cmd === 'publish' ? { ...p, dup: true } : p));
    return Readable.from(again, { objectMode: true }) as unknown as ReturnType<IStore['createStream']>;
  }

  close(cb: (e?: Error) => void): void {
    clearInterval(this.syncTimer);
    if (this.pending.length > 0) this.flush();
    this.sync();
    try {
      closeSync(this.fd);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}
