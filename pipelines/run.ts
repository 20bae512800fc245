/**
 * The live monitor: MQTT telemetry → the shared monitoring chain → InfluxDB (or files), alert notifications,
 * /metrics. Embedded defaults: an in-process broker when none is configured, line-protocol files and
 * events.jsonl under the data directory when no database is. State is checkpointed and every accepted sample
 * journalled before it is acknowledged, so a restart, even after SIGKILL, continues where it stopped.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { concat, filter, from, ignoreElements, map, merge, share, Subject, tap, type Subscription } from 'rxjs';
import type { MqttClient } from 'mqtt';
import { secretsOf, type RunConfig } from '../src/config/schema.js';
import { assumedCell, type CellConfig } from '../src/domain/cell.js';
import { DEFAULT_DETECTOR_OPTIONS, isCurrentDetectorState } from '../src/domain/detector/index.js';
import type { AlertEvent, CellEvent } from '../src/domain/events.js';
import { iso, type Sample } from '../src/domain/sample.js';
import { shardOf } from '../src/domain/shard.js';
import { eventToJson } from '../src/io/outputs/analysisFiles.js';
import { StateStore, stringifyState } from '../src/io/state/checkpoint.js';
import { eventLines, impedanceLines } from '../src/io/influx/lineProtocol.js';
import { writeDerivedLine, writeTelemetryLine } from '../src/io/influx/lineBytes.js';
import { Metrics, serveMetrics } from '../src/io/ops/metrics.js';
import { arrivedNumbers } from '../src/io/numbers.js';
import { connectMqtt, impedanceInput, sideInput, startEmbeddedBroker, telemetryInput, telemetryTopics, type EmbeddedBroker } from '../src/io/mqtt/client.js';
import { alertKey, AlertRouter } from '../src/io/ops/notifiers.js';
import { decodeCellMeta, META_KIND, type CellMeta } from '../src/io/wire/payload.js';
import { checkProtocol, protocolAlerts } from '../src/domain/protocol.js';
import type { RejectReason } from '../src/domain/reject.js';
import { sinkFor, type PointSink } from '../src/io/influx/sinks.js';
import { machineTimeZone } from '../src/io/instruments/importers.js';
import { rateLimitedRejections, scrubbing } from '../src/io/ops/log.js';
import { DeadLetters } from '../src/io/mqtt/deadLetters.js';
import { admitTelemetry } from '../src/operators/admit.js';
import { holdForHeader } from '../src/operators/holdForHeader.js';
import { impedanceSpectra } from '../src/operators/impedance.js';
import { monitorCells, type CellPipelineState, type DetectorOutput } from '../src/operators/monitor.js';

/** What the monitor keeps per cell for its status table, /metrics and the stale alert. */
export interface CellStatus {
  regime: string;
  /** Event time of the last sample decided (ms). */
  last_ms: number;
  samples: number;
  alerts: number;
  /** Wall clock of the last sample received (ms), for the stale alert. */
  arrival_ms: number;
  stale: boolean;
}

export interface RunHandle {
  readonly brokerUrl: string;
  readonly metrics: Metrics;
  readonly sink: PointSink;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Latest regime and sample time per cell, for status displays. */
  readonly cells: Map<string, CellStatus>;
  /** Save the state now (also done periodically and on close). */
  checkpoint(): Promise<void>;
  /** Stop taking messages, flush pending writes, save the state. */
  close(): Promise<void>;
}

export interface RunOptions {
  readonly log: (message: string) => void;
  /** Wall clock for the stale alert and the future-timestamp check only (injectable for tests). */
  readonly now?: () => number;
  readonly staleCheck_ms?: number;
}

const EARLIEST_MS = Date.UTC(2000, 0, 1);

export async function runMonitor(config: RunConfig, options: RunOptions): Promise<RunHandle> {
  const log = scrubbing(options.log, secretsOf(config));
  const now = options.now ?? Date.now;
  const metrics = new Metrics();
  const dataDir = config.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const eventsPath = join(dataDir, 'events.jsonl');

  // State from an earlier run: checkpoint plus the journal written after it.
  const store = new StateStore<CellPipelineState>(config.stateDir ?? join(dataDir, 'state'));
  const { checkpoint, journal } = store.load();
  if (checkpoint !== null) {
    // Events written after the checkpoint are decided again, identically, from the journal.
    if (existsSync(eventsPath) && statSync(eventsPath).size > checkpoint.eventsBytes) truncateSync(eventsPath, checkpoint.eventsBytes);
    log(`restored ${Object.keys(checkpoint.cells).length} cells from the checkpoint of ${checkpoint.savedAt}; replaying ${journal.length} journalled samples`);
  } else if (journal.length > 0) {
    // Killed before the first checkpoint: the journal holds everything since the start, so every event is decided again.
    if (existsSync(eventsPath)) truncateSync(eventsPath, 0);
    log(`no checkpoint: replaying ${journal.length} journalled samples`);
  }
  let eventsBytes = existsSync(eventsPath) ? statSync(eventsPath).size : 0;
  const appendEvent = (e: CellEvent): void => {
    const text = JSON.stringify(eventToJson(e, { start_ms: startOf(e.cell) })) + '\n';
    appendFileSync(eventsPath, text);
    eventsBytes += Buffer.byteLength(text);
  };

  let broker: EmbeddedBroker | null = null;
  let brokerUrl = config.mqtt.url;
  if (brokerUrl === undefined) {
    broker = await startEmbeddedBroker(config.embeddedBroker.host, config.embeddedBroker.port);
    brokerUrl = broker.url;
    log(`no MQTT broker configured: started an embedded broker on ${broker.url} (set mqtt.url to use your own)`);
  }

  const sink = sinkFor(config.influx, dataDir, log);
  if (config.influx === undefined) log(`no InfluxDB configured: writing line protocol to ${join(dataDir, 'lines')}/YYYY-MM-DD.lp`);
  // Points the journal replay gives again are written once: the sink's own files go back to the checkpoint (a
  // checkpoint from before files were recorded in it leaves them as they are).
  if (checkpoint !== null && checkpoint.sinkFiles !== undefined) sink.rewind?.(checkpoint.sinkFiles);
  else if (checkpoint === null && journal.length > 0) sink.rewind?.({});

  const { index: shard, count: shards } = config.shard;
  const owns = (cell: string): boolean => shards === 1 || shardOf(cell, shards) === shard;
  const listed = [...config.registry.keys()].filter(owns);
  const topics = telemetryTopics(config.mqtt.topicPrefix, shards > 1 && listed.length > 0 ? listed : null);
  if (shards > 1) log(`shard ${shard}/${shards}: ${listed.length > 0 ? `owns ${listed.length} listed cells` : 'filters cells by id hash'}`);
  const unknownCells = config.unknownCells ?? (config.registry.size > 0 ? 'reject' : 'accept');

  const client: MqttClient = connectMqtt({
    url: brokerUrl,
    clientId: shards > 1 ? `${config.mqtt.clientId}-${shard}` : config.mqtt.clientId,
    protocolVersion: config.mqtt.protocolVersion,
    username: config.mqtt.username,
    password: config.mqtt.password,
    // A persistent session keeps what arrives while the monitor is down; the embedded broker goes down with it, so it
    // has nothing to keep (and aedes loses messages to persistent sessions under QoS 2 publishers).
    clean: broker !== null,
    reconnectPeriod_ms: config.mqtt.reconnectPeriod_ms,
    tls: config.mqtt.tls,
    readPause_ms: config.mqtt.readBatch_ms,
    groupCommit: config.mqtt.groupCommit,
    log,
    // The journal is written once per turn of the event loop, before the PUBACKs of the messages in it.
    beforeAcknowledge: () => store.flush(),
    onAcknowledgeError: (e) => log(`journal: cannot write (${e.message}): messages are not acknowledged; the broker will send them again`),
  });

  const cells = new Map<string, CellStatus>();
  const cellConfigs = new Map<string, CellConfig>();
  let assumedLogged = 0;
  // The times people read (alert messages): the registry's zone, else the bridge's (the instrument's), else the lab's.
  const labZone = config.timeZone ?? machineTimeZone();
  log(
    `times in alert messages: hours since each cell's first sample and the wall clock in ${labZone} (${config.timeZone !== undefined ? 'timeZone: in the configuration' : "this machine's zone; set timeZone:"}), unless the registry or the bridge names the cell's own zone`,
  );
  const zoneOf = (id: string): string => metas.get(id)?.timeZone ?? labZone;
  const metas = new Map<string, CellMeta>();
  /** A cell the registry does not list, with what its file header says (area, compliance) over the defaults. */
  const resolveFromMeta = (id: string): CellConfig => {
    const m = metas.get(id);
    return assumedCell(id, {
      ...(m?.areaCm2 != null ? { areaCm2: m.areaCm2 } : {}),
      ...(m?.complianceV != null ? { complianceV: m.complianceV } : {}),
      timeZone: zoneOf(id),
    });
  };
  const resolveCell = (id: string): CellConfig => {
    const listed = config.registry.get(id);
    let c = cellConfigs.get(id) ?? (listed === undefined || listed.timeZone !== undefined ? listed : { ...listed, timeZone: zoneOf(id) });
    if (c === undefined) {
      c = resolveFromMeta(id);
      // The first few by name, then a count now and then: thousands of new ids must not flood the log.
      if (++assumedLogged <= 10) {
        log(
          `cell "${id}" is not in the registry: assuming area ${c.areaCm2} cm², metal unknown, compliance ${c.complianceV} V; R_ref is calibrated on its first hours`,
        );
      } else if (assumedLogged % 1000 === 0) log(`${assumedLogged} cells not in the registry so far (each with the same assumptions)`);
    }
    cellConfigs.set(id, c);
    return c;
  };

  // Alerts already delivered survive restarts, so a replayed journal does not notify twice.
  const sentPath = join(store.dir, 'alerts-sent.log');
  const router = new AlertRouter({
    topicPrefix: config.mqtt.topicPrefix,
    mqtt: config.alerts.mqtt ? { publish: (topic, payload, o) => client.publish(topic, payload, o) } : undefined,
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
    sink.write(eventLines(a, startOf(a.cell)));
    appendEvent(a);
    const c = cells.get(a.cell);
    if (c !== undefined && a.state === 'raised') c.alerts++;
  };

  const logReject = rateLimitedRejections(log, now);
  const deadLetters = new DeadLetters({
    publish: (body) => {
      if (client.connected) client.publish(config.deadLetterTopic, body, { qos: 0 });
    },
    now,
    onSuppressed: () => metrics.inc('cyclewatch_dead_letters_suppressed_total', 'Dead letters held back (one per message, at most 10/s per topic)'),
  });
  const reject = (reason: RejectReason, detail: string, topic?: string, payload?: Buffer | string): void => {
    metrics.inc('cyclewatch_messages_rejected_total', 'Messages rejected, by reason', { reason });
    logReject(reason, detail);
    deadLetters.reject(reason, detail, topic, payload);
  };

  const messagesIn = metrics.counter(
    'cyclewatch_messages_in_total',
    'Valid telemetry samples received, each row of a batch message counted (duplicates and late ones are rejected after this)',
  );
  const samplesAccepted = metrics.counter('cyclewatch_samples_accepted_total', 'Samples admitted by re-ordering and de-duplication, written as raw telemetry');
  /** A sample taken on (live or from the journal): counted, its cell's arrival noted for the stale alert. */
  const noteArrival = (s: Sample): void => {
    messagesIn.inc();
    let c = cells.get(s.cell);
    if (c === undefined) {
      // Until its first judged sample: the regime it was restored in, else learning (a new cell learns first).
      const regime = states.get(s.cell)?.detector.regime.regime ?? 'learning';
      const status: CellStatus = { regime, last_ms: s.t_ms, samples: 0, alerts: 0, arrival_ms: now(), stale: false };
      cells.set(s.cell, (c = status));
      metrics.gauge(
        'cyclewatch_cell_last_sample_age_seconds',
        'Wall-clock seconds since the cell last sent telemetry',
        () => (now() - status.arrival_ms) / 1000,
        { cell: s.cell },
      );
    }
    c.arrival_ms = now();
    if (c.stale) {
      c.stale = false;
      raise({ type: 'alert', cell: s.cell, t_ms: c.arrival_ms, severity: 'info', code: 'stale', state: 'cleared', message: 'telemetry is arriving again' });
    }
  };

  /** The texts the last live message's numbers arrived as: the decoder writes them, the raw line copies them. */
  const arrivedDigits = arrivedNumbers();
  /** Where the chain's outputs go: the status table, the database, alerts, events.jsonl. */
  const route = (out: DetectorOutput): void => {
    if (out.type === 'accepted') {
      samplesAccepted.inc();
      writeTelemetryLine(sink, out.sample, arrivedDigits);
    } else if (out.type === 'derived') {
      const c = cells.get(out.cell);
      if (c !== undefined) {
        c.regime = out.derived.regime;
        c.last_ms = out.derived.t_ms;
        c.samples++;
      }
      if (config.writeDerived) {
        writeDerivedLine(sink, out.cell, out.derived);
      }
    } else if (out.type === 'alert') raise(out);
    else if (out.type !== 'result') {
      sink.write(eventLines(out, startOf(out.cell)));
      appendEvent(out);
    }
  };

  // Every checkpointed cell stays in the next checkpoint, also the ones that send nothing after this restart.
  const states = new Map<string, CellPipelineState>();
  /** A cell's first sample (its start, for elapsed hours), from its detector: checkpointed with it. */
  const startOf = (cell: string): number | undefined => states.get(cell)?.detector.clock.first_ms;
  for (const [cell, state] of Object.entries(checkpoint?.cells ?? {})) if (isCurrentDetectorState(state.detector)) states.set(cell, state);

  const sideReject = (reason: RejectReason, topic: string, detail: string, payload: Buffer): void => reject(reason, `${topic}: ${detail}`, topic, payload);
  // What a bridge read in a cell's file header (retained): a registry entry for cells the registry does not list,
  // and the programmed protocol, checked against Eq. 1 at the start of the run. Shared: the live samples of a new
  // cell wait for it (below), and see its values once it is emitted.
  const headers = sideInput(client, {
    topicPrefix: config.mqtt.topicPrefix,
    kind: META_KIND,
    qos: config.mqtt.qos,
    decode: decodeCellMeta,
    onReject: sideReject,
    log,
  }).pipe(
    filter((m) => owns(m.cell)),
    tap((m) => {
      const before = metas.get(m.cell);
      metas.set(m.cell, m);
      if (before === undefined && cellConfigs.has(m.cell) && !config.registry.has(m.cell)) {
        log(`cell "${m.cell}": its header (${m.file ?? 'meta'}) arrived after its first sample: its area and compliance apply from the next restart`);
      }
    }),
    share(),
  );
  const headerMeta = headers.pipe(
    tap((m) => {
      if (m.protocol === null) return;
      const cell = config.registry.get(m.cell) ?? cellConfigs.get(m.cell) ?? resolveFromMeta(m.cell);
      const check = checkProtocol(m.protocol.steps, cell);
      for (const a of protocolAlerts(m.cell, check, m.start_ms ?? now())) if (!router.isKnown(alertKey(a))) raise(a);
    }),
    ignoreElements(),
  );
  /** Cells whose live telemetry has arrived (admitted, so bounded by the registry and maxUnlistedCells). */
  const arrived = new Set<string>();
  /** Emits when held samples must go on at once: before a checkpoint's snapshot, and at a planned stop. */
  const releaseHeld = new Subject<void>();

  // Live messages: decoded, admitted, journalled (the broker's PUBACK leaves only after the journal write). The raw
  // line of a message's sample copies the digits its numbers arrived with.
  const live = telemetryInput(client, {
    arrived: arrivedDigits,
    topics,
    qos: config.mqtt.qos,
    topicPrefix: config.mqtt.topicPrefix,
    accept: owns,
    onReject: (reason, topic, detail, payload) => reject(reason, `${topic}: ${detail}`, topic, payload),
    log,
  }).pipe(
    admitTelemetry({
      now,
      maxFutureSkew_ms: config.maxFutureSkew_s * 1000,
      earliest_ms: EARLIEST_MS,
      known: (cell) => config.registry.has(cell) || cellConfigs.has(cell),
      unknownCells,
      unlistedSoFar: [...states.keys()].filter((c) => !config.registry.has(c)).length,
      maxUnlistedCells: config.maxUnlistedCells,
      onReject: (reason, detail, cell) => reject(reason, detail, cell),
      onClockOffset: (cell, offset_h) =>
        log(
          `cell "${cell}": its samples are ${offset_h} h ahead of this clock: the instrument's local time read in the wrong zone. ` +
            `They are rejected (clock-offset) until it is fixed: run the bridge with --tz ZONE (the instrument PC's zone, e.g. Europe/Berlin) or set timeZone: in its configuration, or the publisher's zone`,
        ),
    }),
    tap((s) => store.append(s)),
    // A cell the registry does not list waits (journalled, a few seconds at most) for the header that names its area
    // and limits, which another publisher may send just after its first rows.
    holdForHeader({
      cellOf: (s) => s.cell,
      waits: (cell) => {
        arrived.add(cell);
        return config.headerWait_ms > 0 && !config.registry.has(cell) && !cellConfigs.has(cell) && !metas.has(cell) && !states.has(cell);
      },
      headers: headers.pipe(map((m) => m.cell)),
      maxWait_ms: config.headerWait_ms,
      maxHeld: 10_000,
      releaseNow: releaseHeld,
    }),
  );

  // Impedance spectra (PEIS blocks a bridge or replay publishes): context written beside the telemetry, for cells
  // already taken on; not detector input, so not journalled.
  const impedancePoints = metrics.counter('cyclewatch_impedance_points_total', 'Impedance points received and written');
  const spectra = impedanceInput(client, { topicPrefix: config.mqtt.topicPrefix, qos: config.mqtt.qos, onReject: sideReject, log }).pipe(
    filter((p) => {
      if (!owns(p.cell)) return false;
      if (config.registry.has(p.cell) || cellConfigs.has(p.cell) || arrived.has(p.cell)) return true;
      reject('unknown-cell', `impedance for "${p.cell}", which has sent no telemetry yet`, `${config.mqtt.topicPrefix}/${p.cell}/impedance`);
      return false;
    }),
    impedanceSpectra({ maxPointGap_ms: 10 * 60_000 }),
    tap(({ point, block }) => {
      impedancePoints.inc();
      sink.write(impedanceLines(point, block));
    }),
    ignoreElements(),
  );

  // One stream: the journal written after the last checkpoint is decided again first, then the live messages.
  const detection = concat(from(journal), live).pipe(
    tap(noteArrival),
    monitorCells({
      reorderWindow_ms: config.reorderWindow_ms,
      auxStaleness_ms: config.auxStaleness_ms,
      detector: DEFAULT_DETECTOR_OPTIONS,
      derived: true,
      resolveCell,
      onReject: (reason, s, detail) => reject(reason, `cell ${s.cell} ${iso(s.t_ms)}: ${detail}`, `${config.mqtt.topicPrefix}/${s.cell}`, JSON.stringify(s)),
      initialState: (cell) => {
        const saved = checkpoint?.cells[cell];
        if (saved === undefined || isCurrentDetectorState(saved.detector)) return saved;
        log(`cell "${cell}": its checkpointed state is of an older layout; it starts afresh (learning its reference again)`);
        return undefined;
      },
      states,
      accepted: true,
    }),
  );
  const pipeline: Subscription = merge(detection, spectra, headerMeta).subscribe({
    next: route,
    error: (e: unknown) => log(`pipeline error: ${(e as Error).stack ?? String(e)}`),
  });

  const staleTimer = setInterval(() => {
    const t = now();
    for (const [cell, c] of cells) {
      if (c.stale) continue;
      const last = c.arrival_ms;
      const limit_s = resolveCell(cell).staleAfterS ?? config.alerts.staleAfter_s;
      if (t - last > limit_s * 1000) {
        c.stale = true;
        raise({
          type: 'alert',
          cell,
          t_ms: t,
          severity: 'warning',
          code: 'stale',
          state: 'raised',
          message: `no telemetry for ${Math.round((t - last) / 1000)} s (limit ${limit_s} s)`,
        });
      }
    }
  }, options.staleCheck_ms ?? 1000);
  staleTimer.unref();

  let saving: Promise<void> | null = null;
  const saveCheckpoint = (): Promise<void> => {
    if (saving !== null) return saving;
    // Rotation and snapshot together, synchronously: the snapshot covers exactly the closed segments.
    let seq: number;
    let snapshot: string;
    try {
      releaseHeld.next();
      seq = store.rotate();
      snapshot = stringifyState(Object.fromEntries(states));
    } catch (e) {
      // A full disk under the journal: the samples since the last checkpoint stay unacknowledged and buffered.
      log(`checkpoint failed: ${(e as Error).message}`);
      return Promise.resolve();
    }
    const bytes = eventsBytes;
    // Points queued for the database are made durable (spooled) at once: a slow or absent database must not hold
    // checkpoints back, and the journal behind this checkpoint may then go.
    saving = Promise.resolve()
      .then(() => {
        sink.persist();
        store.save(snapshot, seq, bytes, sink.position?.());
        metrics.inc('cyclewatch_checkpoints_total', 'Checkpoints saved');
      })
      .catch((e: unknown) => log(`checkpoint failed: ${(e as Error).message}`))
      .finally(() => {
        saving = null;
      });
    return saving;
  };
  const checkpointTimer = setInterval(() => void saveCheckpoint(), config.checkpointInterval_s * 1000);
  checkpointTimer.unref();

  metrics.gauge('cyclewatch_points_written_total', 'Points written to the database', () => sink.stats.written);
  metrics.gauge('cyclewatch_points_retried_total', 'Points whose write was retried', () => sink.stats.retried);
  metrics.gauge('cyclewatch_points_spooled_total', 'Points spooled to disk during outages', () => sink.stats.spooled);
  metrics.gauge('cyclewatch_points_dropped_total', 'Points dropped because the spool was full', () => sink.stats.dropped);
  metrics.gauge('cyclewatch_write_queue_lines', 'Lines waiting to be written', () => sink.stats.queued);
  metrics.gauge('cyclewatch_spool_bytes', 'Bytes in the disk spool', () => sink.stats.spoolBytes);
  metrics.gauge('cyclewatch_mqtt_connected', '1 while connected to the broker', () => (client.connected ? 1 : 0));

  const http: Server = await serveMetrics(metrics, config.http.port, config.http.host, () => ({
    ok: client.connected && !sink.stats.outage && quarantined.size === 0,
    detail: {
      mqtt: client.connected ? 'connected' : 'disconnected',
      spoolBatches: sink.stats.spoolBatches,
      cells: cells.size,
      quarantinedCells: [...quarantined],
    },
  }));
  const address = http.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;
  log(`metrics on http://${config.http.host}:${httpPort}/metrics, health on /healthz`);

  let closed = false;
  return {
    brokerUrl,
    metrics,
    sink,
    httpPort,
    dataDir,
    cells,
    checkpoint: saveCheckpoint,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(staleTimer);
      clearInterval(checkpointTimer);
      // The client first: messages that arrive while it closes are still handled, journalled and acknowledged.
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      // Samples held for a header go into the cells' state, which the checkpoint saves.
      releaseHeld.next();
      pipeline.unsubscribe();
      await saving;
      await saveCheckpoint();
      store.close();
      await router.settle();
      await sink.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      if (broker !== null) await broker.close();
    },
  };
}
