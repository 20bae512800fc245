/** Several instances over one broker: each owns the cells whose id hashes to its shard, none is processed twice. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../pipelines/run.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { shardOf } from '../../src/domain/shard.js';
import { connectMqtt } from '../../src/io/mqtt/client.js';
import { haveServers, removeDir, startMosquitto, stopAll } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;

describe.skipIf(!run)('sharding', () => {
  it('splits the cells of the registry between two instances, subscribing each only to its own', async () => {
    const mosquitto = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-shard-'));
    const ids = Array.from({ length: 8 }, (_, k) => `cell-${k}`);
    const handles = await Promise.all(
      [0, 1].map((i) =>
        runMonitor(
          parseRunConfig(
            [
              `mqtt: { url: "${mosquitto.url}", clientId: shard-test }`,
              `dataDir: "${join(dir, `s${i}`)}"`,
              'http: { port: 0 }',
              `shard: { index: ${i}, count: 2 }`,
              `cells: [${ids.map((id) => `{ id: ${id} }`).join(', ')}]`,
            ].join('\n'),
            join(dir, `s${i}.yaml`),
          ),
          { log: () => {} },
        ),
      ),
    );
    try {
      for (const h of handles) while (h.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const pub = connectMqtt({ url: mosquitto.url, clientId: 'shard-pub', clean: true, reconnectPeriod_ms: 500 });
      await new Promise((r) => pub.once('connect', r));
      for (let k = 0; k < 20; k++)
        for (const id of ids)
          await pub.publishAsync(
            `cells/${id}/ec`,
            JSON.stringify({ t: new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString(), voltage_V: 0.07, current_mA: 2 }),
            { qos: 1 },
          );
      await pub.endAsync();
      const t0 = Date.now();
      while (handles.reduce((n, h) => n + h.metrics.value('cyclewatch_messages_in_total'), 0) < 20 * ids.length && Date.now() - t0 < 10_000)
        await new Promise((r) => setTimeout(r, 50));
      const owned = handles.map((h) => [...h.cells.keys()].sort());
      expect(owned[0]).toEqual(ids.filter((id) => shardOf(id, 2) === 0).sort());
      expect(owned[1]).toEqual(ids.filter((id) => shardOf(id, 2) === 1).sort());
      expect(owned[0]!.length).toBeGreaterThan(0);
      expect(owned[1]!.length).toBeGreaterThan(0);
      // Each message went to exactly one instance.
      expect(handles.map((h) => h.metrics.value('cyclewatch_messages_in_total'))).toEqual(owned.map((o) => o.length * 20));
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await stopAll(mosquitto);
      removeDir(dir);
    }
  }, 60_000);
});
