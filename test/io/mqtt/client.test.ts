/**
 * Group commit of the journal: acknowledgements (PUBACK) are held until `beforeAcknowledge` has made the messages
 * before them durable, and many messages share one journal write. Observed from the broker's side (aedes reports
 * each PUBACK it receives), with the embedded broker.
 */
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { firstValueFrom, merge, take, toArray } from 'rxjs';
import { decodeCellMeta } from '../../../src/io/wire/payload.js';
import { connectMqtt, sideInput, startEmbeddedBroker, telemetryInput, type EmbeddedBroker } from '../../../src/io/mqtt/client.js';

/** Calls `onPuback` for each PUBACK in a client's byte stream (MQTT fixed header: type, remaining length). */
function pubackCounter(onPuback: () => void): (chunk: Buffer) => void {
  let rest = Buffer.alloc(0);
  return (chunk) => {
    let b = Buffer.concat([rest, chunk]);
    for (;;) {
      if (b.length < 2) break;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < b.length && i <= 4; i++) {
        len += (b[i]! & 127) * mul;
        mul *= 128;
        if ((b[i]! & 128) === 0) break;
      }
      if (i >= b.length || b.length < i + 1 + len) break;
      if (b[0]! >> 4 === 4) onPuback();
      b = b.subarray(i + 1 + len);
    }
    rest = b;
  };
}

let broker: EmbeddedBroker | null = null;
afterAll(async () => broker?.close());

describe.each([
  { path: 'group commit', groupCommit: true },
  { path: 'plain path (mqtt.groupCommit: false)', groupCommit: false },
])('connectMqtt with beforeAcknowledge: $path', ({ groupCommit }) => {
  it('acknowledges no message before the write that covers it (the group commit: many messages per write)', async () => {
    // A broker whose sockets are watched: every PUBACK the subscriber sends is counted the moment it arrives.
    const aedes = await Aedes.createBroker();
    let durableUpTo = 0; // messages made durable by the last beforeAcknowledge
    let handled = 0;
    let acks = 0;
    let early = 0;
    const server = createServer((socket) => {
      const count = pubackCounter(() => {
        acks++;
        if (acks > durableUpTo) early++;
      });
      socket.on('data', count);
      aedes.handle(socket);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const N = 3000;
    let writes = 0;
    const sub = connectMqtt({
      url,
      clientId: 'gc-sub',
      clean: true,
      reconnectPeriod_ms: 1000,
      groupCommit,
      beforeAcknowledge: () => {
        durableUpTo = handled;
        writes++;
      },
    });
    sub.on('message', () => handled++);
    await new Promise<void>((r) => sub.once('connect', () => sub.subscribe('gc/t', { qos: 1 }, () => r())));
    const pub = mqtt.connect(url, { clientId: 'gc-pub' });
    await new Promise((r) => pub.once('connect', r));
    await Promise.all(Array.from({ length: N }, (_, k) => pub.publishAsync('gc/t', String(k), { qos: 1 })));
    const deadline = Date.now() + 20_000;
    while (acks < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await pub.endAsync();
    await sub.endAsync();
    await new Promise<void>((r) => aedes.close(() => server.close(() => r())));
    expect(handled).toBe(N);
    expect(acks).toBe(N);
    expect(early).toBe(0);
    if (groupCommit) {
      expect(writes).toBeGreaterThan(0);
      expect(writes).toBeLessThan(N / 5);
    } else expect(writes).toBe(N);
  });

  it('withholds the acknowledgements when the durable write fails, and the broker sends the messages again', async () => {
    broker ??= await startEmbeddedBroker('127.0.0.1', 0);
    let failures = 0;
    const errors: string[] = [];
    const seen: string[] = [];
    const sub = connectMqtt({
      url: broker.url,
      clientId: `gc-fail-${groupCommit}`,
      clean: false,
      reconnectPeriod_ms: 100,
      groupCommit,
      beforeAcknowledge: () => {
        if (failures-- > 0) throw new Error('ENOSPC');
      },
      onAcknowledgeError: (e) => errors.push(e.message),
    });
    sub.on('message', (_t, payload) => seen.push(String(payload)));
    await new Promise<void>((r) => sub.once('connect', () => sub.subscribe(`gc/f/${groupCommit}`, { qos: 1 }, () => r())));
    const pub = mqtt.connect(broker.url, { clientId: `gc-pub2-${groupCommit}` });
    await new Promise((r) => pub.once('connect', r));
    failures = 1; // the write that should cover the next message fails (a full disk)
    await pub.publishAsync(`gc/f/${groupCommit}`, 'only', { qos: 1 });
    const deadline = Date.now() + 10_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await pub.endAsync();
    await sub.endAsync();
    expect(errors).toEqual(['ENOSPC']);
    // Handled, not acknowledged, delivered again after the reconnection.
    expect(seen).toEqual(['only', 'only']);
  });
});

describe('message routing on one client', () => {
  it('hands each message to the input of its kind through one listener, and drops side messages nobody takes', async () => {
    broker ??= await startEmbeddedBroker('127.0.0.1', 0);
    const client = connectMqtt({ url: broker.url, clientId: 'route-sub', clean: true, reconnectPeriod_ms: 100 });
    await new Promise((r) => client.once('connect', r));
    const rejected: string[] = [];
    const common = { qos: 1 as const, topicPrefix: 'cells', onReject: (reason: string, topic: string) => rejected.push(`${reason} ${topic}`), log: () => {} };
    const telemetry = telemetryInput(client, { ...common, topics: ['cells/+/ec', 'cells/+/impedance'], accept: () => true });
    const meta = sideInput(client, { ...common, kind: 'meta', decode: decodeCellMeta });
    // Telemetry and meta are listened to, impedance is not: an impedance message must reach neither.
    const got = firstValueFrom(merge(telemetry, meta).pipe(take(3), toArray()));
    await new Promise((r) => setTimeout(r, 200)); // the subscriptions reach the broker
    expect(client.listenerCount('message')).toBe(1);
    const pub = mqtt.connect(broker.url, { clientId: 'route-pub' });
    await new Promise((r) => pub.once('connect', r));
    await pub.publishAsync('cells/a/impedance', JSON.stringify({ t: '2026-01-01T00:00:00Z', freq_Hz: 1000, zRe_ohm: 1, zIm_ohm: 0 }), { qos: 1 });
    await pub.publishAsync('cells/a/ec', JSON.stringify({ t: '2026-01-01T00:00:01Z', voltage_V: 0.07, current_mA: 2 }), { qos: 1 });
    await pub.publishAsync('cells/a/meta', JSON.stringify({ areaCm2: 0.7 }), { qos: 1 });
    await pub.publishAsync('cells/a/ec', JSON.stringify({ t: '2026-01-01T00:00:02Z', voltage_V: 0.08, current_mA: 2 }), { qos: 1 });
    const out = (await got) as { cell: string; t_ms?: number; voltage_V?: number }[];
    await pub.endAsync();
    expect(out.map((x) => (x.voltage_V !== undefined ? `ec ${x.voltage_V}` : `meta ${x.cell}`))).toEqual(['ec 0.07', 'meta a', 'ec 0.08']);
    expect(rejected).toEqual([]); // the impedance message was not taken for malformed telemetry
    // Every input gone: so is the listener.
    expect(client.listenerCount('message')).toBe(0);
    await client.endAsync();
  });
});
