/**
 * Where the live monitor's decisions go: the raw and derived lines and the events to the database (or files), every
 * event to events.jsonl, alerts to their channels (once each, across restarts), the status table kept current, and
 * each rejected input counted, logged and sent as a dead letter.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { RunConfig } from '../../src/config/schema.js';
import type { AlertEvent } from '../../src/domain/events.js';
import type { RejectReason } from '../../src/domain/reject.js';
import { writeDerivedLine, writeTelemetryLine } from '../../src/io/influx/lineBytes.js';
import { eventLines } from '../../src/io/influx/lineProtocol.js';
import type { PointSink } from '../../src/io/influx/sinks.js';
import { DeadLetters } from '../../src/io/mqtt/deadLetters.js';
import type { ArrivedNumbers } from '../../src/io/numbers.js';
import { rateLimitedRejections } from '../../src/io/ops/log.js';
import type { Metrics } from '../../src/io/ops/metrics.js';
import { AlertRouter } from '../../src/io/ops/notifiers.js';
import type { DetectorOutput } from '../../src/operators/monitor.js';
import type { CellStatus } from './cells.js';
import type { RestartState } from './restart.js';

export interface RunOutputs {
  readonly router: AlertRouter;
  /** Cells whose chain failed (a `cell-error` alert): named in /healthz. */
  readonly quarantined: ReadonlySet<string>;
  /** An alert: counted, routed to its channels, written as an event. */
  raise(a: AlertEvent): void;
  /** Rejected input: counted by reason, logged (rate-limited), published as a dead letter. */
  reject(reason: RejectReason, detail: string, topic?: string, payload?: Buffer | string): void;
  /** Everything the monitoring chain emits. */
  route(out: DetectorOutput): void;
}

export function runOutputs(o: {
  readonly config: RunConfig;
  readonly log: (m: string) => void;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly sink: PointSink;
  readonly client: MqttClient;
  readonly restart: RestartState;
  readonly cells: ReadonlyMap<string, CellStatus>;
  /** The texts the last live message's numbers arrived as: the raw line copies them. */
  readonly arrived: ArrivedNumbers;
}): RunOutputs {
  const { config, log, metrics, sink, client, restart, cells } = o;
  // Alerts already delivered survive restarts, so a replayed journal does not notify twice.
  const sentPath = join(restart.store.dir, 'alerts-sent.log');
  const router = new AlertRouter({
    topicPrefix: config.mqtt.topicPrefix,
    mqtt: config.alerts.mqtt ? { publish: (topic, payload, p) => client.publish(topic, payload, p) } : undefined,
    webhooks: config.alerts.webhooks,
    log: config.alerts.log ? log : () => {},
    onDelivered: (channel) => metrics.inc('cyclewatch_alerts_delivered_total', 'Alert notifications delivered', { channel }),
    onFailed: (channel) => metrics.inc('cyclewatch_alerts_failed_total', 'Alert notifications that could not be delivered', { channel }),
    onSent: (key) => appendFileSync(sentPath, key + '\n'),
  });
  if (existsSync(sentPath))
    router.restore(
      readFileSync(sentPath, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0),
    );
  const quarantined = new Set<string>();
  const raise = (a: AlertEvent): void => {
    if (a.code === 'data-gap')
      metrics.inc('cyclewatch_data_gaps_total', "Gaps in a cell's event time beyond its own rhythm (dropped or unlogged samples)", { cell: a.cell });
    if (a.code === 'cell-error') {
      quarantined.add(a.cell);
      log(`cell "${a.cell}": ${a.message}`);
    }
    router.handle(a);
    sink.write(eventLines(a, restart.startOf(a.cell)));
    restart.appendEvent(a);
    const c = cells.get(a.cell);
    if (c !== undefined && a.state === 'raised') c.alerts++;
  };

  const logReject = rateLimitedRejections(log, o.now);
  const deadLetters = new DeadLetters({
    publish: (body) => {
      if (client.connected) client.publish(config.deadLetterTopic, body, { qos: 0 });
    },
    now: o.now,
    onSuppressed: () => metrics.inc('cyclewatch_dead_letters_suppressed_total', 'Dead letters held back (one per message, at most 10/s per topic)'),
  });
  const reject = (reason: RejectReason, detail: string, topic?: string, payload?: Buffer | string): void => {
    metrics.inc('cyclewatch_messages_rejected_total', 'Messages rejected, by reason', { reason });
    logReject(reason, detail);
    deadLetters.reject(reason, detail, topic, payload);
  };

  const samplesAccepted = metrics.counter('cyclewatch_samples_accepted_total', 'Samples admitted by re-ordering and de-duplication, written as raw telemetry');
  const route = (out: DetectorOutput): void => {
    if (out.type === 'accepted') {
      samplesAccepted.inc();
      writeTelemetryLine(sink, out.sample, o.arrived);
    } else if (out.type === 'derived') {
      const c = cells.get(out.cell);
      if (c !== undefined) {
        c.regime = out.derived.regime;
        c.last_ms = out.derived.t_ms;
        c.samples++;
      }
      if (config.writeDerived) writeDerivedLine(sink, out.cell, out.derived);
    } else if (out.type === 'alert') raise(out);
    else if (out.type !== 'result') {
      sink.write(eventLines(out, restart.startOf(out.cell)));
      restart.appendEvent(out);
    }
  };

  return { router, quarantined, raise, reject, route };
}
