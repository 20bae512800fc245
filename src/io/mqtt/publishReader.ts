/**
 * The incoming side of an MQTT 3.1.1 connection, cut into packets: the PUBLISH packets of QoS 0 and 1 are read
 * here and handed over directly; every other packet (CONNACK, SUBACK, PINGRESP, QoS 2, anything unexpected) goes
 * on, byte for byte and in order, to the client library.
 *
 * Why: on a monitor's connection nearly every packet is a small QoS 1 PUBLISH, and the library's generic path
 * (a packet object, a buffer list, an event and a deferred turn per packet) costs about as much CPU as the
 * monitor's whole per-sample work. Reading such a packet takes a few bytes of header.
 */

/** A PUBLISH read off the wire (MQTT 3.1.1: no properties). */
export interface IncomingPublish {
  readonly topic: string;
  /** Valid only during the call it is handed to (it may be a view of the connection's receive buffer). */
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  /** QoS 1: the packet id its PUBACK names; 0 for QoS 0. */
  readonly messageId: number;
  readonly retain: boolean;
}

export interface PublishReaderOptions {
  /** Whether the reader may take PUBLISH packets now (when not, they go on to the library like any other). */
  readonly active: () => boolean;
  /** A PUBLISH taken by the reader. */
  readonly onPublish: (p: IncomingPublish) => void;
  /** Bytes of packets that are not taken, in arrival order (whole packets, or the raw rest after a malformed one). */
  readonly passOn: (bytes: Buffer) => void;
  /**
   * A PUBLISH whose remaining length exceeds this is never assembled: its bytes are skipped as they stream by,
   * keeping only its topic and the first `oversizedHeadBytes` of its payload, and it is handed to `onOversized`
   * once its last byte has passed. Unlimited when not given.
   */
  readonly maxPacketBytes?: number;
  readonly oversizedHeadBytes?: number;
  /** The stream is not MQTT 3.1.1 as expected (`why`): from here on every byte goes on to the library. */
  readonly onBypass?: (why: string) => void;
  /** A skipped oversized PUBLISH (QoS 1: to be acknowledged like any other). */
  readonly onOversized?: (p: OversizedPublish) => void;
}

/** A PUBLISH skipped for its size. */
export interface OversizedPublish {
  readonly topic: string;
  /** The first bytes of its payload. */
  readonly head: Buffer;
  /** Its whole payload's size. */
  readonly payloadBytes: number;
  readonly qos: 0 | 1;
  readonly messageId: number;
  readonly retain: boolean;
}

/** An oversized PUBLISH being skipped. */
interface Skipping {
  readonly header: number;
  /** Bytes of the packet's body still to come. */
  remaining: number;
  readonly bodyBytes: number;
  /** The start of the body, up to the topic, packet id and payload head. */
  readonly prefix: Buffer;
  prefixBytes: number;
}

const PUBLISH = 3;

/** Mutable view handed to `onPublish` (one object per reader, not one per packet). */
interface PublishView {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  messageId: number;
  retain: boolean;
}

export class PublishReader {
  /** The start of a packet whose end has not arrived yet, in the chunks it came in. */
  private rest: Buffer[] = [];
  private restBytes = 0;
  /** Bytes that packet takes in all, once its length is known (0 before). */
  private restNeeded = 0;
  /** After bytes that are not MQTT as expected, everything goes on untouched: the library decides what it is. */
  private bypass = false;
  private readonly view: PublishView = { topic: '', payload: Buffer.alloc(0), qos: 0, messageId: 0, retain: false };
  private skipping: Skipping | null = null;
  private readonly maxPacketBytes: number;
  private readonly headBytes: number;

  constructor(private readonly o: PublishReaderOptions) {
    this.maxPacketBytes = o.maxPacketBytes ?? Infinity;
    this.headBytes = o.oversizedHeadBytes ?? 1024;
  }

  /** Bytes as they arrived on the connection. */
  push(chunk: Buffer): void {
    if (this.bypass) return this.o.passOn(chunk);
    let data = chunk;
    if (this.skipping !== null) {
      const used = this.skip(data, 0);
      if (used === data.length) return;
      data = data.subarray(used);
    }
    if (this.rest.length > 0) {
      this.rest.push(chunk);
      this.restBytes += chunk.length;
      // A large packet comes in many chunks: they are joined once, when it is complete.
      if (this.restBytes < this.restNeeded) return;
      data = Buffer.concat(this.rest, this.restBytes);
      this.rest = [];
      this.restBytes = 0;
      this.restNeeded = 0;
    }
    let at = 0;
    // Start of the run of packets not taken here, passed on together.
    let runStart = 0;
    while (at < data.length) {
      if (data.length - at < 2) break;
      // Remaining length: 1 to 4 bytes of 7 bits, low first.
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      for (; i < data.length && i <= at + 4; i++) {
        const b = data[i]!;
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i > at + 4) return this.giveUp(data, runStart, 'a remaining length of more than four bytes');
        this.restNeeded = 0; // the length itself is cut
        break;
      }
      const bodyStart = i + 1;
      const end = bodyStart + length;
      if (length > this.maxPacketBytes && data[at]! >> 4 === PUBLISH && ((data[at]! >> 1) & 3) < 2 && this.o.active()) {
        // Too large to assemble: what came before goes on, then its bytes are skipped as they come.
        if (runStart < at) this.o.passOn(data.subarray(runStart, at));
        const prefix = Buffer.allocUnsafe(Math.min(length, 2 + 65535 + 2 + this.headBytes));
        this.skipping = { header: data[at]!, remaining: length, bodyBytes: length, prefix, prefixBytes: 0 };
        at = this.skip(data, bodyStart);
        runStart = at;
        if (this.skipping !== null) {
          this.restNeeded = 0;
          return;
        }
        continue;
      }
      if (end > data.length) {
        this.restNeeded = end - at; // the packet is cut
        break;
      }
      const header = data[at]!;
      const qos = (header >> 1) & 3;
      if (header >> 4 === PUBLISH && qos < 2 && this.o.active()) {
        if (!this.readPublish(data, header, qos as 0 | 1, bodyStart, end)) return this.giveUp(data, runStart, malformation(data, qos, bodyStart, end));
        // What came before this packet goes on first, then this one is handed over.
        if (runStart < at) this.o.passOn(data.subarray(runStart, at));
        runStart = end;
        this.o.onPublish(this.view);
      }
      at = end;
    }
    if (runStart < at) this.o.passOn(data.subarray(runStart, at));
    // A cut packet waits for its end (copied: the chunk's memory may be reused by the socket's reader).
    if (at < data.length) {
      this.rest = [Buffer.from(data.subarray(at))];
      this.restBytes = data.length - at;
    } else this.restNeeded = 0;
  }

  /**
   * Skips the oversized packet's bytes from `from` on, keeping its prefix; hands it over when its last byte has
   * passed. Returns where the next packet starts (`data.length` when the packet goes on past this chunk).
   */
  private skip(data: Buffer, from: number): number {
    const s = this.skipping!;
    const n = Math.min(s.remaining, data.length - from);
    const keep = Math.min(n, s.prefix.length - s.prefixBytes);
    if (keep > 0) {
      data.copy(s.prefix, s.prefixBytes, from, from + keep);
      s.prefixBytes += keep;
    }
    s.remaining -= n;
    if (s.remaining > 0) return data.length;
    this.skipping = null;
    const qos = ((s.header >> 1) & 3) as 0 | 1;
    const p = s.prefix.subarray(0, s.prefixBytes);
    const topicLength = p.length >= 2 ? (p[0]! << 8) | p[1]! : Infinity;
    const payloadStart = 2 + topicLength + (qos > 0 ? 2 : 0);
    const messageId = qos > 0 && payloadStart <= p.length ? (p[payloadStart - 2]! << 8) | p[payloadStart - 1]! : 0;
    if (payloadStart > p.length || (qos > 0 && messageId === 0)) {
      // Malformed: the library is told nothing of it; the connection goes on with the next packet. A broker that
      // sends this is broken anyway, and the bytes are gone.
      this.o.onOversized?.({ topic: '', head: Buffer.alloc(0), payloadBytes: s.bodyBytes, qos: 0, messageId: 0, retain: false });
      return from + n;
    }
    this.o.onOversized?.({
      topic: p.toString('utf8', 2, 2 + topicLength),
      head: Buffer.from(p.subarray(payloadStart, payloadStart + this.headBytes)),
      payloadBytes: s.bodyBytes - payloadStart,
      qos,
      messageId,
      retain: (s.header & 1) === 1,
    });
    return from + n;
  }

  /** Fills the view; false when the packet is malformed (left to the library, which closes the connection). */
  private readPublish(data: Buffer, header: number, qos: 0 | 1, start: number, end: number): boolean {
    if (end - start < 2) return false;
    const topicLength = (data[start]! << 8) | data[start + 1]!;
    const topicEnd = start + 2 + topicLength;
    const payloadStart = topicEnd + (qos > 0 ? 2 : 0);
    if (payloadStart > end) return false;
    const v = this.view;
    v.topic = data.toString('utf8', start + 2, topicEnd);
    v.qos = qos;
    v.messageId = qos > 0 ? (data[topicEnd]! << 8) | data[topicEnd + 1]! : 0;
    if (qos > 0 && v.messageId === 0) return false;
    v.retain = (header & 1) === 1;
    v.payload = data.subarray(payloadStart, end);
    return true;
  }

  /** Not MQTT as expected: from here on, everything goes on as it is. */
  private giveUp(data: Buffer, from: number, why: string): void {
    this.bypass = true;
    this.o.onBypass?.(why);
    this.o.passOn(data.subarray(from));
  }
}

/** What is wrong with a PUBLISH that `readPublish` refused. */
function malformation(data: Buffer, qos: number, start: number, end: number): string {
  if (end - start < 2) return 'a PUBLISH too short for its topic length';
  const topicEnd = start + 2 + ((data[start]! << 8) | data[start + 1]!);
  if (topicEnd + (qos > 0 ? 2 : 0) > end) return 'a PUBLISH whose topic runs past its end';
  return 'a QoS 1 PUBLISH with packet id 0';
}
