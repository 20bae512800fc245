/**
 * The live monitor: MQTT telemetry → the shared monitoring chain → InfluxDB (or files), alert notifications,
 * /metrics. Embedded defaults: an in-process broker when none is configured, line-protocol files and
 * events.jsonl under the data directory when no database is. State is checkpointed and every accepted sample
 * journalled before it is acknowledged, so a restart, even after SIGKILL, continues where it stopped.
 *
 * This file is the wiring: the restart state (run/restart.ts), the cells and their status (run/cells.ts), where
 * decisions go (run/outputs.ts), and between them one stream — the journal, then the live messages, through the
 * monitoring chain (src/operators/monitor.ts) to `route`.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { concat, filter, from, ignoreElements, map, merge, share, Subject, tap, type Subscription } from 'rxjs';
import type { MqttClient } from 'mqtt';
import { secretsOf, type RunConfig } from '../src/config/schema.js';
import { DEFAULT_DETECTOR_OPTIONS, isCurrentDetectorState } from '../src/domain/detector/index.js';
import { iso } from '../src/domain/sample.js';
import { shardOf } from '../src/domain/shard.js';
import { checkProtocol, protocolAlerts } from '../src/domain/protocol.js';
import type { RejectReason } from '../src/domain/reject.js';
import { impedanceLines } from '../src/io/influx/lineProtocol.js';
import { sinkFor, type PointSink } from '../src/io/influx/sinks.js';
import { connectMqtt, impedanceInput, sideInput, startEmbeddedBroker, telemetryInput, telemetryTopics, type EmbeddedBroker } from '../src/io/mqtt/client.js';
import { arrivedNumbers } from '../src/io/numbers.js';
import { scrubbing } from '../src/io/ops/log.js';
import { Metrics, serveMetrics } from '../src/io/ops/metrics.js';
import { alertKey } from '../src/io/ops/notifiers.js';
import { decodeCellMeta, META_KIND } from '../src/io/wire/payload.js';
import { admitTelemetry } from '../src/operators/admit.js';
import { holdForHeader } from '../src/operators/holdForHeader.js';
import { impedanceSpectra } from '../src/operators/impedance.js';
import { monitorCells } from '../src/operators/monitor.js';
import { runCells, type CellStatus } from './run/cells.js';
import { runOutputs } from './run/outputs.js';
import { checkpointer, openRestartState } from './run/restart.js';

export type { CellStatus } from './run/cells.js';

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

  // State from an earlier run: checkpoint plus the journal written after it.
  const restart = openRestartState(config, log);
  const { store, checkpoint, journal, states } = restart;

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

  // The cells and where decisions go. Each needs the other (an alert counts in the status table, a cell coming back
  // clears its stale alert): the cells raise through `outputs`, made next.
  const cellsPart = runCells({ config, log, now, metrics, states, raise: (a) => outputs.raise(a) });
  const { cells, cellConfigs, metas, resolveCell, resolveFromMeta } = cellsPart;
  // The texts the last live message's numbers arrived as: the decoder writes them, the raw line copies them.
  const arrivedDigits = arrivedNumbers();
  const outputs = runOutputs({ config, log, now, metrics, sink, client, restart, cells, arrived: arrivedDigits });
  const { router, raise, reject, route, quarantined } = outputs;

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
    tap(cellsPart.noteArrival),
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

  const staleTimer = setInterval(() => cellsPart.checkStale(now()), options.staleCheck_ms ?? 1000);
  staleTimer.unref();

  const checkpoints = checkpointer({ restart, sink, metrics, log, releaseHeld });
  const saveCheckpoint = checkpoints.save;
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
      await checkpoints.settled();
      await saveCheckpoint();
      store.close();
      restart.close();
      await router.settle();
      await sink.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      if (broker !== null) await broker.close();
    },
  };
}
