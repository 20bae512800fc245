/**
 * MQTT 5 against Debian's Mosquitto: a monitor set to `mqtt.protocolVersion: 5` takes every message (PUBLISH packets
 * carry properties in MQTT 5; read as 3.1.1 they would be malformed) and decides the events `analyze` does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { runMonitor } from '../../pipelines/run.js';
import { simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { asWritten } from '../support/events.js';
import { replayInto } from '../support/replayInto.js';
import { readFileSync } from 'node:fs';
import { removeDir, startMosquittoWith, stopAll, which } from './servers.js';

const run = which('mosquitto') !== null || process.env['CI'] !== undefined;
const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-mqtt5-'));
afterAll(() => removeDir(dir));

describe.skipIf(!run)('MQTT 5', () => {
  it('protocolVersion 5: every message taken, none malformed, the events of analyze', async () => {
    const csv = join(dir, 'ccd.csv');
    await simulate({ scenarios: ['ccd'], out: csv, dt_s: 2, seed: 7 });
    const mosquitto = await startMosquittoWith({});
    const logs: string[] = [];
    const handle = await runMonitor(
      parseRunConfig(
        `mqtt: { url: "${mosquitto.url}", clientId: mqtt5-monitor, protocolVersion: 5 }\ndataDir: "${join(dir, 'data')}"\nhttp: { port: 0 }\n`,
        join(dir, 'c.yaml'),
      ),
      { log: (m) => logs.push(m) },
    );
    try {
      const published = await replayInto(handle, [csv]);
      expect(published).toBeGreaterThan(5000);
      expect(handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'malformed' })).toBe(0);
      expect(handle.metrics.value('cyclewatch_messages_in_total')).toBe(published);
      await handle.close();
      const offline = await analyze({ files: [csv] });
      const live = readFileSync(join(dir, 'data/events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e['type'] === 'regime');
      expect(live.length).toBeGreaterThan(1);
      expect(live).toEqual(offline.events.filter((e) => e.type === 'regime').map(asWritten(offline)));
    } finally {
      await handle.close();
      await stopAll(mosquitto);
    }
  }, 120_000);
});
