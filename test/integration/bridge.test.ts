/**
 * The bridge against Debian's Mosquitto: EC-Lab files are written into a folder in random-sized chunks (cutting rows
 * and headers in the middle) while `cyclewatch bridge` (a child process) follows them, and `cyclewatch run` takes the
 * telemetry on the other side. The monitor must end with exactly the rows and regime events `analyze` finds in the
 * complete files, and a subscriber at QoS 0 counts every message the broker took in: a row published twice shows there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, type AnalyzeResult } from '../../pipelines/analyze.js';
import { runMonitor, type RunHandle } from '../../pipelines/run.js';
import { simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { asWritten } from '../support/events.js';
import { openTelemetry } from '../../src/io/instruments/importers.js';
import { RejectionLog } from '../../src/io/instruments/rejections.js';
import { writeMpr, writeMpt } from '../../src/sim/ecLab.js';
import mqtt from 'mqtt';
import { removeDir, startMosquittoWith, stopAll, which, type RunningServer } from './servers.js';

const run = which('mosquitto') !== null || process.env['CI'] !== undefined;
const root = resolve(__dirname, '../..');
const real = resolve(root, '../shared/data/real');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, timeout_ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeout_ms) throw new Error(`timed out waiting for ${what()}`);
    await sleep(100);
  }
}

/** Copies `src` to `dst` in random-sized pieces, as an instrument PC writes: the reader sees every cut. */
async function writeInChunks(
  src: string,
  dst: string,
  seed: number,
  maxChunk: number,
  pause_ms: number,
  onChunk?: (k: number) => Promise<void>,
): Promise<void> {
  const bytes = readFileSync(src);
  const fd = openSync(dst, 'w');
  let s = seed;
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    s = (s * 16807) % 2147483647;
    const n = Math.min(bytes.length - at, 1 + (s % maxChunk));
    writeSync(fd, bytes, at, n);
    at += n;
    await onChunk?.(k);
    await sleep(pause_ms);
  }
  closeSync(fd);
}

/** `cyclewatch bridge` as a child process, to be killed by the test. */
function bridgeProcess(configPath: string) {
  let child: ChildProcess | null = null;
  let all = '';
  let up: Promise<void> = Promise.resolve();
  return {
    output: () => all,
    start(): void {
      const c = spawn(process.execPath, [join(root, 'bin/cyclewatch.js'), 'bridge', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      let mine = '';
      c.stderr!.on('data', (d: Buffer) => {
        all += d.toString();
        mine += d.toString();
      });
      child = c;
      up = until(
        () => mine.includes('bridge: publishing to') || c.exitCode !== null,
        60_000,
        () => `the bridge to start:\n${mine}`,
      );
    },
    /** Killed once it has started (a slow start on a busy machine must not make the kill a no-op). */
    async kill(signal: NodeJS.Signals): Promise<void> {
      const c = child!;
      await up;
      if (c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    },
    cleanup: () => child?.kill('SIGKILL'),
  };
}

describe.skipIf(!run)('cyclewatch bridge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-bridge-'));
  let longMpt: string;
  let longMpr: string;
  beforeAll(async () => {
    // A simulated run with shorts and isolated shorts, as EC-Lab would write it (header first, rows as they come).
    // 27,000 rows a file: the monitor takes them in well within the wait below on a machine with one core busy.
    const csv = join(dir, 'loop.csv');
    await simulate({ scenarios: ['very-high-rate'], out: csv, dt_s: 4, duration_h: 30, seed: 4 });
    const f = await openTelemetry(csv, new RejectionLog());
    const rows: { t_s: number; voltage_V: number; current_mA: number }[] = [];
    let start_ms: number | null = null;
    for await (const b of f.batches)
      for (const s of b) {
        if (s.voltage_V === undefined || s.current_mA === undefined) continue;
        start_ms ??= s.t_ms;
        rows.push({ t_s: (s.t_ms - start_ms) / 1000, voltage_V: s.voltage_V, current_mA: s.current_mA });
      }
    const ecRun = { start_ms: start_ms!, areaCm2: 0.5, limit_V: 8, channel: 4 };
    longMpt = join(dir, 'loop.mpt');
    longMpr = join(dir, 'loop.mpr');
    await writeMpt(longMpt, ecRun, rows);
    await writeMpr(longMpr, ecRun, rows);
  }, 120_000);
  afterAll(() => removeDir(dir));

  /**
   * Counts the telemetry rows the broker takes in (a batch message holds several): a QoS 0 subscriber with a
   * persistent session (the broker queues its messages across its own restart and never sends one twice, as it may
   * at QoS 1 and 2).
   */
  async function countMessages(mosquitto: RunningServer, clientId: string) {
    const client = mqtt.connect(mosquitto.url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 200 });
    let n = 0;
    let batches = 0;
    client.on('message', (_t, payload) => {
      const body = JSON.parse(payload.toString()) as unknown;
      n += Array.isArray(body) ? body.length : 1;
      if (Array.isArray(body)) batches++;
    });
    await new Promise<void>((resolve) =>
      client.on('connect', (connack) => {
        if (!connack.sessionPresent) client.subscribe('cells/+/ec', { qos: 0 }, () => resolve());
      }),
    );
    return { count: () => n, batches: () => batches, close: () => client.endAsync() };
  }

  async function setUp(name: string, extra = '') {
    const mosquitto = await startMosquittoWith({ queue_qos0_messages: 'true' });
    const base = join(dir, name);
    const watch = join(base, 'watch');
    mkdirSync(watch, { recursive: true });
    const config = parseRunConfig(
      [
        `mqtt: { url: "${mosquitto.url}", clientId: monitor-${name}, reconnectPeriod_ms: 200, qos: 1 }`,
        `dataDir: "${join(base, 'data')}"`,
        'http: { port: 0 }',
        'checkpointInterval_s: 1',
      ].join('\n'),
      join(base, 'run.yaml'),
    );
    const monitor: RunHandle = await runMonitor(config, { log: () => {} });
    const configPath = join(base, 'bridge.yaml');
    writeFileSync(
      configPath,
      [
        `watch: ["${watch}/*.mp?"]`,
        `mqtt: { url: "${mosquitto.url}", clientId: bridge-${name}, reconnectPeriod_ms: 200, qos: ${process.env['BRIDGE_QOS'] ?? 2} }`,
        `stateFile: "${join(base, 'bridge.journal')}"`,
        'pollInterval_s: 0.2',
        'settleAfter_s: 2',
        'http: { port: 0 }',
        extra,
      ].join('\n'),
    );
    const counter = await countMessages(mosquitto, `counter-${name}`);
    const bridge = bridgeProcess(configPath);
    bridge.start();
    return { mosquitto, monitor, counter, bridge, watch, base };
  }

  /** The monitor's telemetry lines of a cell, by timestamp. */
  function telemetryTimes(base: string, cell: string): number[] {
    const lines = readdirSync(join(base, 'data', 'lines')).flatMap((f) => readFileSync(join(base, 'data', 'lines', f), 'utf8').split('\n'));
    return lines.filter((l) => l.startsWith(`telemetry,cell=${cell} `)).map((l) => Number(l.split(' ')[2]));
  }
  const regimesOf = (base: string, cell: string): Record<string, unknown>[] =>
    readFileSync(join(base, 'data', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e['cell'] === cell && (e['type'] === 'regime' || e['type'] === 'half-cycle'));
  /** Rows the detection chain takes (a file's own duplicated rows are dropped by both analyze and run). */
  const accepted = (r: AnalyzeResult): number => r.summaries[0]!.samples;
  /**
   * The monitor's regime and half-cycle events against analyze's: the same, except that analyze closes the last
   * half cycle at the end of the file, which a live monitor never sees (it closes it at the next one, or a rest).
   */
  function expectSameEvents(base: string, cell: string, r: AnalyzeResult): void {
    const live = regimesOf(base, cell);
    const offline = r.events.filter((e) => e.type === 'regime' || e.type === 'half-cycle').map(asWritten(r));
    const last = offline.map((e) => e['type']).lastIndexOf('half-cycle');
    const withoutLast = offline.filter((_, k) => k !== last);
    expect(live, cell).toEqual(live.length === offline.length ? offline : withoutLast);
    expect(live.length, cell).toBeGreaterThan(0);
  }

  it('golden: files written in random chunks end up in the monitor exactly as analyze reads the whole files', async () => {
    const s = await setUp('golden');
    try {
      const files: [string, string, string][] = [
        [longMpt, 'loop_02_GCPL_C05.mpt', 'loop_C05'],
        ...(existsSync(join(real, 'mb.mpt')) ? ([[join(real, 'mb.mpt'), 'mb_03_MB_C02.mpt', 'mb_C02']] as [string, string, string][]) : []),
        ...(existsSync(join(real, 'mpr/HAC_NH3_01_02_GCPL_C04.mpr'))
          ? ([[join(real, 'mpr/HAC_NH3_01_02_GCPL_C04.mpr'), 'HAC_NH3_01_02_GCPL_C04.mpr', 'HAC_NH3_01_C04']] as [string, string, string][])
          : []),
      ];
      const expected = new Map<string, AnalyzeResult>();
      for (const [src, , cell] of files) expected.set(cell, await analyze({ files: [src], import: { cell } }));
      await Promise.all(files.map(([src, name], k) => writeInChunks(src, join(s.watch, name), 7 + k, 300_000, 150)));
      const want = [...expected.values()].reduce((n, r) => n + accepted(r), 0);
      await until(
        () => s.monitor.metrics.value('cyclewatch_samples_accepted_total') >= want,
        240_000,
        () => `${want} rows (monitor has ${s.monitor.metrics.value('cyclewatch_samples_accepted_total')})\n${s.bridge.output()}`,
      );
      await sleep(1000);
      for (const [cell, r] of expected) {
        const times = telemetryTimes(s.base, cell);
        // Line protocol keeps milliseconds: EC-Lab rows microseconds apart share a line time, so count lines.
        expect(times.length, cell).toBe(accepted(r));
        expectSameEvents(s.base, cell, r);
      }
      expect(expected.get('loop_C05')!.events.some((e) => e.type === 'regime' && e.regime === 'isolated-short')).toBe(true);
      // Every row of the files once through the broker (QoS 2 both ways): its own repeated rows too, nothing more.
      expect(s.monitor.metrics.value('cyclewatch_messages_in_total')).toBe([...expected.values()].reduce((n, r) => n + r.samples, 0));
      expect(s.counter.count()).toBe([...expected.values()].reduce((n, r) => n + r.samples, 0));
      // A file read in chunks has steps of many rows: those travel as batches.
      expect(s.counter.batches()).toBeGreaterThan(0);
      // The header's metadata, retained for the monitor.
      expect(s.bridge.output()).toMatch(/loop_02_GCPL_C05\.mpt → cells\/loop_C05\//);
    } finally {
      s.bridge.cleanup();
      await s.counter.close();
      await s.monitor.close();
      await stopAll(s.mosquitto);
    }
  }, 360_000);

  it('SIGKILL of the bridge twice and a broker restart during the copy: no row lost, none published twice', async () => {
    const s = await setUp('kill');
    try {
      const cells: [string, string, string][] = [
        [longMpt, 'loopA_02_GCPL_C05.mpt', 'loopA_C05'],
        [longMpr, 'loopB_02_GCPL_C06.mpr', 'loopB_C06'],
      ];
      const expected = new Map<string, AnalyzeResult>();
      for (const [src, , cell] of cells) expected.set(cell, await analyze({ files: [src], import: { cell } }));
      const want = [...expected.values()].reduce((n, r) => n + accepted(r), 0);
      const chunks = Math.ceil(readFileSync(longMpt).length / 150_000);
      const only = process.env['BRIDGE_EVENTS'] ?? 'kill,broker,kill';
      const all: [number, string, () => Promise<void>][] = [
        [Math.floor(chunks * 0.25), 'kill', () => s.bridge.kill('SIGKILL').then(() => s.bridge.start())],
        [
          Math.floor(chunks * 0.5),
          'broker',
          () =>
            s.mosquitto
              .stop()
              .then(() => sleep(1500))
              .then(() => s.mosquitto.start()),
        ],
        [
          Math.floor(chunks * 0.75),
          'kill',
          () =>
            s.bridge
              .kill('SIGKILL')
              .then(() => sleep(500))
              .then(() => s.bridge.start()),
        ],
      ];
      const events = new Map(all.filter(([, what]) => only.includes(what)).map(([k, , f]) => [k, f]));
      await Promise.all([
        writeInChunks(longMpt, join(s.watch, cells[0]![1]), 11, 150_000, 120, async (k) => events.get(k)?.()),
        writeInChunks(longMpr, join(s.watch, cells[1]![1]), 13, 40_000, 120),
      ]);
      await until(
        () => s.monitor.metrics.value('cyclewatch_samples_accepted_total') >= want,
        Number(process.env['BRIDGE_WAIT_MS'] ?? 240_000),
        () =>
          `${want} rows (monitor has ${s.monitor.metrics.value('cyclewatch_samples_accepted_total')}; ${s.monitor.metrics
            .text()
            .split('\n')
            .filter((l) => /^cyclewatch_(messages|mqtt|data_gaps|samples)/.test(l))
            .join(', ')})\n${s.bridge.output()}`,
      );
      await sleep(1500);
      for (const [cell, r] of expected) {
        const times = telemetryTimes(s.base, cell);
        expect(new Set(times).size, `${cell}: rows lost`).toBe(accepted(r));
        expect(times.length, `${cell}: rows written twice`).toBe(accepted(r));
        expectSameEvents(s.base, cell, r);
      }
      // Into the broker: every row of the files published once (their own repeated rows too), none twice. Counted at
      // QoS 0, not by the monitor: a restarting broker delivers again what was in flight to a subscriber at QoS 1,
      // and Debian's Mosquitto 2.0.11 at QoS 2 too (persist_read.c restores in-flight messages as queued with
      // max_inflight_messages 0); the monitor drops those repeats (the telemetry lines above).
      expect(s.counter.count()).toBe([...expected.values()].reduce((n, r) => n + r.samples, 0));
      expect(s.bridge.output().match(/bridge: following/g)).toHaveLength(3);
    } finally {
      s.bridge.cleanup();
      await s.counter.close();
      await s.monitor.close();
      await stopAll(s.mosquitto);
    }
  }, 420_000);
});
