/**
 * A disk spool of line-protocol batches: one file per batch, named by sequence, drained oldest first,
 * so points written during a database outage reach it in order once it returns.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const reason = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export class Spool {
  private seq = 0;
  private files: { name: string; bytes: number }[] = [];
  bytes = 0;
  /** Why the last write failed (full or read-only disk), null while the spool is writable. */
  error: string | null = null;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
      // Batches left by an earlier run are drained first.
      for (const name of readdirSync(dir)
        .filter((n) => /^\d{12}\.lp$/.test(n))
        .sort()) {
        const bytes = statSync(join(dir, name)).size;
        this.files.push({ name, bytes });
        this.bytes += bytes;
        this.seq = Math.max(this.seq, Number(name.slice(0, 12)));
      }
      this.probe();
    } catch (e) {
      this.error = reason(e);
    }
  }

  /** Whether a batch can be written now (checked at start, so an unwritable directory is said before it matters). */
  probe(): boolean {
    const path = join(this.dir, '.probe');
    try {
      writeFileSync(path, 'x');
      unlinkSync(path);
      this.error = null;
      return true;
    } catch (e) {
      this.error = reason(e);
      return false;
    }
  }

  get batches(): number {
    return this.files.length;
  }

  /**
   * Append a batch. Returns the lines dropped: the oldest ones, to stay within `maxBytes`, or this batch itself when
   * the disk refuses it (full, read-only: `error` says why). Never throws: the monitor goes on detecting.
   */
  push(lines: readonly string[]): number {
    const body = lines.join('\n') + '\n';
    const name = String(++this.seq).padStart(12, '0') + '.lp';
    const tmp = join(this.dir, name + '.tmp');
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, body);
      renameSync(tmp, join(this.dir, name));
      this.error = null;
    } catch (e) {
      this.error = reason(e);
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was written
      }
      return lines.length;
    }
    this.files.push({ name, bytes: body.length });
    this.bytes += body.length;
    let dropped = 0;
    while (this.bytes > this.maxBytes && this.files.length > 1) {
      const oldest = this.peek()!;
      dropped += oldest.lines.length;
      this.remove();
    }
    return dropped;
  }

  peek(): { name: string; lines: string[] } | null {
    for (;;) {
      const f = this.files[0];
      if (f === undefined) return null;
      try {
        const text = readFileSync(join(this.dir, f.name), 'utf8');
        return { name: f.name, lines: text.split('\n').filter((l) => l.length > 0) };
      } catch {
        // Removed behind our back (or unreadable): nothing to drain from it.
        this.remove(f.name);
      }
    }
  }

  /** Remove a batch: the oldest, or the named one (it may have been dropped meanwhile to respect the bound). */
  remove(name?: string): void {
    const k = name === undefined ? 0 : this.files.findIndex((f) => f.name === name);
    if (k < 0 || k >= this.files.length) return;
    const [f] = this.files.splice(k, 1);
    if (f === undefined) return;
    this.bytes -= f.bytes;
    try {
      unlinkSync(join(this.dir, f.name));
    } catch {
      // already gone: nothing to drain twice
    }
  }
}
