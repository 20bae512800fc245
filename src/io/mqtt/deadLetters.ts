/**
 * Dead letters: rejected input published with its reason (to `cyclewatch/dead-letter`) so a lab can see what its
 * publishers send wrong, without a bad publisher amplifying itself through them. One dead letter per message (a
 * batch message of 5,000 bad rows is one), at most `perTopicPerSecond` per topic (a token bucket), the payload cut to
 * `maxPayloadBytes` before it is decoded; what the limits hold back is counted and said in the next dead letter of
 * that topic.
 */
export interface DeadLetterOptions {
  /** Publish one (never throws; a disconnected client drops it). */
  readonly publish: (body: string) => void;
  /** Wall clock (ms): the rate limit is about the broker's load, not event time. */
  readonly now: () => number;
  readonly perTopicPerSecond?: number;
  /** Topics tracked at once; the least recently seen one is forgotten beyond this. */
  readonly maxTopics?: number;
  readonly maxPayloadBytes?: number;
  /** Called for each dead letter held back. */
  readonly onSuppressed?: () => void;
}

interface Bucket {
  tokens: number;
  at_ms: number;
  suppressed: number;
}

export class DeadLetters {
  private readonly buckets = new Map<string, Bucket>();
  private lastPayload: unknown = undefined;
  private readonly rate: number;
  private readonly maxTopics: number;
  private readonly maxPayloadBytes: number;

  constructor(private readonly o: DeadLetterOptions) {
    this.rate = o.perTopicPerSecond ?? 10;
    this.maxTopics = o.maxTopics ?? 1000;
    this.maxPayloadBytes = o.maxPayloadBytes ?? 1024;
  }

  /**
   * A rejection. `payload` is the message it came from: further rejections of the same message object (the other
   * rows of a batch) publish nothing more.
   */
  reject(reason: string, detail: string, topic: string | undefined, payload: Buffer | string | undefined): void {
    // The same Buffer is the same message (a batch's rows); equal strings may be two messages.
    if (typeof payload === 'object' && payload === this.lastPayload) return;
    this.lastPayload = payload;
    const key = topic ?? '';
    const now = this.o.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxTopics) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.rate, at_ms: now, suppressed: 0 };
    } else this.buckets.delete(key); // re-inserted below: the map's order is the order of last use
    this.buckets.set(key, b);
    b.tokens = Math.min(this.rate, b.tokens + ((now - b.at_ms) / 1000) * this.rate);
    b.at_ms = now;
    if (b.tokens < 1) {
      b.suppressed++;
      this.o.onSuppressed?.();
      return;
    }
    b.tokens--;
    const body = {
      reason,
      detail: detail.length > this.maxPayloadBytes ? detail.slice(0, this.maxPayloadBytes) : detail,
      topic,
      payload: payload === undefined ? undefined : this.cut(payload),
      at: new Date(now).toISOString(),
      ...(b.suppressed > 0 ? { suppressedBefore: b.suppressed } : {}),
    };
    b.suppressed = 0;
    this.o.publish(JSON.stringify(body));
  }

  /** The first `maxPayloadBytes` of a payload as text, without decoding the rest of it. */
  private cut(payload: Buffer | string): string {
    if (typeof payload === 'string') return payload.length > this.maxPayloadBytes ? payload.slice(0, this.maxPayloadBytes) : payload;
    return payload.subarray(0, this.maxPayloadBytes).toString('utf8');
  }
}
