/**
 * Live monitoring in labs east and west of UTC, through Debian's Mosquitto: a real EC-Lab export whose header is moved
 * to "now" in the instrument PC's zone is written piece by piece while `cyclewatch bridge` (a child process whose
 * process zone is the lab's) follows it into `cyclewatch run`. Every row must be accepted and the monitor must find
 * the events `analyze --tz` finds in the whole file. A bridge that reads the header in the wrong zone must be named
 * for what it is: a zone misread, counted as `clock-offset`, with the fix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { runMonitor, type RunHandle } from '../../pipelines/run.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { zoneOffset_ms } from '../../src/domain/labTime.js';
import { eventToJson } from '../../src/io/outputs/analysisFiles.js';
import { removeDir, startMosquittoWith, stopAll, which } from './servers.js';

const haveBroker = which('mosquitto') !== null || process.env['CI'] !== undefined;
const root = resolve(__dirname, '../..');
const source = resolve(root, '../shared/data/real/mb.mpt');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeout_ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeout_ms) throw new Error(`timed out waiting for ${what()}`);
    await sleep(100);
  }
}

/** `MM/DD/YYYY HH:MM:SS.fff`, EC-Lab's acquisition start: the wall clock of `t_ms` in `zone`. */
function ecLabWallClock(t_ms: number, zone: string): string {
  const w = new Date(t_ms + zoneOffset_ms(zone, t_ms)).toISOString();
  return `${w.slice(5, 7)}/${w.slice(8, 10)}/${w.slice(0, 4)} ${w.slice(11, 23)}`;
}

/** The export's last row (its fields, the time/s column, its time/s) and the first row's time/s. */
function lastRow(text: string): { fields: string[]; timeColumn: number; t_s: number; first_s: number } {
  const lines = text.trimEnd().split(/\r?\n/);
  const headerLines = Number(/Nb header lines\s*:\s*(\d+)/.exec(text)![1]);
  const timeColumn = lines[headerLines - 1]!.split('\t').indexOf('time/s');
  const fields = lines.at(-1)!.split('\t');
  return { fields, timeColumn, t_s: Number(fields[timeColumn]), first_s: Number(lines[headerLines]!.split('\t')[timeColumn]) };
}

/**
 * mb.mpt with its acquisition start moved so that its last row was written a minute ago, in `zone`'s wall clock;
 * returns the true start (epoch ms).
 */
function movedToNow(dst: string, zone: string): number {
  const text = readFileSync(source, 'latin1');
  const start = Date.now() - lastRow(text).t_s * 1000 - 60_000;
  const moved = text.replace(/Acquisition started on : [^\r\n]+/, `Acquisition started on : ${ecLabWallClock(start, zone)}`);
  expect(moved).not.toBe(text);
  writeFileSync(dst, moved, 'latin1');
  return start;
}

/** The instrument goes on: a row every second for `seconds`, stamped with the time it is written. */
async function keepLogging(path: string, start_ms: number, seconds: number): Promise<void> {
  const { fields, timeColumn } = lastRow(readFileSync(path, 'latin1'));
  for (let k = 0; k < seconds; k++) {
    await sleep(1000);
    const row = [...fields];
    row[timeColumn] = ((Date.now() - start_ms) / 1000).toFixed(4);
    writeFileSync(path, row.join('\t') + '\n', { flag: 'a', encoding: 'latin1' });
  }
}

/** Copies `src` to `dst` in pieces, as an instrument PC writes: the bridge sees rows cut in the middle. */
async function growInPieces(src: string, dst: string, pieces: number): Promise<void> {
  const bytes = readFileSync(src);
  const fd = openSync(dst, 'w');
  const size = Math.ceil(bytes.length / pieces);
  for (let at = 0; at < bytes.length; at += size) {
    writeSync(fd, bytes, at, Math.min(size, bytes.length - at));
    await sleep(120);
  }
  closeSync(fd);
}

/** `cyclewatch bridge` in the lab's process zone (TZ), with its output. */
function bridge(configPath: string, tz: string, args: string[] = []): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, [join(root, 'bin/cyclewatch.js'), 'bridge', '--config', configPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TZ: tz },
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

describe.skipIf(!haveBroker || !existsSync(source))('labs in other time zones (bridge → Mosquitto → run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-zones-'));
  afterAll(() => removeDir(dir));

  it('Tokyo, Berlin and New York: every row accepted, the events of analyze --tz; a zone misread named and counted', async () => {
    const mosquitto = await startMosquittoWith({});
    const logs: string[] = [];
    let monitor: RunHandle | null = null;
    const bridges: ReturnType<typeof bridge>[] = [];
    try {
      monitor = await runMonitor(
        parseRunConfig(
          [`mqtt: { url: "${mosquitto.url}", clientId: monitor-zones, reconnectPeriod_ms: 200 }`, `dataDir: "${join(dir, 'data')}"`, 'http: { port: 0 }'].join(
            '\n',
          ),
          join(dir, 'run.yaml'),
        ),
        { log: (m) => logs.push(m) },
      );
      const labs: [string, string][] = [
        ['tokyo', 'Asia/Tokyo'],
        ['berlin', 'Europe/Berlin'],
        ['newyork', 'America/New_York'],
      ];
      const expected = new Map<string, Awaited<ReturnType<typeof analyze>>>();
      const firstRow = new Map<string, number>();
      const writes: Promise<void>[] = [];
      for (const [name, zone] of labs) {
        const watch = join(dir, name);
        mkdirSync(watch);
        const file = join(dir, `${name}_03_MB_C02.mpt`);
        const trueStart = movedToNow(file, zone);
        firstRow.set(`${name}_C02`, trueStart + lastRow(readFileSync(file, 'latin1')).first_s * 1000);
        expected.set(`${name}_C02`, await analyze({ files: [file], import: { cell: `${name}_C02` }, timeZone: zone }));
        const config = join(dir, `${name}.yaml`);
        writeFileSync(
          config,
          [
            `watch: ["${watch}/*.mpt"]`,
            `mqtt: { url: "${mosquitto.url}", clientId: bridge-${name}, reconnectPeriod_ms: 200, qos: 1 }`,
            `stateFile: "${join(dir, `${name}.journal`)}"`,
            'pollInterval_s: 0.2',
            'settleAfter_s: 2',
            'http: { port: 0 }',
          ].join('\n'),
        );
        // The cycler PC keeps the lab's zone: the bridge reads the header in it without being told.
        bridges.push(bridge(config, zone));
        writes.push(growInPieces(file, join(watch, `${name}_03_MB_C02.mpt`), 12));
      }
      // A bridge on a PC set to UTC next to a Tokyo instrument: its rows arrive 9 h ahead.
      const misread = join(dir, 'misread');
      mkdirSync(misread);
      const misreadStart = movedToNow(join(dir, 'misread_03_MB_C02.mpt'), 'Asia/Tokyo');
      writeFileSync(
        join(dir, 'misread.yaml'),
        [
          `watch: ["${misread}/*.mpt"]`,
          `mqtt: { url: "${mosquitto.url}", clientId: bridge-misread, reconnectPeriod_ms: 200, qos: 1 }`,
          `stateFile: "${join(dir, 'misread.journal')}"`,
          'pollInterval_s: 0.2',
          'http: { port: 0 }',
        ].join('\n'),
      );
      const wrong = bridge(join(dir, 'misread.yaml'), 'UTC');
      bridges.push(wrong);
      const misreadFile = join(misread, 'misread_03_MB_C02.mpt');
      writes.push(growInPieces(join(dir, 'misread_03_MB_C02.mpt'), misreadFile, 4).then(() => keepLogging(misreadFile, misreadStart, 45)));
      await Promise.all(writes);

      const want = [...expected.values()].reduce((n, r) => n + r.summaries[0]!.samples, 0);
      const m = monitor;
      await until(
        () => m.metrics.value('cyclewatch_samples_accepted_total') >= want && logs.some((l) => l.includes('cell "misread_C02"')),
        180_000,
        () => `${want} rows accepted and the misread ones rejected:\n${m.metrics.text()}\n${bridges.map((b) => b.output()).join('\n')}`,
      );
      await sleep(1500);
      // The three labs' rows, and of the misread cell only those it stamped less than an hour ahead.
      const lines = readdirSync(join(dir, 'data/lines')).flatMap((f) => readFileSync(join(dir, 'data/lines', f), 'utf8').split('\n'));
      const misreadTaken = lines.filter((l) => l.startsWith('telemetry,cell=misread_C02 ')).length;
      expect(m.metrics.value('cyclewatch_samples_accepted_total') - misreadTaken).toBe(want);
      for (const reason of ['late', 'duplicate', 'past']) expect(m.metrics.value('cyclewatch_messages_rejected_total', { reason }), reason).toBe(0);
      // Its live rows, 9 h ahead, are counted as what they are.
      expect(m.metrics.value('cyclewatch_messages_rejected_total', { reason: 'clock-offset' })).toBeGreaterThanOrEqual(40);
      // The events of each lab's cell are those analyze --tz finds (the last half cycle, closed only at the file's end, aside).
      const live = readFileSync(join(dir, 'data/events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const [cell, r] of expected) {
        const mine = live.filter((e) => e['cell'] === cell && (e['type'] === 'regime' || e['type'] === 'half-cycle'));
        const start = Date.parse(r.summaries[0]!.start!);
        const offline = r.events.filter((e) => e.type === 'regime' || e.type === 'half-cycle').map((e) => eventToJson(e, { start_ms: start }));
        expect(mine.length, cell).toBeGreaterThan(3);
        expect(mine, cell).toEqual(offline.slice(0, mine.length));
        expect(offline.length - mine.length, cell).toBeLessThanOrEqual(1);
        // The cell's first row where the instrument wrote it, in UTC, whatever the lab's zone (the header keeps ms).
        expect(Math.abs(start - firstRow.get(cell)!), cell).toBeLessThanOrEqual(1);
      }
      // The misread: named once, with the offset and the fix, by the monitor and by the bridge; no row of it taken on.
      const named = logs.filter((l) => l.includes('cell "misread_C02"') && l.includes('9 h ahead of this clock'));
      expect(named).toHaveLength(1);
      expect(named[0]).toMatch(/--tz ZONE/);
      expect(wrong.output()).toMatch(
        /warning clock-offset: misread_03_MB_C02\.mpt's rows are [^:]*ahead of this PC's clock: its local times look read in the wrong zone \(UTC, this PC's zone\)/,
      );
      expect(wrong.output().match(/warning clock-offset/g)).toHaveLength(1);
      for (const b of bridges.slice(0, 3)) expect(b.output()).not.toMatch(/clock-offset/);
    } finally {
      for (const b of bridges) b.child.kill('SIGKILL');
      await monitor?.close();
      await stopAll(mosquitto);
    }
  }, 300_000);
});
