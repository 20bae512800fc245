/**
 * Reliability through real Mosquitto and VictoriaMetrics: SIGKILLs of the monitor, a 60 s database outage,
 * a broker restart. Each time: every telemetry point in the database exactly once per timestamp, and the
 * regime events of an uninterrupted analysis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, type AnalyzeResult } from '../../pipelines/analyze.js';
import { replay } from '../../pipelines/replay.js';
import { runMonitor } from '../../pipelines/run.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { loadRegistry } from '../../src/config/registry.js';
import { asWritten } from '../support/events.js';
import { eventTime_ms, type CellEvent } from '../../src/domain/events.js';
import { exportCounts, haveServers, removeDir, startMosquitto, startVictoriaMetrics, stopAll, type RunningServer } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;
const root = resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, timeout_ms: number, what: string | (() => string)): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeout_ms) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}

/** `cyclewatch run` as a child process: started (until its MQTT connection) and killed by the test. */
function monitorProcess(configPath: string) {
  let child: ChildProcess | null = null;
  let out = ''; // since the last start
  let all = ''; // since the first
  return {
    output: () => out,
    allOutput: () => all,
    async start(): Promise<void> {
      out = '';
      const c = spawn(process.execPath, [join(root, 'bin/cyclewatch.js'), 'run', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
        all += d.toString();
      });
      await until(() => /mqtt: connected/.test(out), 20_000, 'the monitor to connect');
    },
    /** Send a signal and wait for the exit code. */
    async stop(signal: NodeJS.Signals): Promise<number | null> {
      const c = child!;
      const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
      c.kill(signal);
      return exited;
    },
    cleanup: () => child?.kill('SIGKILL'),
  };
}

describe.skipIf(!run)('reliability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-reliability-'));
  const csv = join(dir, 'fleet.csv');
  const halves = [join(dir, 'part1.csv'), join(dir, 'part2.csv')];
  const expectedTimes = new Map<string, number>();
  let offline: AnalyzeResult;

  beforeAll(async () => {
    await simulate({ scenarios: ['very-high-rate', 'ccd', 'high-rate'], out: csv, dt_s: 5, duration_h: 60, seed: 11 });
    offline = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)) });
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    const header = rows.shift()!;
    const mid = Math.floor(rows.length / 2);
    writeFileSync(halves[0]!, [header, ...rows.slice(0, mid)].join('\n') + '\n');
    writeFileSync(halves[1]!, [header, ...rows.slice(mid)].join('\n') + '\n');
    const times = new Map<string, Set<number>>();
    for (const r of rows) {
      const [t, cell] = r.split(',');
      if (!times.has(cell!)) times.set(cell!, new Set());
      times.get(cell!)!.add(Date.parse(t!));
    }
    for (const [cell, set] of times) expectedTimes.set(cell, set.size);
  }, 120_000);
  afterAll(() => removeDir(dir));

  const regimeEventsOf = (eventsFile: string) => {
    const byCell: Record<string, unknown[]> = {};
    for (const l of readFileSync(eventsFile, 'utf8').trim().split('\n')) {
      const e = JSON.parse(l) as { type: string; cell: string };
      if (e.type === 'regime') (byCell[e.cell] ??= []).push(e);
    }
    return byCell;
  };
  const offlineRegimes = () => {
    const byCell: Record<string, unknown[]> = {};
    for (const e of offline.events) if (e.type === 'regime') (byCell[e.cell] ??= []).push(asWritten(offline)(e));
    return byCell;
  };
  /**
   * Every event but the wall clock's (stale) and those decided in each cell's last seconds (the monitor holds a cell's
   * newest samples for the re-ordering window, 5 s, until later ones arrive, and these never do): regime changes, half
   * cycles (index, start, end, charge), alerts and soft shorts, as `analyze` writes them for the same run.
   */
  const expectEveryEventOfAnUninterruptedRun = (dataDir: string): void => {
    const live = readFileSync(join(dataDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e['code'] !== 'stale');
    const written = asWritten(offline);
    for (const cell of expectedTimes.keys()) {
      const mine = live.filter((e) => e['cell'] === cell);
      const end_ms = Date.parse(offline.summaries.find((x) => x.cell === cell)!.end!);
      // A half cycle is decided by the first sample after its end (the run's rhythm: 5 s).
      const decided_ms = (e: CellEvent): number => (e.type === 'half-cycle' ? e.end_ms + 5_000 : eventTime_ms(e));
      const want = offline.events.filter((e) => e.cell === cell && decided_ms(e) <= end_ms - 5_000).map(written);
      expect(mine, cell).toEqual(want);
      expect(mine.filter((e) => e['type'] === 'half-cycle').length, cell).toBeGreaterThan(20);
    }
  };

  let lastCounts = '';
  const allPointsIn = async (vm: RunningServer): Promise<boolean> => {
    const counts = await exportCounts(vm.url, 'telemetry_voltage_V');
    // Said when a wait times out: which cells are short of points, by how many.
    lastCounts = [...expectedTimes].map(([cell, n]) => `${cell} ${counts.get(cell) ?? 0}/${n}`).join(', ');
    return [...expectedTimes].every(([cell, n]) => counts.get(cell) === n);
  };
  const configText = (mosquitto: RunningServer, vm: RunningServer, dataDir: string, extra = '') =>
    [
      `mqtt: { url: "${mosquitto.url}", clientId: reliability-${Math.random().toString(36).slice(2)}, reconnectPeriod_ms: 200 }`,
      `influx: { url: "${vm.url}", org: lab, bucket: cells, flushInterval_ms: 200, maxRetries: 1, minRetryDelay_ms: 100 }`,
      `dataDir: "${dataDir}"`,
      `cellsFile: "${registryPath(csv)}"`,
      'http: { port: 0 }',
      'checkpointInterval_s: 1',
      extra,
    ].join('\n');

  /** Waits for every point in the database; says which cells are short, and what the monitor said, if it times out. */
  const untilAllPointsIn = (vm: RunningServer, monitor: ReturnType<typeof monitorProcess>): Promise<void> =>
    until(
      () => allPointsIn(vm),
      60_000,
      () => `all points in the database (telemetry points per cell: ${lastCounts}; the monitor said:\n${monitor.allOutput().slice(-4000)})`,
    );

  /**
   * Replays the fleet at 10,000× real time (~3,000 messages/s: a busy lab, with room for checkpoints between
   * interruptions) and runs `interrupt` at three random points of it; the number of interruptions made.
   */
  async function replayInterrupted(brokerUrl: string, interrupt: () => Promise<void>): Promise<number> {
    const total = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
    const points = [0.15 + 0.2 * Math.random(), 0.4 + 0.2 * Math.random(), 0.65 + 0.2 * Math.random()].map((f) => Math.floor(f * total));
    let published = 0;
    let made = 0;
    const replaying = replay({
      files: [csv],
      brokerUrl,
      speed: 10_000,
      topicPrefix: 'cells',
      qos: 1,
      maxInFlight: 100,
      log: () => {},
      progress: (p) => (published = p.published),
      progressEvery_ms: 0,
    });
    const interrupting = (async () => {
      for (const at of points) {
        await until(() => published >= at, 120_000, `replay to reach ${at}`);
        await interrupt();
        made++;
      }
    })();
    await replaying;
    await interrupting;
    return made;
  }

  it('SIGKILL at three random points: every regime, half-cycle and alert event as an uninterrupted run, every point exactly once', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dataDir = join(dir, 'kill');
    const configPath = join(dir, 'kill.yaml');
    writeFileSync(configPath, configText(mosquitto, vm, dataDir));
    const monitor = monitorProcess(configPath);
    try {
      await monitor.start();
      const killed = await replayInterrupted(mosquitto.url, async () => {
        await monitor.stop('SIGKILL');
        await monitor.start();
      });
      expect(killed).toBe(3);
      await untilAllPointsIn(vm, monitor);
      expect(await monitor.stop('SIGTERM')).toBe(0);
      expect(monitor.allOutput()).toMatch(/restored 3 cells from the checkpoint/);
      expect(regimeEventsOf(join(dataDir, 'events.jsonl'))).toEqual(offlineRegimes());
      expectEveryEventOfAnUninterruptedRun(dataDir);
      const counts = await exportCounts(vm.url, 'telemetry_voltage_V');
      for (const [cell, n] of expectedTimes) expect(counts.get(cell)).toBe(n);
    } finally {
      monitor.cleanup();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('SIGTERM at three random points (planned restarts): every regime, half-cycle and alert event as an uninterrupted run', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dataDir = join(dir, 'term');
    const configPath = join(dir, 'term.yaml');
    writeFileSync(configPath, configText(mosquitto, vm, dataDir));
    const monitor = monitorProcess(configPath);
    try {
      await monitor.start();
      await replayInterrupted(mosquitto.url, async () => {
        expect(await monitor.stop('SIGTERM')).toBe(0);
        await monitor.start();
      });
      await untilAllPointsIn(vm, monitor);
      expect(await monitor.stop('SIGTERM')).toBe(0);
      expect(monitor.allOutput().match(/restored 3 cells from the checkpoint/g)).toHaveLength(3);
      expectEveryEventOfAnUninterruptedRun(dataDir);
      const counts = await exportCounts(vm.url, 'telemetry_voltage_V');
      for (const [cell, n] of expectedTimes) expect(counts.get(cell)).toBe(n);
    } finally {
      monitor.cleanup();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('SIGKILL at three random points with no database: every point in the line-protocol files exactly once', async () => {
    const mosquitto = await startMosquitto();
    const dataDir = join(dir, 'files');
    const configPath = join(dir, 'files.yaml');
    writeFileSync(
      configPath,
      [
        `mqtt: { url: "${mosquitto.url}", clientId: reliability-files, reconnectPeriod_ms: 200 }`,
        `dataDir: "${dataDir}"`,
        `cellsFile: "${registryPath(csv)}"`,
        'http: { port: 0 }',
        'checkpointInterval_s: 1',
      ].join('\n'),
    );
    const monitor = monitorProcess(configPath);
    try {
      await monitor.start();
      await replayInterrupted(mosquitto.url, async () => {
        await monitor.stop('SIGKILL');
        await monitor.start();
      });
      const linesOf = (): string[] =>
        readdirSync(join(dataDir, 'lines'))
          .filter((f) => f.endsWith('.lp'))
          .flatMap((f) => readFileSync(join(dataDir, 'lines', f), 'utf8').split('\n'))
          .filter((l) => l.length > 0);
      const telemetryCount = (): number => linesOf().filter((l) => l.startsWith('telemetry,')).length;
      const want = [...expectedTimes.values()].reduce((a, b) => a + b, 0);
      await until(
        () => telemetryCount() >= want,
        60_000,
        () => `${want} telemetry lines (have ${telemetryCount()})`,
      );
      expect(await monitor.stop('SIGTERM')).toBe(0);
      const lines = linesOf();
      // One line per series and time: raw telemetry, derived state, half cycles and events.
      const key = (l: string): string => `${l.slice(0, l.indexOf(' '))} ${l.slice(l.lastIndexOf(' ') + 1)}`;
      const seen = new Map<string, number>();
      for (const l of lines) seen.set(key(l), (seen.get(key(l)) ?? 0) + 1);
      const twice = [...seen].filter(([, n]) => n > 1);
      expect(twice.slice(0, 5), `${twice.length} series-and-times written more than once`).toEqual([]);
      expect(lines.filter((l) => l.startsWith('telemetry,')).length).toBe(want);
      expect(lines.filter((l) => l.startsWith('derived,')).length).toBeGreaterThan(want * 0.9);
      expect(monitor.allOutput().match(/restored 3 cells from the checkpoint/g)?.length).toBeGreaterThanOrEqual(2);
    } finally {
      monitor.cleanup();
      await stopAll(mosquitto);
    }
  }, 300_000);

  it('database stopped for 60 s mid-run: every point present afterwards', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const logs: string[] = [];
    const handle = await runMonitor(parseRunConfig(configText(mosquitto, vm, join(dir, 'outage')), join(dir, 'outage.yaml')), { log: (m) => logs.push(m) });
    try {
      await until(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1, 10_000, 'connection');
      await sleep(300);
      await replay({ files: [halves[0]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      await vm.stop();
      const stopped = Date.now();
      await replay({ files: [halves[1]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      await until(() => handle.metrics.value('cyclewatch_points_spooled_total') > 0, 30_000, 'points to be spooled');
      await sleep(Math.max(0, 60_000 - (Date.now() - stopped)));
      await vm.start();
      await until(() => handle.sink.stats.spoolBatches === 0, 60_000, 'the spool to drain');
      await handle.sink.flush();
      await until(() => allPointsIn(vm), 30_000, 'all points in the database');
      expect(handle.sink.stats.dropped).toBe(0);
      expect(logs.join('\n')).toMatch(/unreachable, spooling/);
    } finally {
      await handle.close();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('Mosquitto restarted mid-run (persistence on): the monitor reconnects and loses no point', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const logs: string[] = [];
    const dataDir = join(dir, 'broker');
    const handle = await runMonitor(parseRunConfig(configText(mosquitto, vm, dataDir), join(dir, 'broker.yaml')), { log: (m) => logs.push(m) });
    try {
      await until(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1, 10_000, 'connection');
      await sleep(300);
      await replay({ files: [halves[0]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      await mosquitto.stop();
      await sleep(1000);
      await mosquitto.start();
      await until(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1, 30_000, 'reconnection');
      await replay({ files: [halves[1]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      await until(() => allPointsIn(vm), 60_000, 'all points in the database');
      expect(logs.join('\n')).toMatch(/connection lost, reconnecting/);
      await handle.close();
      expect(regimeEventsOf(join(dataDir, 'events.jsonl'))).toEqual(offlineRegimes());
    } finally {
      await handle.close();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('SIGKILL before the first checkpoint: the journal replays from the start and no event is written twice', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dataDir = join(dir, 'early-kill');
    const configPath = join(dir, 'early-kill.yaml');
    // No checkpoint can happen during the test: everything rests on the journal.
    writeFileSync(configPath, configText(mosquitto, vm, dataDir).replace('checkpointInterval_s: 1', 'checkpointInterval_s: 86400'));
    const monitor = monitorProcess(configPath);
    try {
      await monitor.start();
      await replay({ files: [halves[0]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      const eventsFile = join(dataDir, 'events.jsonl');
      await until(() => existsSync(eventsFile) && readFileSync(eventsFile, 'utf8').includes('"type":"regime"'), 30_000, 'events to be written');
      await monitor.stop('SIGKILL');
      expect(existsSync(join(dataDir, 'state', 'checkpoint.json'))).toBe(false);
      await monitor.start();
      expect(monitor.output()).toMatch(/no checkpoint: replaying \d+ journalled samples/);
      await replay({ files: [halves[1]!], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
      await until(() => allPointsIn(vm), 60_000, 'all points in the database');
      expect(await monitor.stop('SIGTERM')).toBe(0);
      expect(regimeEventsOf(eventsFile)).toEqual(offlineRegimes());
    } finally {
      monitor.cleanup();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('SIGKILL during a database outage: the spool survives, and once the database is back every point is in it exactly once', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dataDir = join(dir, 'outage-kill');
    const configPath = join(dir, 'outage-kill.yaml');
    writeFileSync(configPath, configText(mosquitto, vm, dataDir));
    const monitor = monitorProcess(configPath);
    // The second half in two parts: one sent before the kill (spooled while the database is down), one after.
    const rows = readFileSync(halves[1]!, 'utf8').trim().split('\n');
    const header = rows.shift()!;
    const parts = [join(dir, 'outage-a.csv'), join(dir, 'outage-b.csv')];
    writeFileSync(parts[0]!, [header, ...rows.slice(0, rows.length >> 1)].join('\n') + '\n');
    writeFileSync(parts[1]!, [header, ...rows.slice(rows.length >> 1)].join('\n') + '\n');
    const send = (file: string) =>
      replay({ files: [file], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
    const spooled = (): boolean => existsSync(join(dataDir, 'spool')) && readdirSync(join(dataDir, 'spool')).some((f) => f.endsWith('.lp'));
    try {
      await monitor.start();
      await send(halves[0]!);
      await until(() => /checkpoint|restored/.test(monitor.output()) || existsSync(join(dataDir, 'state', 'checkpoint.json')), 30_000, 'a checkpoint');
      await vm.stop();
      await send(parts[0]!);
      await until(spooled, 60_000, 'points to be spooled');
      await monitor.stop('SIGKILL');
      await monitor.start(); // the database is still down
      await send(parts[1]!);
      await sleep(2000);
      await vm.start();
      await until(() => allPointsIn(vm), 120_000, 'all points in the database');
      expect(await monitor.stop('SIGTERM')).toBe(0);
      const counts = await exportCounts(vm.url, 'telemetry_voltage_V');
      for (const [cell, n] of expectedTimes) expect(counts.get(cell)).toBe(n);
      expect(regimeEventsOf(join(dataDir, 'events.jsonl'))).toEqual(offlineRegimes());
    } finally {
      monitor.cleanup();
      await stopAll(mosquitto, vm);
    }
  }, 300_000);

  it('a cell idle since the last restart keeps its state through the next checkpoint', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dataDir = join(dir, 'idle');
    const configFor = (): ReturnType<typeof parseRunConfig> => parseRunConfig(configText(mosquitto, vm, dataDir), join(dir, 'idle.yaml'));
    // The second half split by cell: ccd's rows in one session, the others' in a later one.
    const rows = readFileSync(halves[1]!, 'utf8').trim().split('\n');
    const header = rows.shift()!;
    const ccdOnly = join(dir, 'idle-ccd.csv');
    const others = join(dir, 'idle-others.csv');
    writeFileSync(ccdOnly, [header, ...rows.filter((r) => r.split(',')[1] === 'ccd')].join('\n') + '\n');
    writeFileSync(others, [header, ...rows.filter((r) => r.split(',')[1] !== 'ccd')].join('\n') + '\n');
    const session = async (file: string): Promise<void> => {
      const handle = await runMonitor(configFor(), { log: () => {} });
      try {
        await until(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1, 10_000, 'connection');
        const r = await replay({ files: [file], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 200, log: () => {} });
        await until(() => handle.metrics.value('cyclewatch_messages_in_total') >= r.published, 60_000, 'every message');
      } finally {
        await handle.close();
      }
    };
    try {
      await session(halves[0]!);
      await session(ccdOnly); // high-rate and very-high-rate send nothing in this session
      await session(others);
      expect(regimeEventsOf(join(dataDir, 'events.jsonl'))).toEqual(offlineRegimes());
    } finally {
      await stopAll(mosquitto, vm);
    }
  }, 300_000);
});
