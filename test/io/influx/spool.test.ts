import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxSink, type InfluxSinkOptions } from '../../../src/io/influx/sinks.js';
import { Spool } from '../../../src/io/influx/spool.js';

const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => `telemetry,cell=c1 voltage_V=0.07 ${1767225600000 + (from + k) * 1000}`);

/** A sink against a server that cannot take the points (nothing listens on the discard port unless said). */
function sinkTo(spoolDir: string, logs: string[], o: Partial<InfluxSinkOptions> = {}): InfluxSink {
  return new InfluxSink({
    url: 'http://127.0.0.1:9',
    org: 'lab',
    bucket: 'b',
    batchSize: 100,
    flushInterval_ms: 100_000,
    maxRetries: 0,
    minRetryDelay_ms: 10,
    maxRetryDelay_ms: 20,
    maxQueueLines: 1000,
    spoolDir,
    spoolMaxBytes: 10_000_000,
    timeout_ms: 500,
    log: (m) => logs.push(m),
    ...o,
  });
}

describe('disk spool', () => {
  it('keeps batches in order across instances and drops the oldest beyond its bound', () => {
    const path = join(dir, 'a');
    const s = new Spool(path, 10_000);
    s.push(lines(0, 10));
    s.push(lines(10, 10));
    const again = new Spool(path, 10_000);
    expect(again.batches).toBe(2);
    expect(again.peek()!.lines[0]).toBe(lines(0, 1)[0]);
    again.remove();
    expect(again.peek()!.lines[0]).toBe(lines(10, 1)[0]);
    const small = new Spool(join(dir, 'b'), 1500);
    let dropped = 0;
    for (let k = 0; k < 5; k++) dropped += small.push(lines(k * 10, 10));
    expect(small.bytes).toBeLessThanOrEqual(1500);
    expect(dropped).toBe(10 * (5 - small.batches));
    expect(small.peek()!.lines[0]).toBe(lines((5 - small.batches) * 10, 1)[0]);
  });

  it('InfluxSink spools when the server cannot be reached, warns near the bound, and counts what it drops', async () => {
    const logs: string[] = [];
    const spoolDir = join(dir, 'sink');
    const sink = sinkTo(spoolDir, logs, { maxRetries: 1, spoolMaxBytes: 40_000 });
    for (let k = 0; k < 10; k++) {
      sink.write(lines(k * 100, 100));
      await sink.flush();
    }
    await sink.close();
    expect(sink.stats.written).toBe(0);
    expect(sink.stats.spooled).toBe(1000);
    expect(sink.stats.dropped).toBeGreaterThan(0);
    expect(sink.stats.spoolBytes).toBeLessThanOrEqual(40_000);
    expect(readdirSync(spoolDir).length).toBe(sink.stats.spoolBatches);
    const text = logs.join('\n');
    expect(text).toMatch(/unreachable, spooling points/);
    expect(text).toMatch(/WARNING spool at \d+ %/);
    expect(text).toMatch(/spool full .* dropped the \d+ oldest spooled points/);
  });

  it('on a full disk or an unwritable directory: no crash, no partial file, a loud count of what it drops, and recovery when space returns', async () => {
    // A real full disk: a 64 KiB tmpfs (root can mount one here; skipped where it cannot).
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // not permitted: the unwritable-directory half below still runs
    }
    try {
      if (mounted) {
        const logs: string[] = [];
        const filler = join(mnt, 'filler');
        writeFileSync(filler, Buffer.alloc(40 * 1024));
        const sink = sinkTo(join(mnt, 'spool'), logs);
        for (let k = 0; k < 20; k++) {
          sink.write(lines(k * 100, 100));
          await sink.flush();
        }
        expect(sink.stats.dropped).toBeGreaterThan(0);
        expect(sink.stats.spooled + sink.stats.dropped).toBe(2000);
        expect(readdirSync(join(mnt, 'spool')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        expect(logs.filter((m) => /WARNING cannot spool .*ENOSPC.* detection and alerts go on/.test(m))).toHaveLength(1);
        // Space returns: the next batches are spooled again, and the log says how many were lost.
        rmSync(filler);
        const before = sink.stats.spooled;
        sink.write(lines(5000, 100));
        await sink.flush();
        expect(sink.stats.spooled).toBe(before + 100);
        expect(logs.some((m) => /spool is writable again; \d+ points were dropped/.test(m))).toBe(true);
        await sink.close();
      }
      // A spool directory that cannot exist (its parent is a file): said at start, and never a crash.
      const blocker = join(dir, 'not-a-dir');
      writeFileSync(blocker, 'x');
      const logs: string[] = [];
      const sink = sinkTo(join(blocker, 'spool'), logs);
      expect(logs.some((m) => /WARNING the spool directory .* is not writable \((ENOTDIR|EEXIST)\)/.test(m))).toBe(true);
      sink.write(lines(0, 300));
      await sink.flush();
      await sink.close();
      expect(sink.stats.dropped).toBe(300);
    } finally {
      if (mounted) execFileSync('umount', [mnt]);
    }
  });

  it('persist() makes queued and in-flight points durable at once, without waiting for a database that does not answer', async () => {
    // A server that accepts the connection and never answers: a write would hang until its timeout.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const spoolDir = join(dir, 'persist');
    const sink = sinkTo(spoolDir, [], { url: `http://127.0.0.1:${port}`, maxQueueLines: 10_000, timeout_ms: 30_000 });
    try {
      sink.write(lines(0, 100));
      void sink.flush(); // this batch is now in flight, unanswered
      await new Promise((r) => setTimeout(r, 50));
      sink.write(lines(100, 250));
      sink.persist();
      const spooled = new Spool(spoolDir, 10_000_000);
      const all: string[] = [];
      for (let b = spooled.peek(); b !== null; b = spooled.peek()) {
        all.push(...b.lines);
        spooled.remove(b.name);
      }
      expect(all).toEqual(lines(0, 350));
      expect(sink.stats.queued).toBe(0);
    } finally {
      silent.closeAllConnections();
      silent.close();
      await sink.close();
    }
  });
});
