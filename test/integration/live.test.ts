/**
 * End to end through real servers: a simulated multi-cell run replayed through Mosquitto into
 * `cyclewatch run`, written to VictoriaMetrics over InfluxDB's /api/v2/write, alerts to a local webhook.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, type AnalyzeResult } from '../../pipelines/analyze.js';
import { replay } from '../../pipelines/replay.js';
import { runMonitor, type RunHandle } from '../../pipelines/run.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { loadRegistry } from '../../src/config/registry.js';
import { asWritten } from '../support/events.js';
import { connectMqtt } from '../../src/io/mqtt/client.js';
import { exportCounts, haveServers, removeDir, startMosquitto, startVictoriaMetrics, type RunningServer } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;

describe.skipIf(!run)('live monitor through Mosquitto and VictoriaMetrics', () => {
  let mosquitto: RunningServer;
  let vm: RunningServer;
  let hook: Server;
  let hookUrl: string;
  const received: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-live-'));
  const csv = join(dir, 'fleet.csv');
  let handle: RunHandle;
  let offline: AnalyzeResult;
  let published = 0;
  const logs: string[] = [];

  beforeAll(async () => {
    [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const a = hook.address();
    hookUrl = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/alerts?key=s3cr3t-hook`;
    await simulate({ scenarios: ['very-high-rate', 'ccd', 'high-rate'], out: csv, dt_s: 5, duration_h: 100, seed: 3 });
    offline = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)) });
    const config = parseRunConfig(
      [
        `mqtt: { url: "${mosquitto.url}", clientId: live-test, password: "\${TEST_MQTT_PASSWORD}", username: cw }`,
        `influx: { url: "${vm.url}", org: lab, bucket: cells, token: "\${TEST_INFLUX_TOKEN}", flushInterval_ms: 200, batchSize: 2000 }`,
        `dataDir: "${join(dir, 'data')}"`,
        `cellsFile: "${registryPath(csv)}"`,
        'http: { port: 0 }',
        `alerts: { staleAfter_s: 3, webhooks: [{ url: "${hookUrl}", minSeverity: info }] }`,
      ].join('\n'),
      join(dir, 'cyclewatch.yaml'),
      { TEST_MQTT_PASSWORD: 'mqtt-pass-123', TEST_INFLUX_TOKEN: 'influx-token-456' },
    );
    handle = await runMonitor(config, { log: (m) => logs.push(m), staleCheck_ms: 200 });
    await new Promise((r) => setTimeout(r, 500));
    const r = await replay({ files: [csv], brokerUrl: mosquitto.url, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 500, log: () => {} });
    published = r.published;
    const t0 = Date.now();
    while (handle.metrics.value('cyclewatch_messages_in_total') < published && Date.now() - t0 < 60_000) await new Promise((res) => setTimeout(res, 100));
    await handle.sink.flush();
  }, 180_000);

  afterAll(async () => {
    await handle?.close();
    await Promise.all([mosquitto?.stop(), vm?.stop()]);
    hook?.close();
    for (const s of [mosquitto, vm]) if (s) removeDir(s.dir);
    removeDir(dir);
  });

  it('receives every published message', () => {
    expect(handle.metrics.value('cyclewatch_messages_in_total')).toBe(published);
  });

  it('writes every telemetry point to the database, counted per cell through its API', async () => {
    const expected = new Map<string, Set<number>>();
    for (const line of readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
      const [t, cell] = line.split(',');
      if (!expected.has(cell!)) expected.set(cell!, new Set());
      expected.get(cell!)!.add(Date.parse(t!));
    }
    // The database makes points searchable asynchronously: poll until every cell's count is final (bounded).
    let counts = await exportCounts(vm.url, 'telemetry_voltage_V');
    const complete = (): boolean => [...expected].every(([cell, times]) => counts.get(cell) === times.size);
    for (const t0 = Date.now(); !complete() && Date.now() - t0 < 30_000;) {
      await new Promise((r) => setTimeout(r, 500));
      counts = await exportCounts(vm.url, 'telemetry_voltage_V');
    }
    expect(counts.size).toBe(3);
    for (const [cell, times] of expected) expect(counts.get(cell)).toBe(times.size);
    expect(handle.sink.stats.dropped).toBe(0);
    // Half cycles and derived state are there too.
    expect((await exportCounts(vm.url, 'half_cycle_charge_mAh_cm2')).get('ccd')).toBeGreaterThan(40);
    expect((await exportCounts(vm.url, 'derived_contactFraction')).get('high-rate')).toBeGreaterThan(1000);
  });

  it('decides the same regime events as `cyclewatch analyze` on the same file', () => {
    const live = readFileSync(join(dir, 'data', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e['type'] === 'regime');
    const expected = offline.events.filter((e) => e.type === 'regime').map(asWritten(offline));
    const byCell = (xs: Record<string, unknown>[]) => {
      const m: Record<string, Record<string, unknown>[]> = {};
      for (const e of xs) (m[String(e['cell'])] ??= []).push(e);
      return m;
    };
    expect(byCell(live)).toEqual(byCell(expected));
    expect(expected.length).toBeGreaterThan(10);
  });

  it('makes the same compliance forecasts and noise windows as `cyclewatch analyze`', () => {
    const pick = (types: string[]) => (e: { type: string }) => types.includes(e.type);
    const live = readFileSync(join(dir, 'data', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { type: string })
      .filter(pick(['forecast', 'noise']));
    // A live record has not ended: the window that analyze closes at each cell's last sample is still open live.
    const ends = new Map(offline.summaries.map((c) => [c.cell, c.end]));
    const expected = offline.events
      .filter(pick(['forecast', 'noise']))
      .map(asWritten(offline))
      .filter((e) => !(e['type'] === 'noise' && e['end'] === ends.get(String(e['cell']))));
    const byCellAndType = (xs: Record<string, unknown>[]) => {
      const m: Record<string, Record<string, unknown>[]> = {};
      for (const e of xs) (m[`${String(e['cell'])} ${String(e['type'])}`] ??= []).push(e);
      return m;
    };
    expect(byCellAndType(live)).toEqual(byCellAndType(expected));
    expect(expected.filter((e) => e['type'] === 'forecast').length).toBeGreaterThan(10);
    expect(expected.filter((e) => e['type'] === 'noise').length).toBeGreaterThan(100);
  });

  it('delivers each alert to the webhook exactly once', () => {
    const key = (a: Record<string, unknown>) => `${String(a['cell'])}|${String(a['code'])}|${String(a['state'])}|${String(a['t'])}`;
    const got = received.filter((a) => a['code'] !== 'stale').map(key);
    const want = offline.events.filter((e) => e.type === 'alert').map((e) => key(asWritten(offline)(e)));
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(want.sort());
  });

  it('raises the stale alert on the wall clock when a cell goes quiet, and clears it when data returns', async () => {
    const t0 = Date.now();
    while (received.filter((a) => a['code'] === 'stale' && a['state'] === 'raised').length < 3 && Date.now() - t0 < 15_000)
      await new Promise((r) => setTimeout(r, 100));
    expect(received.filter((a) => a['code'] === 'stale' && a['state'] === 'raised').map((a) => a['cell'])).toEqual(
      expect.arrayContaining(['ccd', 'high-rate', 'very-high-rate']),
    );
    const client = connectMqtt({ url: mosquitto.url, clientId: 'late-publisher', clean: true, reconnectPeriod_ms: 1000 });
    await new Promise((r) => client.once('connect', r));
    await client.publishAsync('cells/ccd/ec', JSON.stringify({ t: '2026-02-01T00:00:00Z', voltage_V: 0.02, current_mA: 20 }), { qos: 1 });
    await client.endAsync();
    const t1 = Date.now();
    while (!received.some((a) => a['code'] === 'stale' && a['state'] === 'cleared') && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(received.filter((a) => a['code'] === 'stale' && a['state'] === 'cleared').map((a) => a['cell'])).toEqual(['ccd']);
  });

  it('serves /metrics and /healthz, and never logs a secret', async () => {
    const text = await (await fetch(`http://127.0.0.1:${handle.httpPort}/metrics`)).text();
    expect(text).toMatch(/cyclewatch_messages_in_total \d+/);
    expect(text).toMatch(/cyclewatch_cell_last_sample_age_seconds\{cell="ccd"\}/);
    expect(text).toMatch(/cyclewatch_spool_bytes 0/);
    const health = await fetch(`http://127.0.0.1:${handle.httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${handle.httpPort}/healthz`, { method: 'HEAD' })).status).toBe(200);
    // An alert webhook pointed at /healthz must not look delivered.
    const post = await fetch(`http://127.0.0.1:${handle.httpPort}/healthz`, { method: 'POST', body: '{"alerts":[]}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const all = logs.join('\n');
    expect(all).not.toContain('mqtt-pass-123');
    expect(all).not.toContain('influx-token-456');
    expect(all).not.toContain('s3cr3t-hook');
  });
});
