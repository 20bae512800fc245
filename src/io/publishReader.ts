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

  constructor(private readonly o: PublishReaderOptions) {}

  /** Bytes as they arrived on the connection. */
  push(chunk: Buffer): void {
    if (this.bypass) return this.o.passOn(chunk);
    let data = chunk;
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
        if (i > at + 4) return this.giveUp(data, runStart);
        this.restNeeded = 0; // the length itself is cut
        break;
      }
      const bodyStart = i + 1;
      const end = bodyStart + length;
      if (end > data.length) {
        this.restNeeded = end - at; // the packet is cut
        break;
      }
      const header = data[at]!;
      const qos = (header >> 1) & 3;
      if (header >> 4 === PUBLISH && qos < 2 && this.o.active()) {
        if (!this.readPublish(data, header, qos as 0 | 1, bodyStart, end)) return this.giveUp(data, runStart);
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
  private giveUp(data: Buffer, from: number): void {
    this.bypass = true;
    this.o.passOn(data.subarray(from));
  }
}
