/**
 * The PUBLISH reader on the monitor's connection: QoS 0/1 PUBLISH packets taken, every other byte passed on in
 * order, whatever the chunking of the connection's data.
 */
import { describe, expect, it } from 'vitest';
import { PublishReader, type IncomingPublish } from '../../src/io/publishReader.js';

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
});
