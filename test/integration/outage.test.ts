/** The InfluxDB sink through a real database outage: retry, spool to disk, drain in order on return. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../src/io/influx/sinks.js';
import { exportCounts, haveServers, removeDir, startVictoriaMetrics, type RunningServer } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;

describe.skipIf(!run)('InfluxDB outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-outage-'));
  let vm: RunningServer | undefined;
  afterAll(async () => {
    await vm?.stop();
    if (vm) removeDir(vm.dir);
    removeDir(dir);
  });

  it('spools what cannot be written and writes all of it, in order, when the server returns', async () => {
    vm = await startVictoriaMetrics();
    const logs: string[] = [];
    const sink = new InfluxSink({
      url: vm.url,
      org: 'lab',
      bucket: 'cells',
      batchSize: 500,
      flushInterval_ms: 100_000,
      maxRetries: 1,
      minRetryDelay_ms: 50,
      maxRetryDelay_ms: 100,
      maxQueueLines: 1000,
      spoolDir: join(dir, 'spool'),
      spoolMaxBytes: 50_000_000,
      timeout_ms: 2000,
      log: (m) => logs.push(m),
    });
    const lines = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => `telemetry,cell=c1 voltage_V=${(from + k) / 1000} ${1767225600000 + (from + k) * 1000}`);
    sink.write(lines(0, 1000));
    await sink.flush();
    expect(sink.stats.written).toBe(1000);

    await vm.stop();
    sink.write(lines(1000, 3000));
    await sink.flush();
    expect(sink.stats.spooled).toBeGreaterThanOrEqual(3000 - 1000);
    expect(readdirSync(join(dir, 'spool')).length).toBeGreaterThan(0);
    expect(logs.join('\n')).toMatch(/unreachable, spooling points/);
    sink.write(lines(4000, 1000));

    await vm.start();
    await sink.flush();
    await sink.close();
    expect(sink.stats.spoolBatches).toBe(0);
    expect(sink.stats.dropped).toBe(0);
    expect(sink.stats.written).toBe(5000);
    expect((await exportCounts(vm.url, 'telemetry_voltage_V')).get('c1')).toBe(5000);
    expect(logs.join('\n')).toMatch(/reachable again/);
  });
});
