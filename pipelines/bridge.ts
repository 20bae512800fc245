/**
 * The bridge: follows the files a cycler writes (EC-Lab `.mpr`/`.mpt`, canonical CSV, JSON Lines) and publishes
 * each new row to the broker as SPEC §4 telemetry, with its original timestamp. Each poll: find the files, read each
 * one's records past its offset (whole rows only), publish them at QoS 1, and move the offset on once the broker has
 * acknowledged them. The file is its own buffer: during a broker outage nothing is read, and after a crash or a
 * reboot the bridge goes on from the last acknowledged offset.
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { MqttClient } from 'mqtt';
import { defer, exhaustMap, timer, type Subscription } from 'rxjs';
import type { BridgeConfig } from '../src/config/schema.js';
import { iso } from '../src/domain/sample.js';
import { cellFor, runName, techniqueNumber } from '../src/io/bridgeCells.js';
import { loadBridgeState, saveBridgeState } from '../src/io/bridgeState.js';
import { matchFiles } from '../src/io/fileWatch.js';
import { Metrics, serveMetrics } from '../src/io/metrics.js';
import { connectMqtt, publishConfirmed, type OutgoingMessage } from '../src/io/mqtt.js';
import { encodeImpedance, encodeMessage, type ImpedanceReading } from '../src/io/payload.js';
import { RejectionLog } from '../src/io/report.js';
import { readTailStep, type TailStep } from '../src/io/tail.js';
import type { Sample } from '../src/domain/sample.js';

export interface BridgeHandle {
  readonly metrics: Metrics;
  readonly httpPort: number;
  /** One poll of every file, to the end of what is written now (tests, and the last poll on shutdown). */
  poll(): Promise<void>;
  close(): Promise<void>;
}

interface FileStatus {
  waiting: string | null;
  behind: number;
  stale: boolean;
}

/** Rows in event-time order, each impedance point right after the row it was recorded in. */
function* messagesOf(samples: readonly Sample[], impedance: readonly ImpedanceReading[], prefix: string): Generator<OutgoingMessage> {
  let k = 0;
  for (const s of samples) {
    yield encodeMessage(s, prefix);
    while (k < impedance.length && impedance[k]!.t_ms <= s.t_ms) yield encodeImpedance(impedance[k++]!, prefix);
  }
  while (k < impedance.length) yield encodeImpedance(impedance[k++]!, prefix);
}

/** What the file's header says about the cell and the run: a registry entry `run` can use (registry values win). */
function metaOf(path: string, step: Extract<TailStep, { kind: 'records' }>, cell: string): string {
  const m = step.metadata;
  return JSON.stringify({
    cell,
    file: basename(path),
    format: step.format,
    technique: m.technique ?? null,
    channel: m.channel ?? null,
    start: step.start_ms === undefined ? null : iso(step.start_ms),
    areaCm2: m.areaCm2 ?? null,
    complianceV: m.complianceV ?? null,
    protocol: m.protocol ?? null,
  });
}

export async function runBridge(config: BridgeConfig, options: { log: (m: string) => void; now?: () => number }): Promise<BridgeHandle> {
  const log = options.log;
  const now = options.now ?? Date.now;
  const prefix = config.mqtt.topicPrefix;
  const files = loadBridgeState(config.stateFile);
  log(`bridge: following ${config.watch.join(', ')}; state in ${config.stateFile} (${files.size} files known)`);

  const client: MqttClient = connectMqtt({
    url: config.mqtt.url,
    clientId: config.mqtt.clientId,
    username: config.mqtt.username,
    password: config.mqtt.password,
    clean: true,
    reconnectPeriod_ms: config.mqtt.reconnectPeriod_ms,
    tls: config.mqtt.tls,
  });
  let offline = false;
  client.on('connect', () => {
    if (offline) log('bridge: broker reachable again: publishing from the last acknowledged rows');
    offline = false;
  });
  client.on('offline', () => {
    if (!offline) log('bridge: broker unreachable: nothing is read until it is back (the files are the buffer)');
    offline = true;
  });
  client.on('error', (e) => log(`bridge: mqtt: ${e.message}`));

  const metrics = new Metrics();
  const rowsPublished = (file: string) => metrics.counter('cyclewatch_bridge_rows_published_total', 'Rows published and acknowledged, per file', { file });
  const status = new Map<string, FileStatus>();
  const errorsLogged = new Set<string>();
  const rejections = new RejectionLog((r) =>
    log(`bridge: skipped (${r.reason}) ${r.source}:${r.line ?? ''} ${r.detail} — further ones of this kind are only counted`),
  );
  let dirty = false;

  const save = (): void => {
    if (!dirty) return;
    saveBridgeState(config.stateFile, files);
    dirty = false;
  };

  const statusOf = (path: string): FileStatus => {
    let s = status.get(path);
    if (s === undefined) {
      status.set(path, (s = { waiting: null, behind: 0, stale: false }));
      const name = basename(path);
      metrics.gauge('cyclewatch_bridge_behind', 'Bytes (text) or rows (.mpr) written but not yet published, per file', () => status.get(path)?.behind ?? 0, {
        file: name,
      });
      metrics.gauge(
        'cyclewatch_bridge_last_sample_timestamp_seconds',
        'Event time of the last row published, per file',
        () => (files.get(path)?.lastSample_ms ?? 0) / 1000,
        { file: name },
      );
      metrics.gauge('cyclewatch_bridge_stale', '1 while a file has stopped growing before its run ended', () => (status.get(path)?.stale ? 1 : 0), {
        file: name,
      });
    }
    return s;
  };

  /** One step of one file; true when more is already written. */
  async function step(path: string): Promise<boolean> {
    const prev = files.get(path);
    const st = statusOf(path);
    const r = await readTailStep(path, prev, {
      maxRows: config.maxRowsPerStep,
      maxBytes: 4 << 20,
      rejections,
      cell: prev?.cell,
      setCurrent_mA: config.setCurrent_mA,
      start_ms: config.start === undefined ? undefined : Date.parse(config.start),
      settled: now() - statSync(path).mtimeMs >= config.settleAfter_s * 1000,
    });
    if (r.kind === 'waiting') {
      if (st.waiting !== r.why) log(`bridge: ${basename(path)}: waiting (${r.why})`);
      st.waiting = r.why;
      return false;
    }
    st.waiting = null;
    if (r.kind === 'replaced') {
      log(
        `bridge: ${basename(path)} was replaced or truncated (it no longer starts as it did, or is shorter than what was published): following it from its start again`,
      );
      metrics.inc('cyclewatch_bridge_files_restarted_total', 'Files replaced or truncated under the bridge and followed from zero again');
      files.delete(path);
      dirty = true;
      save();
      return true;
    }
    const cell = prev?.cell ?? cellFor(path, r.metadata.channel, config.cells);
    // The file's importer named the rows after the file: they belong to the mapped cell.
    const samples = r.samples.map((s) => (s.cell === cell ? s : { ...s, cell }));
    const impedance = r.impedance.map((p) => (p.cell === cell ? p : { ...p, cell }));
    const meta = metaOf(path, r, cell);
    const out: OutgoingMessage[] = [];
    if (meta !== prev?.meta) out.push({ topic: `${prefix}/${cell}/meta`, payload: meta, retain: true });
    if (prev === undefined) log(`bridge: ${basename(path)} → ${prefix}/${cell}/… (${r.format}${r.metadata.technique ? `, ${r.metadata.technique}` : ''})`);
    await publishConfirmed(client, [...out, ...messagesOf(samples, impedance, prefix)], config.maxInFlight);
    rowsPublished(basename(path)).inc(samples.length);
    st.behind = r.behind;
    if (r.next !== prev?.offset || meta !== prev?.meta) {
      files.set(path, {
        offset: r.next,
        signature: r.signature,
        cell,
        published: (prev?.published ?? 0) + samples.length,
        lastSample_ms: samples.length > 0 ? samples.at(-1)!.t_ms : (prev?.lastSample_ms ?? null),
        meta,
      });
      dirty = true;
    }
    // A backlog is read a step at a time: its offset is kept after each full step, not only at the end.
    if (samples.length >= config.maxRowsPerStep / 2) save();
    return r.behind > 0 && r.next > (prev?.offset ?? 0);
  }

  /** A file that stopped growing (by its modification time) while no later technique of its run has started. */
  function checkStale(path: string, all: readonly string[]): void {
    const st = statusOf(path);
    let quiet_ms: number;
    try {
      quiet_ms = now() - statSync(path).mtimeMs;
    } catch {
      return;
    }
    if (quiet_ms < config.staleAfter_s * 1000) {
      if (st.stale) log(`bridge: ${basename(path)} is growing again`);
      st.stale = false;
      return;
    }
    if (st.stale) return;
    const n = techniqueNumber(path);
    const run = runName(path);
    if (n !== null && all.some((p) => p !== path && runName(p) === run && (techniqueNumber(p) ?? -1) > n)) return;
    st.stale = true;
    log(
      `bridge: warning stale-file: ${basename(path)} has not grown for ${Math.round(quiet_ms / 60_000)} min and no later technique of its run has started (is the channel stopped, or the disk full?)`,
    );
    metrics.inc('cyclewatch_bridge_stale_warnings_total', 'stale-file warnings raised');
  }

  async function pollOnce(): Promise<void> {
    const all = await matchFiles(config.watch);
    for (const path of all) {
      try {
        while (await step(path));
        errorsLogged.delete(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // gone between the listing and the read
        if (!errorsLogged.has(path)) log(`bridge: ${basename(path)}: ${(e as Error).message} (retrying every poll)`);
        errorsLogged.add(path);
      }
      checkStale(path, all);
    }
    save();
  }

  let polling: Promise<void> = Promise.resolve();
  const poll = (): Promise<void> => (polling = polling.then(pollOnce, pollOnce));
  const loop: Subscription = timer(0, config.pollInterval_s * 1000)
    .pipe(exhaustMap(() => defer(() => poll())))
    .subscribe({ error: (e: unknown) => log(`bridge: stopped: ${(e as Error).stack ?? String(e)}`) });

  const statusTimer = setInterval(() => {
    for (const [path, f] of files) {
      const st = status.get(path);
      log(
        `bridge: ${basename(path)} → ${f.cell}: ${f.published.toLocaleString('en')} rows published, ${st?.behind ?? 0} ${path.toLowerCase().endsWith('.mpr') ? 'rows' : 'bytes'} behind, last sample ${f.lastSample_ms === null ? '—' : iso(f.lastSample_ms)}${st?.waiting ? `, waiting (${st.waiting})` : ''}${st?.stale ? ', STALE' : ''}`,
      );
    }
  }, config.statusInterval_s * 1000);
  statusTimer.unref();

  metrics.gauge('cyclewatch_bridge_files', 'Files followed', () => files.size);
  metrics.gauge('cyclewatch_mqtt_connected', '1 while connected to the broker', () => (client.connected ? 1 : 0));
  const http: Server = await serveMetrics(metrics, config.http.port, config.http.host, () => ({
    ok: client.connected,
    detail: { mqtt: client.connected ? 'connected' : 'disconnected', files: files.size, host: hostname() },
  }));
  const address = http.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;

  let closed = false;
  return {
    metrics,
    httpPort,
    poll,
    async close() {
      if (closed) return;
      closed = true;
      loop.unsubscribe();
      clearInterval(statusTimer);
      // A step waiting for a broker that is away would wait for ever: after a grace period the client is closed,
      // its unacknowledged rows stay unpublished (their offset was not moved) and go out after the next start.
      const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), 5000).unref());
      if (
        (await Promise.race([
          polling.then(
            () => 'done' as const,
            () => 'done' as const,
          ),
          grace,
        ])) === 'late'
      )
        client.end(true);
      await polling.catch(() => {});
      save();
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
