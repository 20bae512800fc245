/**
 * `replay` with a cell registry: a table whose headers no synonym knows is read by its cell's `columns:` block, its
 * local dates in the cell's `timeZone`, and published as `analyze` reads the same file with the same registry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { replay } from '../../pipelines/replay.js';
import { parseRegistry } from '../../src/config/registry.js';
import { startEmbeddedBroker } from '../../src/io/mqtt/client.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-replay-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay with a cell registry', () => {
  it('reads a table by its cell’s columns: block, its dates in the cell’s zone, as analyze does', async () => {
    const path = join(dir, 'ofen-3.csv');
    // A German spreadsheet: its own headers, day.month.year wall-clock dates, decimal commas.
    const rows = Array.from({ length: 40 }, (_, k) => {
      const t = new Date(Date.UTC(2026, 2, 1, 9, 0, 0) + k * 60_000);
      const p = (n: number): string => String(n).padStart(2, '0');
      return `${p(t.getUTCDate())}.${p(t.getUTCMonth() + 1)}.${t.getUTCFullYear()} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:00;0,07${k % 10};${k % 20 < 10 ? '' : '-'}1,84`;
    });
    writeFileSync(path, `Datum;Spannung;Strom\n${rows.join('\n')}\n`);
    const registry = parseRegistry(
      'cells:\n  - id: ofen-3\n    areaCm2: 0.92\n    timeZone: Europe/Berlin\n    columns: { time: Datum, voltage: Spannung, current: Strom }\n',
    );
    const broker = await startEmbeddedBroker('127.0.0.1', 0);
    const sub = mqtt.connect(broker.url, { clientId: 'replay-registry-sub' });
    try {
      await new Promise<void>((r) => sub.once('connect', () => sub.subscribe('cells/#', { qos: 1 }, () => r())));
      const ec: { t: string; voltage_V: number; current_mA: number }[] = [];
      sub.on('message', (topic, payload) => {
        if (topic === 'cells/ofen-3/ec') ec.push(JSON.parse(String(payload)) as { t: string; voltage_V: number; current_mA: number });
      });
      const options = { files: [path], brokerUrl: broker.url, speed: 'max' as const, topicPrefix: 'cells', qos: 1 as const, maxInFlight: 100, log: () => {} };
      // Without the registry the headers are not known: the error names the --columns line.
      await expect(replay(options)).rejects.toThrow(/--columns 'time=Datum,voltage=Spannung,current=Strom'/);
      const r = await replay({ ...options, registry });
      expect(r.published).toBe(40);
      const deadline = Date.now() + 10_000;
      while (ec.length < 40 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(ec).toHaveLength(40);
      // 09:00 in Berlin (CET, UTC+1) on 1 March is 08:00 UTC.
      expect(Date.parse(ec[0]!.t)).toBe(Date.UTC(2026, 2, 1, 8, 0, 0));
      expect(ec[0]).toMatchObject({ voltage_V: 0.07, current_mA: 1.84 });
      expect(ec[15]).toMatchObject({ voltage_V: 0.075, current_mA: -1.84 });

      const analyzed = await analyze({ files: [path], registry });
      expect(analyzed.samples).toBe(40);
      expect(analyzed.summaries[0]!.cell).toBe('ofen-3');
      expect(Date.parse(analyzed.summaries[0]!.start!)).toBe(Date.parse(ec[0]!.t));
    } finally {
      sub.end(true);
      await broker.close();
    }
  });
});
