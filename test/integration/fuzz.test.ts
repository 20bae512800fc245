/**
 * Fuzzing through the real broker: ≥ 10,000 generated bad messages mixed into good ones, published to
 * Mosquitto and consumed by `cyclewatch run`. Nothing crashes, each bad message is counted under its reason
 * in /metrics and published to the dead-letter topic, and every good one is processed.
 */
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMonitor } from '../../pipelines/run.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { connectMqtt } from '../../src/io/mqtt/client.js';
import { decodeBad, goodMessages, mix, type BadMessage } from '../support/badMessages.js';
import { haveServers, removeDir, startMosquitto, startVictoriaMetrics, stopAll } from './servers.js';

const run = haveServers() || process.env['CI'] !== undefined;

describe.skipIf(!run)('fuzzing through Mosquitto', () => {
  it('counts every bad message by reason, dead-letters it, and processes every good one', async () => {
    const [mosquitto, vm] = await Promise.all([startMosquitto(), startVictoriaMetrics()]);
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-fuzz-'));
    const future = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const liveBad: fc.Arbitrary<BadMessage> = fc.oneof(
      // Topics outside the subscriptions never reach the monitor (the broker does not route them).
      { weight: 8, arbitrary: decodeBad.filter((b) => b.reason !== 'unknown-topic' || b.topic === 'cells//ec') },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('c0', 'c1')
          .map((c) => ({ topic: `cells/${c}/ec`, payload: JSON.stringify({ t: future, voltage_V: 0.07, current_mA: 2 }), reason: 'future' })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('x9', 'zz').map((c) => ({
          topic: `cells/${c}/ec`,
          payload: JSON.stringify({ t: '2026-01-01T00:00:00Z', voltage_V: 0.07, current_mA: 2 }),
          reason: 'unknown-cell',
        })),
      },
    );
    const bad = fc.sample(liveBad, { numRuns: 10_500, seed: 42 });
    const good = goodMessages(6000);
    const positions = fc.sample(fc.nat(good.length), { numRuns: bad.length, seed: 43 });
    const messages = mix(good, bad, positions);
    const config = parseRunConfig(
      [
        `mqtt: { url: "${mosquitto.url}", clientId: fuzz-monitor }`,
        `influx: { url: "${vm.url}", org: lab, bucket: cells, flushInterval_ms: 200 }`,
        `dataDir: "${join(dir, 'data')}"`,
        'cells: [{ id: c0 }, { id: c1 }, { id: c2 }]',
        'http: { port: 0 }',
      ].join('\n'),
      join(dir, 'fuzz.yaml'),
    );
    const logs: string[] = [];
    const handle = await runMonitor(config, { log: (m) => logs.push(m) });
    const watcher = connectMqtt({ url: mosquitto.url, clientId: 'dead-letter-watch', clean: true, reconnectPeriod_ms: 500 });
    let deadLetters = 0;
    watcher.on('message', () => deadLetters++);
    try {
      await new Promise((r) => watcher.once('connect', r));
      await watcher.subscribeAsync('cyclewatch/dead-letter', { qos: 0 });
      while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const publisher = connectMqtt({ url: mosquitto.url, clientId: 'fuzz-publisher', clean: true, reconnectPeriod_ms: 500 });
      await new Promise((r) => publisher.once('connect', r));
      for (let k = 0; k < messages.length; k += 200)
        await Promise.all(messages.slice(k, k + 200).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
      await publisher.endAsync();

      const expected = new Map<string, number>();
      for (const b of bad) expected.set(b.reason, (expected.get(b.reason) ?? 0) + 1);
      const rejected = () => [...expected.keys()].reduce((n, r) => n + handle.metrics.value('cyclewatch_messages_rejected_total', { reason: r }), 0);
      const t0 = Date.now();
      while ((handle.metrics.value('cyclewatch_messages_in_total') < good.length || rejected() < bad.length) && Date.now() - t0 < 60_000)
        await new Promise((r) => setTimeout(r, 100));

      for (const [reason, n] of expected) expect([reason, handle.metrics.value('cyclewatch_messages_rejected_total', { reason })]).toEqual([reason, n]);
      expect(handle.metrics.value('cyclewatch_messages_in_total')).toBe(good.length);
      const processed = [...handle.cells.values()].reduce((n, c) => n + c.samples, 0);
      // All but the last re-ordering window (5 s of each cell's event time) have gone through the detector.
      expect(processed).toBeGreaterThanOrEqual(good.length - 3 * 6);
      expect(bad.length).toBeGreaterThanOrEqual(10_000);
      await new Promise((r) => setTimeout(r, 500));
      // One dead letter per bad message, or counted as held back by the per-topic rate limit.
      expect(deadLetters + handle.metrics.value('cyclewatch_dead_letters_suppressed_total')).toBe(bad.length);
      expect(deadLetters).toBeGreaterThan(0);
      // Logged once per kind, not once per message.
      expect(logs.filter((l) => l.startsWith('rejected (')).length).toBeLessThanOrEqual(expected.size * 2);
    } finally {
      await watcher.endAsync();
      await handle.close();
      await stopAll(mosquitto, vm);
      removeDir(dir);
    }
  }, 180_000);

  it('20,000 unknown cell ids and topics with control characters: bounded cells and log, nothing crashes, the good cell goes on', async () => {
    const mosquitto = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-fuzz-cells-'));
    const logs: string[] = [];
    // No registry: every publishing cell is taken on (the Compose default), up to maxUnlistedCells.
    const handle = await runMonitor(
      parseRunConfig(
        [`mqtt: { url: "${mosquitto.url}", clientId: fuzz-cells }`, `dataDir: "${join(dir, 'data')}"`, 'http: { port: 0 }', 'maxUnlistedCells: 100'].join('\n'),
        join(dir, 'c.yaml'),
      ),
      { log: (m) => logs.push(m) },
    );
    const rss0 = process.memoryUsage().rss;
    try {
      while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 50));
      const publisher = connectMqtt({ url: mosquitto.url, clientId: 'fuzz-cells-pub', clean: true, reconnectPeriod_ms: 500 });
      await new Promise((r) => publisher.once('connect', r));
      const t = '2026-01-01T00:00:00Z';
      const body = JSON.stringify({ t, voltage_V: 0.07, current_mA: 2 });
      const fake = Array.from({ length: 20_000 }, (_, k) => ({ topic: `cells/fake-${k}/ec`, payload: body }));
      // Debian's Mosquitto refuses topics with control characters itself (see the embedded broker below).
      const control = [`cells/${'x'.repeat(100)}/ec`, 'cells/a\\b/ec'].map((topic) => ({ topic, payload: body }));
      const good = goodMessages(300).filter((m) => m.topic === 'cells/c0/ec');
      const all = [...good.slice(0, 50), ...fake, ...control, ...good.slice(50)];
      for (let k = 0; k < all.length; k += 500) await Promise.all(all.slice(k, k + 500).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
      await publisher.endAsync();
      const t0 = Date.now();
      const tooMany = (): number => handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'too-many-cells' });
      while (
        (tooMany() < 20_000 - 99 || handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'bad-cell-id' }) < 2) &&
        Date.now() - t0 < 60_000
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // c0 and the first 99 fake ids are taken on (once their first samples have waited for a header, 5 s at
      // most); every other id is refused, each counted.
      while (handle.cells.size < 100 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
      expect(handle.cells.size).toBe(100);
      expect(tooMany()).toBe(20_000 - 99);
      expect(handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'bad-cell-id' })).toBe(2);
      expect(handle.cells.get('c0')!.samples).toBeGreaterThan(80);
      expect(logs.length).toBeLessThan(40);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(200e6);
      // No line-protocol record was split by a control character.
      const lines = readdirSync(join(dir, 'data', 'lines')).flatMap((f) =>
        readFileSync(join(dir, 'data', 'lines', f), 'utf8')
          .trim()
          .split('\n'),
      );
      for (const l of lines) expect(l).toMatch(/^(telemetry|derived|events|half_cycle),cell=[^ ]+ .+ \d+$/);
    } finally {
      await handle.close();
      await stopAll(mosquitto);
      removeDir(dir);
    }
  }, 180_000);

  it('topics with control characters through the embedded broker: refused as bad cell ids, no line-protocol record split', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-fuzz-ctl-'));
    const handle = await runMonitor(
      parseRunConfig([`dataDir: "${join(dir, 'data')}"`, 'http: { port: 0 }', 'embeddedBroker: { port: 0 }'].join('\n'), join(dir, 'c.yaml')),
      { log: () => {} },
    );
    try {
      const publisher = connectMqtt({ url: handle.brokerUrl, clientId: 'fuzz-ctl-pub', clean: true, reconnectPeriod_ms: 500 });
      await new Promise((r) => publisher.once('connect', r));
      const body = JSON.stringify({ t: '2026-01-01T00:00:00Z', voltage_V: 0.07, current_mA: 2 });
      const topics = ['cells/a\nb/ec', 'cells/tab\there/ec', 'cells/nul\u0001x/ec', 'cells/del\u007fx/ec', 'cells/sp ace/ec'];
      for (const topic of topics) await publisher.publishAsync(topic, body, { qos: 1 });
      for (const m of goodMessages(30).filter((x) => x.topic === 'cells/c0/ec')) await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
      await publisher.endAsync();
      const t0 = Date.now();
      while (handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'bad-cell-id' }) < topics.length && Date.now() - t0 < 20_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'bad-cell-id' })).toBe(topics.length);
      // c0 is not in a registry: its first samples wait for a header (5 s at most).
      while (!handle.cells.has('c0') && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      expect([...handle.cells.keys()]).toEqual(['c0']);
      await handle.sink.flush();
      const lines = readdirSync(join(dir, 'data', 'lines')).flatMap((f) =>
        readFileSync(join(dir, 'data', 'lines', f), 'utf8')
          .trim()
          .split('\n'),
      );
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/^(telemetry|derived|events|half_cycle),cell=c0 .+ \d+$/);
    } finally {
      await handle.close();
      removeDir(dir);
    }
  }, 60_000);

  it('oversized packets through Mosquitto: each skipped unread as too-large, acknowledged once, one capped dead letter each, the good ones go on', async () => {
    const mosquitto = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-fuzz-big-'));
    const handle = await runMonitor(
      parseRunConfig(
        [`mqtt: { url: "${mosquitto.url}", clientId: big-monitor }`, `dataDir: "${join(dir, 'data')}"`, 'cells: [{ id: c0 }]', 'http: { port: 0 }'].join('\n'),
        join(dir, 'big.yaml'),
      ),
      { log: () => {} },
    );
    const watcher = connectMqtt({ url: mosquitto.url, clientId: 'big-dead-letter-watch', clean: true, reconnectPeriod_ms: 500 });
    const deadLetters: string[] = [];
    watcher.on('message', (_t, p) => deadLetters.push(p.toString('utf8')));
    try {
      await new Promise((r) => watcher.once('connect', r));
      await watcher.subscribeAsync('cyclewatch/dead-letter', { qos: 0 });
      while (handle.metrics.value('cyclewatch_mqtt_connected') !== 1) await new Promise((r) => setTimeout(r, 50));
      const publisher = connectMqtt({ url: mosquitto.url, clientId: 'big-publisher', clean: true, reconnectPeriod_ms: 500 });
      await new Promise((r) => publisher.once('connect', r));
      const good = goodMessages(60).filter((m) => m.topic === 'cells/c0/ec');
      const big = Buffer.alloc(5 * 1024 * 1024, ' ');
      Buffer.from('{"t":"2026-01-01T00:00:00Z","voltage_V":').copy(big);
      for (let k = 0; k < 20; k++) {
        await publisher.publishAsync(`cells/c0/ec`, big, { qos: 1 });
        await publisher.publishAsync(good[k]!.topic, good[k]!.payload, { qos: 1 });
      }
      await publisher.endAsync();
      const t0 = Date.now();
      while (handle.metrics.value('cyclewatch_messages_in_total') < 20 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      expect(handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'too-large' })).toBe(20);
      expect(handle.metrics.value('cyclewatch_messages_in_total')).toBe(20);
      expect(deadLetters.length + handle.metrics.value('cyclewatch_dead_letters_suppressed_total')).toBe(20);
      const first = JSON.parse(deadLetters[0]!) as { reason: string; detail: string; payload: string };
      expect(first.reason).toBe('too-large');
      expect(first.detail).toContain(`${big.length} bytes > 16384 (skipped unread)`);
      expect(first.payload.startsWith('{"t":"2026-01-01T00:00:00Z","voltage_V":')).toBe(true);
      expect(first.payload.length).toBeLessThanOrEqual(1024);
    } finally {
      await watcher.endAsync();
      await handle.close();
      await stopAll(mosquitto);
      removeDir(dir);
    }
  }, 120_000);
});
