/**
 * The mqtt.js internals the group commit wraps (`streamBuilder`, `_writePacket`, the socket's `data` events), checked
 * against the installed mqtt.js: when an upgrade changes them, this fails and says so, before the monitor silently
 * falls back to one journal write per message.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { groupCommitSeamsPresent, holdOutgoingPackets } from '../../../src/io/mqtt/groupCommit.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/io/mqtt/client.js';

const version = (JSON.parse(readFileSync(new URL('../../../node_modules/mqtt/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const changed = `mqtt.js ${version} changed what src/io/mqtt/groupCommit.ts wraps: adapt it, or run with mqtt.groupCommit: false`;

let broker: EmbeddedBroker | null = null;
afterAll(async () => broker?.close());

/** A subscriber with the group commit; counts what reaches the reader, mqtt.js's own PUBACK writes and the commits. */
async function subscriber(url: string, readerActive: boolean, clientId: string) {
  const seen = { reader: 0, libraryMessages: 0, libraryPubacks: 0, commits: 0 };
  const client = mqtt.connect(url, { clientId, clean: true, manualConnect: true, log: () => {} });
  expect(groupCommitSeamsPresent(client), changed).toBe(true);
  // mqtt.js's own writer, counted beneath the group commit's.
  const owner = client as unknown as { _writePacket: (p: { cmd: string }, cb?: () => void) => void };
  const original = owner._writePacket.bind(client);
  owner._writePacket = (p, cb) => {
    if (p.cmd === 'puback') seen.libraryPubacks++;
    original(p, cb);
  };
  const held = holdOutgoingPackets(client, {
    beforeRelease: () => void seen.commits++,
    onError: () => {},
    readPause_ms: 0,
    reader: {
      active: () => readerActive,
      deliver: () => void seen.reader++,
      oversized: () => {},
      maxPacketBytes: 1 << 20,
      onBypass: () => {},
    },
  });
  expect(held, changed).toBe(true);
  client.on('message', () => seen.libraryMessages++);
  client.connect();
  await new Promise<void>((r) => client.once('connect', () => client.subscribe('canary/t', { qos: 1 }, () => r())));
  return { client, seen };
}

async function publishAll(url: string, n: number): Promise<void> {
  const pub = mqtt.connect(url, { clientId: `canary-pub-${Math.random()}` });
  await new Promise((r) => pub.once('connect', r));
  await Promise.all(Array.from({ length: n }, (_, k) => pub.publishAsync('canary/t', String(k), { qos: 1 })));
  await pub.endAsync();
}

describe(`the group commit's seams in mqtt.js ${version}`, () => {
  it("the socket mqtt.js builds through streamBuilder carries the broker's packets: the reader takes every PUBLISH", async () => {
    broker ??= await startEmbeddedBroker('127.0.0.1', 0);
    const { client, seen } = await subscriber(broker.url, true, 'canary-reader');
    await publishAll(broker.url, 200);
    const deadline = Date.now() + 10_000;
    while (seen.reader < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await client.endAsync();
    expect(seen.reader, changed).toBe(200);
    expect(seen.libraryMessages).toBe(0);
    expect(seen.commits).toBeGreaterThan(0);
  });

  it("mqtt.js's PUBACKs pass through _writePacket and are held to the commit (none written by mqtt.js itself)", async () => {
    broker ??= await startEmbeddedBroker('127.0.0.1', 0);
    const { client, seen } = await subscriber(broker.url, false, 'canary-library');
    await publishAll(broker.url, 200);
    const deadline = Date.now() + 10_000;
    while (seen.libraryMessages < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await client.endAsync();
    expect(seen.libraryMessages).toBe(200);
    expect(seen.reader).toBe(0);
    expect(seen.libraryPubacks, changed).toBe(0);
    expect(seen.commits).toBeGreaterThan(0);
  });
});
