/**
 * Alert delivery: MQTT (retained latest alert per cell, plus an event stream), webhooks (plain JSON or
 * Slack-compatible) and the log. The detector raises each alert once; this router also drops repeats
 * (a replay, a restart) by key, so a receiver sees an alert exactly once.
 */
import { Backoff, sleep } from '../backoff.js';
import type { AlertEvent, Severity } from '../../domain/events.js';
import { iso } from '../../domain/sample.js';

export interface WebhookTarget {
  /** A secret: never logged. */
  readonly url: string;
  readonly format: 'json' | 'slack';
  readonly minSeverity: Severity;
}

export interface AlertPublisher {
  publish(topic: string, payload: string, options: { qos: 0 | 1 | 2; retain: boolean }): void;
}

export interface AlertRouterOptions {
  readonly topicPrefix: string;
  readonly mqtt?: AlertPublisher;
  readonly webhooks: readonly WebhookTarget[];
  readonly log: (message: string) => void;
  readonly maxAttempts?: number;
  readonly onDelivered?: (channel: string) => void;
  readonly onFailed?: (channel: string) => void;
  /** Called with each new alert's key before it is sent, e.g. to persist it. */
  readonly onSent?: (key: string) => void;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function alertToJson(a: AlertEvent): Record<string, unknown> {
  return { type: 'alert', cell: a.cell, t: iso(a.t_ms), severity: a.severity, code: a.code, state: a.state, message: a.message };
}

export function alertKey(a: AlertEvent): string {
  return `${a.cell}|${a.code}|${a.state}|${a.t_ms}`;
}

export class AlertRouter {
  private readonly seen = new Set<string>();
  private readonly queues: Promise<void>[];

  constructor(private readonly o: AlertRouterOptions) {
    this.queues = o.webhooks.map(() => Promise.resolve());
  }

  /** Keys delivered by an earlier run (see `onSent`): not sent again. */
  restore(keys: readonly string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  /** Whether an alert with this key was already handled (here or by an earlier run). */
  isKnown(key: string): boolean {
    return this.seen.has(key);
  }

  handle(a: AlertEvent): void {
    const key = alertKey(a);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.o.onSent?.(key);
    if (this.seen.size > 100_000) this.seen.delete(this.seen.values().next().value!);
    const body = alertToJson(a);
    this.o.log(`ALERT ${a.severity.toUpperCase()} ${a.cell} ${a.code}${a.state === 'cleared' ? ' cleared' : ''}: ${a.message}`);
    if (this.o.mqtt !== undefined) {
      const text = JSON.stringify(body);
      this.o.mqtt.publish(`${this.o.topicPrefix}/${a.cell}/alerts`, text, { qos: 1, retain: true });
      this.o.mqtt.publish(`${this.o.topicPrefix}/${a.cell}/alerts/events`, text, { qos: 1, retain: false });
      this.o.onDelivered?.('mqtt');
    }
    this.o.webhooks.forEach((w, i) => {
      if (RANK[a.severity] < RANK[w.minSeverity]) return;
      const payload =
        w.format === 'slack'
          ? {
              text: `${a.severity === 'critical' ? ':rotating_light:' : ':warning:'} *${a.cell}* ${a.code}${a.state === 'cleared' ? ' (cleared)' : ''}: ${a.message}`,
            }
          : body;
      this.queues[i] = this.queues[i]!.then(() => this.post(w, i, payload));
    });
  }

  private async post(w: WebhookTarget, index: number, payload: unknown): Promise<void> {
    const attempts = this.o.maxAttempts ?? 5;
    const backoff = new Backoff({ initial_ms: 500, max_ms: 30_000 });
    for (let k = 1; k <= attempts; k++) {
      try {
        const res = await fetch(w.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) {
          this.o.onDelivered?.('webhook');
          return;
        }
        if (res.status < 500 && res.status !== 429) throw new Error(`HTTP ${res.status} (not retried)`);
        throw new Error(`HTTP ${res.status}`);
      } catch (e) {
        const final = k === attempts || /not retried/.test((e as Error).message);
        if (final) {
          this.o.log(`webhook #${index + 1}: delivery failed after ${k} attempts: ${(e as Error).message}`);
          this.o.onFailed?.('webhook');
          return;
        }
        await sleep(backoff.next());
      }
    }
  }

  /** Wait for webhook deliveries in flight. */
  async settle(): Promise<void> {
    await Promise.all(this.queues);
  }
}
