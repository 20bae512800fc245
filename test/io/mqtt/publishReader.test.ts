/**
 * The PUBLISH reader on the monitor's connection: QoS 0/1 PUBLISH packets taken, every other byte passed on in
 * order, whatever the chunking of the connection's data.
 */
import { describe, expect, it } from 'vitest';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { PublishReader, type IncomingPublish, type OversizedPublish } from '../../../src/io/mqtt/publishReader.js';

/** MQTT 3.1.1 packet bytes: fixed header, remaining length, body. */
function packet(header: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([header, ...len]), body]);
}
function publish(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, messageId = 0, retain = false): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const parts = [Buffer.from([t.length >> 8, t.length & 0xff]), t];
  if (qos > 0) parts.push(Buffer.from([messageId >> 8, messageId & 0xff]));
  parts.push(Buffer.from(payload));
  return packet(0x30 | (qos << 1) | (retain ? 1 : 0), Buffer.concat(parts));
}
const CONNACK = packet(0x20, Buffer.from([0, 0]));
const SUBACK = packet(0x90, Buffer.from([0, 1, 1]));
const PINGRESP = packet(0xd0, Buffer.alloc(0));

type Seen = { taken: string } | { passed: Buffer };
function reader(active: () => boolean = () => true): { r: PublishReader; seen: Seen[] } {
  const seen: Seen[] = [];
  const r = new PublishReader({
    active,
    onPublish: (p: IncomingPublish) =>
      seen.push({ taken: `${p.topic}|${p.payload.toString('utf8')}|q${p.qos}|id${p.messageId}|${p.retain ? 'retained' : 'live'}` }),
    passOn: (b) => seen.push({ passed: Buffer.from(b) }),
  });
  return { r, seen };
}
/** Passed-on bytes joined, between the taken packets: what the library sees, in order. */
function events(seen: Seen[]): string[] {
  const out: string[] = [];
  let bytes: Buffer[] = [];
  const flush = (): void => {
    if (bytes.length > 0) out.push('bytes ' + Buffer.concat(bytes).toString('hex'));
    bytes = [];
  };
  for (const s of seen) {
    if ('taken' in s) {
      flush();
      out.push(s.taken);
    } else bytes.push(s.passed);
  }
  flush();
  return out;
}

const big = Buffer.alloc(300_000, 'x');
const STREAM: Buffer[] = [
  CONNACK,
  publish('cells/a/ec', '{"t":"2026-01-01T00:00:00Z","voltage_V":0.07,"current_mA":2}', 1, 1),
  publish('cells/b/ec', 'q0', 0),
  SUBACK,
  publish('cells/ü/ec', 'q2 goes to the library', 2, 7),
  publish('cells/a/meta', '{"areaCm2":0.7}', 1, 65535, true),
  PINGRESP,
  publish('cells/c/ec', big, 1, 300),
];
const EXPECTED = [
  'bytes ' + CONNACK.toString('hex'),
  'cells/a/ec|{"t":"2026-01-01T00:00:00Z","voltage_V":0.07,"current_mA":2}|q1|id1|live',
  'cells/b/ec|q0|q0|id0|live',
  'bytes ' + Buffer.concat([SUBACK, STREAM[4]!]).toString('hex'),
  'cells/a/meta|{"areaCm2":0.7}|q1|id65535|retained',
  'bytes ' + PINGRESP.toString('hex'),
  `cells/c/ec|${big.toString()}|q1|id300|live`,
];

describe('PublishReader', () => {
  const all = Buffer.concat(STREAM);

  it('takes QoS 0/1 PUBLISH packets and passes every other packet on, in order, in one chunk', () => {
    const { r, seen } = reader();
    r.push(all);
    expect(events(seen)).toEqual(EXPECTED);
  });

  it('gives the same result however the data is cut: at every offset of the small packets, and in random chunks', () => {
    const small = all.subarray(0, all.length - STREAM[7]!.length);
    for (let cut = 1; cut < small.length; cut++) {
      const { r, seen } = reader();
      r.push(all.subarray(0, cut));
      r.push(all.subarray(cut));
      expect(events(seen)).toEqual(EXPECTED);
    }
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 50; trial++) {
      const { r, seen } = reader();
      for (let at = 0; at < all.length;) {
        const n = 1 + Math.floor(rand() * (trial % 2 === 0 ? 20 : 70_000));
        r.push(all.subarray(at, at + n));
        at += n;
      }
      expect(events(seen)).toEqual(EXPECTED);
    }
  });

  it('passes everything on untouched while not active (another listener wants the library to see the messages)', () => {
    const { r, seen } = reader(() => false);
    r.push(all.subarray(0, 100));
    r.push(all.subarray(100));
    expect(events(seen)).toEqual(['bytes ' + all.toString('hex')]);
  });

  it('leaves malformed packets to the library: a remaining length of five bytes, a QoS 1 packet id 0, a topic past the end', () => {
    const badLength = Buffer.from([0x32, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0]);
    const goodFirst = publish('cells/a/ec', 'ok', 1, 1);
    let { r, seen } = reader();
    r.push(Buffer.concat([goodFirst, badLength, CONNACK]));
    expect(events(seen)).toEqual(['cells/a/ec|ok|q1|id1|live', 'bytes ' + Buffer.concat([badLength, CONNACK]).toString('hex')]);
    // Once the stream is not what was expected, nothing more is taken from it.
    r.push(publish('cells/a/ec', 'later', 1, 2));
    expect(events(seen).at(-1)).toBe('bytes ' + Buffer.concat([badLength, CONNACK, publish('cells/a/ec', 'later', 1, 2)]).toString('hex'));

    const idZero = publish('cells/a/ec', 'x', 1, 0);
    ({ r, seen } = reader());
    r.push(idZero);
    expect(events(seen)).toEqual(['bytes ' + idZero.toString('hex')]);

    const topicPastEnd = packet(0x32, Buffer.from([0, 50, 0x61, 0x62]));
    ({ r, seen } = reader());
    r.push(topicPastEnd);
    expect(events(seen)).toEqual(['bytes ' + topicPastEnd.toString('hex')]);
  });

  it('skips a PUBLISH past the size limit as it streams by, keeping its topic and payload head, whatever the chunking', () => {
    const huge = publish('cells/h/ec', Buffer.concat([Buffer.from('HEAD'), Buffer.alloc(50_000, 'y')]), 1, 42, true);
    const stream = Buffer.concat([STREAM[1]!, huge, CONNACK, STREAM[2]!]);
    const expected = [
      STREAM_EXPECTED_A,
      'oversized cells/h/ec|HEADyyyy|50004 bytes|q1|id42|retained',
      'bytes ' + CONNACK.toString('hex'),
      'cells/b/ec|q0|q0|id0|live',
    ];
    for (const size of [1, 3, 7, 100, 4096, stream.length]) {
      const seen: Seen[] = [];
      const r = limited(seen, 1000, 8);
      for (let at = 0; at < stream.length; at += size) r.push(stream.subarray(at, at + size));
      expect(events(seen), `chunks of ${size}`).toEqual(expected);
    }
  });

  it('never assembles an oversized PUBLISH: 256 MB announced, streamed through one reused 64 KiB chunk', () => {
    const length = 268_435_455; // the largest remaining length MQTT can state
    const topic = Buffer.from('cells/h/ec');
    const start = Buffer.concat([Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f, 0, topic.length]), topic, Buffer.from([0, 9])]);
    const seen: Seen[] = [];
    const r = limited(seen, 17_408, 16);
    r.push(start);
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let left = length - (start.length - 5);
    const before = process.memoryUsage().arrayBuffers;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      r.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      left -= n;
    }
    r.push(CONNACK);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    expect(events(seen)).toEqual([`oversized cells/h/ec|${'z'.repeat(16)}|${length - 14} bytes|q1|id9|live`, 'bytes ' + CONNACK.toString('hex')]);
  });

  it('reads what mqtt-packet reads: 300 random broker streams (QoS 0/1/2, DUP, retained, 4-byte lengths, NUL, "+" and multi-byte topics), randomly chunked', () => {
    let seed = 11;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const topics = ['cells/a/ec', 'cells/\u0000/ec', 'cells/+/ec', 'zellen/zürich-🔋/ec', '', 'x'.repeat(300)];
    const others: Packet[] = [
      { cmd: 'connack', returnCode: 0, sessionPresent: true },
      { cmd: 'suback', messageId: 3, granted: [1, 2] },
      { cmd: 'pingresp' },
      { cmd: 'pubrel', messageId: 77 },
      { cmd: 'puback', messageId: 5 },
    ];
    for (let trial = 0; trial < 300; trial++) {
      const limit = trial % 3 === 0 ? 2000 : Infinity;
      const packets: Buffer[] = [];
      const count = 1 + Math.floor(rand() * 30);
      for (let k = 0; k < count; k++) {
        if (rand() < 0.25) {
          packets.push(mqttPacket.generate(pick(others)));
          continue;
        }
        const qos = pick([0, 1, 2] as const);
        const sizes = [0, 1, 20, 127, 128, 300, 16_383, 16_384, 70_000];
        const bytes = trial === 17 && k === 0 ? 2_097_200 : pick(sizes); // one 4-byte remaining length
        const payload = Buffer.alloc(bytes);
        for (let b = 0; b < Math.min(bytes, 64); b++) payload[b] = Math.floor(rand() * 256);
        packets.push(
          mqttPacket.generate({
            cmd: 'publish',
            topic: pick(topics),
            payload,
            qos,
            dup: rand() < 0.3,
            retain: rand() < 0.3,
            ...(qos > 0 ? { messageId: 1 + Math.floor(rand() * 65535) } : {}),
          }),
        );
      }
      const stream = Buffer.concat(packets);

      // Reference: mqtt-packet's parser over the whole stream.
      const reference: string[] = [];
      const whole = mqttPacket.parser({ protocolVersion: 4 });
      whole.on('packet', (p) => reference.push(describePacket(p, limit)));
      whole.on('error', (e) => reference.push(`error ${e.message}`));
      whole.parse(stream);

      // The reader in random chunks, what it passes on parsed by mqtt-packet.
      const seen: string[] = [];
      const rest = mqttPacket.parser({ protocolVersion: 4 });
      rest.on('packet', (p) => seen.push(describePacket(p, Infinity)));
      rest.on('error', (e) => seen.push(`error ${e.message}`));
      const r = new PublishReader({
        active: () => true,
        onPublish: (p) => seen.push(`publish ${p.topic}|${p.payload.toString('hex')}|q${p.qos}|id${p.messageId}|r${p.retain}`),
        passOn: (b) => void rest.parse(Buffer.from(b)),
        maxPacketBytes: limit,
        oversizedHeadBytes: 32,
        onOversized: (p) => seen.push(`oversized ${p.topic}|${p.head.toString('hex')}|${p.payloadBytes}|q${p.qos}|id${p.messageId}|r${p.retain}`),
      });
      for (let at = 0; at < stream.length;) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 40_000));
        r.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(seen, `trial ${trial}`).toEqual(reference);
    }
  });
});

const STREAM_EXPECTED_A = 'cells/a/ec|{"t":"2026-01-01T00:00:00Z","voltage_V":0.07,"current_mA":2}|q1|id1|live';

/** A reader with a size limit, recording oversized packets beside the rest. */
function limited(seen: Seen[], maxPacketBytes: number, oversizedHeadBytes: number): PublishReader {
  return new PublishReader({
    active: () => true,
    onPublish: (p: IncomingPublish) =>
      seen.push({ taken: `${p.topic}|${p.payload.toString('utf8')}|q${p.qos}|id${p.messageId}|${p.retain ? 'retained' : 'live'}` }),
    passOn: (b) => seen.push({ passed: Buffer.from(b) }),
    maxPacketBytes,
    oversizedHeadBytes,
    onOversized: (p: OversizedPublish) =>
      seen.push({
        taken: `oversized ${p.topic}|${p.head.toString('utf8')}|${p.payloadBytes} bytes|q${p.qos}|id${p.messageId}|${p.retain ? 'retained' : 'live'}`,
      }),
  });
}

/**
 * A packet as the reader would hand it over: QoS 0/1 PUBLISH packets as taken (or skipped past `limit`, with a
 * 32-byte head), QoS 2 and every other packet as mqtt-packet reads it (what mqtt.js then sees).
 */
function describePacket(p: Packet, limit: number): string {
  if (p.cmd === 'publish' && p.qos < 2) {
    const payload = Buffer.from(p.payload as Buffer);
    const id = p.qos > 0 ? p.messageId! : 0;
    const topicBytes = Buffer.byteLength(p.topic);
    if (2 + topicBytes + (p.qos > 0 ? 2 : 0) + payload.length > limit) {
      return `oversized ${p.topic}|${payload.subarray(0, 32).toString('hex')}|${payload.length}|q${p.qos}|id${id}|r${p.retain}`;
    }
    return `publish ${p.topic}|${payload.toString('hex')}|q${p.qos}|id${id}|r${p.retain}`;
  }
  const { cmd } = p;
  const fields = p as unknown as Record<string, unknown>;
  const shown = ['messageId', 'qos', 'dup', 'retain', 'topic', 'returnCode', 'sessionPresent', 'granted']
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(k === 'topic' ? fields[k] : fields[k])}`);
  const payload = fields['payload'] == null ? '' : ` payload=${Buffer.from(fields['payload'] as Buffer).toString('hex')}`;
  return `${cmd} ${shown.join(' ')}${payload}`;
}
