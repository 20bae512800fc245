/**
 * A rejected duplicate never reaches the database: a second, different voltage reading at a timestamp already
 * received is counted and dead-lettered, and the first value stays (through Mosquitto and VictoriaMetrics).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../pipelines/run.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { connectMqtt } from '../../src/io/mqtt/client.js';
import { haveServers, removeDir, startMosquitto, startVictoriaMetrics, stopAll } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;
const T0 = Date.parse('2026-03-01T00:00:00Z');

describe.skipIf(!run)('rejected samples and the database', () => {
  it('keeps the good value when a conflicting duplicate arrives, and counts only admitted samples', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-dup-'));
    const handle = await runMonitor(
      parseRunConfig(
        [
          `mqtt: { url: "${mosquitto.url}", clientId: dup-test }`,
          `influx: { url: "${vm.url}", org: lab, bucket: cells, flushInterval_ms: 100 }`,
          `dataDir: "${join(dir, 'data')}"`,
          'http: { port: 0 }',
        ].join('\n'),
        join(dir, 'c.yaml'),
      ),
      { log: () => {} },
    );
    const pub = connectMqtt({ url: mosquitto.url, clientId: 'dup-pub', clean: true, reconnectPeriod_ms: 500 });
    try {
      while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 50));
      if (!pub.connected) await new Promise((r) => pub.once('connect', r));
      const send = (k: number, voltage_V: number): Promise<unknown> =>
        pub.publishAsync('cells/c1/ec', JSON.stringify({ t: new Date(T0 + k * 1000).toISOString(), voltage_V, current_mA: 2 }), { qos: 1 });
      for (let k = 0; k < 20; k++) await send(k, 0.07);
      await send(17, 9.99); // another reading at an instant already received (within the 5 s re-ordering window)
      await send(18, 0.07); // and an exact repeat
      const t0 = Date.now();
      while (handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'duplicate' }) < 2 && Date.now() - t0 < 20_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.sink.flush();
      await fetch(`${vm.url}/internal/force_flush`);
      let values: number[] = [];
      let times: number[] = [];
      for (const t1 = Date.now(); Date.now() - t1 < 20_000;) {
        const text = await (await fetch(`${vm.url}/api/v1/export?match[]=${encodeURIComponent('{__name__="telemetry_voltage_V",cell="c1"}')}&start=0`)).text();
        const row = text.trim().length > 0 ? (JSON.parse(text.trim().split('\n')[0]!) as { values: number[]; timestamps: number[] }) : null;
        values = row?.values ?? [];
        times = row?.timestamps ?? [];
        if (values.length >= 20) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'duplicate' })).toBe(2);
      expect(handle.metrics.value('cyclewatch_samples_accepted_total')).toBe(20);
      expect(new Set(times).size).toBe(20);
      expect(values.every((v) => v === 0.07)).toBe(true);
      expect(values[times.indexOf(T0 + 17_000)]).toBe(0.07);
    } finally {
      pub.end(true);
      await handle.close();
      await stopAll(mosquitto, vm);
      removeDir(dir);
    }
  }, 120_000);
});
