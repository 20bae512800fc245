/**
 * A broker that drops messages (Mosquitto's `max_queued_messages` reached while the monitor was away) is noticed:
 * the gap in the cell's event time becomes a `data-gap` warning naming the cell and the samples missing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../pipelines/run.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { connectMqtt } from '../../src/io/mqtt/client.js';
import { haveServers, removeDir, startMosquittoWith, stopAll } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe.skipIf(!run)('a broker that drops messages', () => {
  it('gives a data-gap warning with the cell and the number of missing samples', async () => {
    const mosquitto = await startMosquittoWith({ max_queued_messages: 100 });
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-drop-'));
    const config = (): ReturnType<typeof parseRunConfig> =>
      parseRunConfig(
        [`mqtt: { url: "${mosquitto.url}", clientId: drop-test }`, `dataDir: "${join(dir, 'data')}"`, 'http: { port: 0 }'].join('\n'),
        join(dir, 'c.yaml'),
      );
    const pub = connectMqtt({ url: mosquitto.url, clientId: 'drop-pub', clean: true, reconnectPeriod_ms: 500 });
    const send = async (from: number, to: number): Promise<void> => {
      for (let k = from; k < to; k++) {
        await pub.publishAsync(
          'cells/c1/ec',
          JSON.stringify({ t: new Date(T0 + k * 1000).toISOString(), voltage_V: 0.07, current_mA: k % 120 < 60 ? 2 : -2 }),
          {
            qos: 1,
          },
        );
      }
    };
    const waitFor = async (check: () => boolean): Promise<void> => {
      for (const t0 = Date.now(); !check() && Date.now() - t0 < 30_000;) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      if (!pub.connected) await new Promise((r) => pub.once('connect', r));
      let handle = await runMonitor(config(), { log: () => {} });
      await waitFor(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1);
      await send(0, 100);
      await waitFor(() => handle.metrics.value('cyclewatch_messages_in_total') >= 100);
      await handle.close(); // its session stays with the broker, which queues at most 100 messages for it
      await send(100, 700);
      handle = await runMonitor(config(), { log: () => {} });
      await waitFor(() => handle.metrics.value('cyclewatch_mqtt_connected') === 1);
      await send(700, 800);
      await waitFor(() => handle.metrics.value('cyclewatch_messages_in_total') >= 200);
      await handle.close();
      const alerts = readFileSync(join(dir, 'data', 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; code?: string; cell: string; message: string })
        .filter((e) => e.type === 'alert' && e.code === 'data-gap');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.cell).toBe('c1');
      // Mosquitto kept the first 100 queued messages (t = 100…199 s) and dropped t = 200…699 s: 500 samples.
      const missing = Number(/about (\d+) missing/.exec(alerts[0]!.message)![1]);
      expect(missing).toBeGreaterThanOrEqual(490);
      expect(missing).toBeLessThanOrEqual(510);
    } finally {
      pub.end(true);
      await stopAll(mosquitto);
      removeDir(dir);
    }
  }, 120_000);
});
