/**
 * The group commit on mqtt.js's connection: the one place that reaches into mqtt.js's internals.
 *
 * mqtt.js writes one PUBACK per message as soon as its `message` listeners return, one system call each, and hands
 * each incoming packet through a generic parser. Here, on the socket mqtt.js builds through `streamBuilder` (per
 * (re)connection): outgoing packets are held to the end of the event loop's turn and written after one durable
 * journal write (`beforeRelease`); PUBACKs are four bytes written here (`_writePacket`); QoS 0/1 PUBLISH packets are
 * read off the stream's `data` events by the `PublishReader`. These three are not mqtt.js's public API:
 * `groupCommitSeamsPresent` checks them (and a test does, for every mqtt.js upgrade), and when they are gone the
 * client takes the plain path (`acknowledgeAfterJournal`: mqtt.js's public `handleMessage`, one journal write per
 * message). The configuration's `mqtt.groupCommit: false` chooses the plain path.
 */
import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { PublishReader, type OversizedPublish } from './publishReader.js';
import { ReadPacing } from './readPacing.js';

/** Where the PUBLISH reader hands what it reads (the client's message routes). */
export interface PublishRoutes {
  /** Whether the reader may take PUBLISH packets now (the routes are the client's only `message` listener). */
  readonly active: () => boolean;
  readonly deliver: (topic: string, payload: Buffer) => void;
  readonly oversized: (p: OversizedPublish) => void;
  /** The largest PUBLISH assembled; larger ones go to `oversized` unread. */
  readonly maxPacketBytes: number;
  /** The broker sent bytes the reader does not expect: mqtt.js reads the rest of this connection. */
  readonly onBypass: (why: string) => void;
}

export interface GroupCommitOptions {
  /** Makes the turn's work durable; the held packets leave after it. */
  readonly beforeRelease: () => void;
  /** `beforeRelease` threw: nothing is acknowledged and the connection is restarted. */
  readonly onError: (e: Error) => void;
  readonly readPause_ms: number;
  /** The PUBLISH reader's routes; null: every packet goes through mqtt.js (MQTT 5, whose PUBLISH has properties). */
  readonly reader: PublishRoutes | null;
}

/** The mqtt.js internals the group commit wraps, present on this client. */
export function groupCommitSeamsPresent(client: MqttClient): boolean {
  const c = client as unknown as Record<string, unknown>;
  return typeof c['streamBuilder'] === 'function' && typeof c['_writePacket'] === 'function';
}

/**
 * The plain path, through mqtt.js's public `handleMessage` (called after a message's `message` listeners, its
 * callback sends the PUBACK): the journal is written before each acknowledgement, one write per message.
 */
export function acknowledgeAfterJournal(client: MqttClient, beforeAcknowledge: () => void, onError: (e: Error) => void): void {
  client.handleMessage = (packet, callback) => {
    if (packet.qos > 0) {
      try {
        beforeAcknowledge();
      } catch (e) {
        // Not acknowledged: the connection is dropped, and the broker sends the message again after the reconnection.
        onError(e as Error);
        client.stream.destroy();
        return;
      }
    }
    callback();
  };
}

type PacketStream = Duplex & { write: (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean };

/**
 * mqtt.js handles incoming packets one at a time and writes each PUBACK as soon as its message was handled, one
 * system call per message. Here its outgoing packets are held until the end of the current turn of the event
 * loop (every packet of the data that arrived has been handled by then), `beforeRelease` makes the turn's work
 * durable in one write, and the held packets go out together. A PUBACK therefore never precedes the journal line of
 * its message. mqtt.js builds its socket through `streamBuilder` on every (re)connection; the socket it gets is
 * wrapped there.
 */
export function holdOutgoingPackets(client: MqttClient, o: GroupCommitOptions): boolean {
  const { beforeRelease, onError, readPause_ms, reader: readerRoutes } = o;
  const owner = client as unknown as {
    streamBuilder?: (c: MqttClient) => PacketStream;
    _writePacket?: (packet: { cmd: string; messageId?: number; reasonCode?: number; properties?: unknown }, cb?: () => void) => void;
  };
  if (!groupCommitSeamsPresent(client)) return false;
  const build = owner.streamBuilder!;
  const writePacket = owner._writePacket!.bind(client);
  /** The PUBACK of a message, held on the current connection's stream. */
  let holdAcknowledgement: ((messageId: number) => void) | null = null;
  owner.streamBuilder = (c) => {
    const stream = build(c);
    const write = stream.write.bind(stream);
    const end = stream.end.bind(stream) as (...args: unknown[]) => PacketStream;
    // The held bytes are copied into one buffer (mqtt-packet writes a packet in several small pieces).
    let held = Buffer.allocUnsafe(64 * 1024);
    let heldBytes = 0;
    let callbacks: (() => void)[] = [];
    let scheduled = false;
    const release = (): void => {
      scheduled = false;
      if (heldBytes === 0 && callbacks.length === 0) return;
      const bytes = heldBytes;
      const done = callbacks;
      heldBytes = 0;
      callbacks = [];
      if (stream.destroyed) return; // the connection is gone, and with it what these packets answered
      try {
        beforeRelease();
      } catch (e) {
        // Not durable: no acknowledgement may leave. The broker sends the messages again after the reconnection.
        onError(e as Error);
        stream.destroy();
        return;
      }
      // The socket keeps the bytes until they are sent: hand this buffer over and hold the next turn in a new one.
      const out = held.subarray(0, bytes);
      held = Buffer.allocUnsafe(Math.max(64 * 1024, held.length));
      write(out, undefined, () => {
        for (const cb of done) cb();
      });
    };
    const room = (bytes: number): void => {
      if (heldBytes + bytes > held.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * held.length, heldBytes + bytes));
        held.copy(bigger, 0, 0, heldBytes);
        held = bigger;
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(release);
      }
    };
    stream.write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
      const bytes =
        typeof chunk === 'string' ? Buffer.from(chunk, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding) : (chunk as Uint8Array);
      room(bytes.length);
      held.set(bytes, heldBytes);
      heldBytes += bytes.length;
      const callback = typeof encoding === 'function' ? encoding : cb;
      if (typeof callback === 'function') callbacks.push(callback as () => void);
      return true;
    };
    const acknowledge = (messageId: number): void => {
      room(4);
      held[heldBytes] = 0x40; // PUBACK
      held[heldBytes + 1] = 2; // remaining length: the packet id
      held[heldBytes + 2] = messageId >> 8;
      held[heldBytes + 3] = messageId & 0xff;
      heldBytes += 4;
    };
    holdAcknowledgement = acknowledge;
    const pacing = readPause_ms > 0 ? new ReadPacing(stream, { pause_ms: readPause_ms }) : null;
    // The PUBLISH reader reads MQTT 3.1.1 packets (no properties); under MQTT 5 mqtt.js reads them all.
    if (readerRoutes !== null) readPublishesFirst(stream, readerRoutes, acknowledge, pacing);
    stream.end = ((...args: unknown[]) => {
      release();
      return end(...args);
    }) as PacketStream['end'];
    return stream;
  };
  // A PUBACK is four bytes, one per message received: written here rather than through mqtt-packet's generic
  // writer (three stream writes and their callbacks). Any other packet, or a PUBACK with a reason code or
  // properties, takes mqtt.js's way.
  owner._writePacket = (packet, cb) => {
    if (packet.cmd === 'puback' && !packet.reasonCode && packet.properties === undefined && packet.messageId !== undefined && holdAcknowledgement !== null) {
      holdAcknowledgement(packet.messageId);
      cb?.();
      return;
    }
    writePacket(packet, cb);
  };
  return true;
}

/**
 * The connection's PUBLISH packets of QoS 0 and 1 are read as they arrive and handed to `routes` (see
 * `PublishReader`) while `routes.active()`; QoS 1 ones are acknowledged through `acknowledge` after their input has
 * handled them. Everything else reaches mqtt.js as before, in order. mqtt.js pipes the stream into its parser: the
 * stream's `data` events are where the bytes are taken. With `pacing`, each piece is judged once it has been handled
 * (see `ReadPacing`).
 */
function readPublishesFirst(stream: PacketStream, routes: PublishRoutes, acknowledge: (messageId: number) => void, pacing: ReadPacing | null): void {
  const emit = stream.emit.bind(stream) as (event: string | symbol, ...args: unknown[]) => boolean;
  const reader = new PublishReader({
    active: routes.active,
    onPublish: (p) => {
      routes.deliver(p.topic, p.payload);
      if (p.qos === 1) acknowledge(p.messageId);
    },
    passOn: (bytes) => void emit('data', bytes),
    maxPacketBytes: routes.maxPacketBytes,
    onOversized: (p) => {
      routes.oversized(p);
      if (p.qos === 1) acknowledge(p.messageId);
    },
    onBypass: routes.onBypass,
  });
  stream.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'data' && Buffer.isBuffer(args[0])) {
      reader.push(args[0]);
      pacing?.afterRead(args[0].length);
      return true;
    }
    return emit(event, ...args);
  }) as PacketStream['emit'];
}
