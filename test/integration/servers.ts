/**
 * Real servers for integration tests, started on 127.0.0.1 with free ports: Mosquitto and VictoriaMetrics
 * (a real server of InfluxDB's /api/v2/write). Installed by .ci/run from Debian's packages.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function which(cmd: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin']) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeout_ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout_ms) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeout_ms} ms`);
}

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function processServer(
  name: string,
  command: string,
  args: (port: number, dir: string) => string[],
  ready: (port: number) => Promise<boolean>,
  urlOf: (port: number) => string,
  setup?: (port: number, dir: string) => void,
) {
  return async (): Promise<RunningServer> => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), `cyclewatch-${name}-`));
    setup?.(port, dir);
    let child: ChildProcess | null = null;
    const server: RunningServer = {
      port,
      url: urlOf(port),
      dir,
      async start() {
        const c = spawn(command, args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        child = c;
        await waitFor(() => ready(port), `${name} on port ${port}`).catch((e: Error) => {
          throw new Error(`${e.message}\n${stderr}`);
        });
      },
      async stop() {
        const c = child;
        child = null;
        if (c === null || c.exitCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null) c.kill('SIGKILL');
      },
    };
    await server.start();
    return server;
  };
}

/** Debian's Mosquitto with persistence; `settings` override its queue limits (e.g. `max_queued_messages 100`). */
export const startMosquittoWith = (settings: Record<string, string | number> = {}): Promise<RunningServer> =>
  processServer(
    'mosquitto',
    which('mosquitto') ?? 'mosquitto',
    (_port, dir) => ['-c', join(dir, 'mosquitto.conf')],
    tcpOpen,
    (port) => `mqtt://127.0.0.1:${port}`,
    (port, dir) => {
      mkdirSync(join(dir, 'data'), { recursive: true });
      // Started as root, Mosquitto drops to its own user: without these modes it cannot write its database, and
      // persistence fails at shutdown with only a log line (sessions and queued messages lost at a restart).
      chmodSync(dir, 0o755);
      chmodSync(join(dir, 'data'), 0o777);
      const conf = { max_queued_messages: 1000000, max_inflight_messages: 0, ...settings };
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence true',
          `persistence_location ${join(dir, 'data')}/`,
          ...Object.entries(conf).map(([k, v]) => `${k} ${v}`),
          '',
        ].join('\n'),
      );
    },
  )();

export const startMosquitto = (): Promise<RunningServer> => startMosquittoWith();

export const startVictoriaMetrics = processServer(
  'victoria-metrics',
  which('victoria-metrics') ?? 'victoria-metrics',
  (port, dir) => [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${join(dir, 'data')}`,
    '-retentionPeriod=100y',
    '-dedup.minScrapeInterval=1ms',
    '-loggerLevel=ERROR',
  ],
  async (port) => (await fetch(`http://127.0.0.1:${port}/health`)).ok,
  (port) => `http://127.0.0.1:${port}`,
);

/** Count stored samples of a series per label value, through VictoriaMetrics' export API. */
export async function exportCounts(vmUrl: string, metric: string, label = 'cell'): Promise<Map<string, number>> {
  await fetch(`${vmUrl}/internal/force_flush`);
  const res = await fetch(`${vmUrl}/api/v1/export?match[]=${encodeURIComponent(`{__name__="${metric}"}`)}&start=0`);
  const text = await res.text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    const row = JSON.parse(line) as { metric: Record<string, string>; timestamps: number[] };
    const key = row.metric[label] ?? '';
    counts.set(key, (counts.get(key) ?? 0) + new Set(row.timestamps).size);
  }
  return counts;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const haveServers = (): boolean => which('mosquitto') !== null && which('victoria-metrics') !== null;

/** Stop servers and remove their data. */
export async function stopAll(...servers: (RunningServer | undefined)[]): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
  for (const s of servers) if (s) removeDir(s.dir);
}

/** InfluxDB 1.x (Debian's `influxdb`), for InfluxQL queries: HTTP on a free port, everything else off. */
export const startInfluxV1 = async (): Promise<RunningServer> => {
  const rpc = await freePort();
  return processServer(
    'influxdb',
    which('influxd') ?? 'influxd',
    (_port, dir) => ['-config', join(dir, 'influxdb.conf')],
    async (port) => (await fetch(`http://127.0.0.1:${port}/ping`)).status === 204,
    (port) => `http://127.0.0.1:${port}`,
    (port, dir) =>
      writeFileSync(
        join(dir, 'influxdb.conf'),
        [
          'reporting-disabled = true',
          `bind-address = "127.0.0.1:${rpc}"`,
          '[meta]',
          `  dir = "${join(dir, 'meta')}"`,
          '[data]',
          `  dir = "${join(dir, 'data')}"`,
          `  wal-dir = "${join(dir, 'wal')}"`,
          '  query-log-enabled = false',
          '[monitor]',
          '  store-enabled = false',
          '[http]',
          `  bind-address = "127.0.0.1:${port}"`,
          '  log-enabled = false',
          '[ifql]',
          '  enabled = false',
          '[logging]',
          '  level = "error"',
          '',
        ].join('\n'),
      ),
  )();
};
