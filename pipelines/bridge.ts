/**
 * The bridge: follows the files a cycler writes (EC-Lab `.mpr`/`.mpt`, canonical CSV, JSON Lines) and publishes
 * each new row to the broker as SPEC §4 telemetry, with its original timestamp (rows read together go out as batches:
 * one message carrying a JSON array of them). Each poll: find the files, read each
 * one's records past its offset (whole rows only) and hand them to mqtt.js at QoS 2 together with the file's new
 * offset, in one write to the journal (src/io/bridge/journal.ts). Exactly once: a row is either in the journal (and
 * mqtt.js completes it with the broker, after a restart too, under its old packet id) or still after the offset
 * in the file. During a broker outage at most `maxBuffered` messages wait in the journal; then nothing more is read
 * (the file is the buffer).
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { MqttClient } from 'mqtt';
import { defer, exhaustMap, timer, type Subscription } from 'rxjs';
import type { BridgeConfig } from '../src/config/schema.js';
import { cellFor, runName, techniqueNumber } from '../src/io/bridge/cells.js';
import { BridgeJournal } from '../src/io/bridge/journal.js';
import { matchFiles } from '../src/io/bridge/fileWatch.js';
import { Metrics, serveMetrics } from '../src/io/ops/metrics.js';
import { connectMqtt, type OutgoingMessage } from '../src/io/mqtt/client.js';
import { batchMessages, encodeCellMeta, encodeImpedance, encodeMessage, type ImpedanceReading } from '../src/io/wire/payload.js';
import { RejectionLog } from '../src/io/instruments/rejections.js';
import { readTailStep, type TailStep } from '../src/io/bridge/tail.js';
import { machineTimeZone } from '../src/io/instruments/importers.js';
import type { ColumnNames } from '../src/io/instruments/table.js';
import { formatZoned, ZONE_TOLERANCE_MS, zoneLikeOffset_h, type TimeZoneSource } from '../src/domain/labTime.js';
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

/** The zone a file's local times are read in, and where that came from (its watch rule, the configuration, this PC). */
export interface FileZone {
  readonly zone: string;
  readonly source: TimeZoneSource;
}

/** What the file's header says about the cell and the run: a registry entry `run` can use (registry values win). */
function metaOf(path: string, step: Extract<TailStep, { kind: 'records' }>, cell: string, zone: FileZone): string {
  const m = step.metadata;
  return encodeCellMeta(cell, {
    file: basename(path),
    format: step.format,
    technique: m.technique,
    channel: m.channel,
    start_ms: step.start_ms,
    timeZone: zone.zone,
    timeZoneSource: zone.source,
    areaCm2: m.areaCm2,
    complianceV: m.complianceV,
    protocol: m.protocol,
  });
}

export interface BridgeOptions {
  readonly log: (m: string) => void;
  /** Wall clock (injectable for tests). */
  readonly now?: () => number;
  /** `config.timeZone` came from the command line (`--tz`), for what outputs say of its source. */
  readonly timeZoneFromOption?: boolean;
}

export async function runBridge(config: BridgeConfig, options: BridgeOptions): Promise<BridgeHandle> {
  const log = options.log;
  const now = options.now ?? Date.now;
  const pcZone = machineTimeZone();
  const defaultZone: FileZone =
    config.timeZone !== undefined ? { zone: config.timeZone, source: options.timeZoneFromOption ? 'option' : 'config' } : { zone: pcZone, source: 'machine' };
  log(
    `bridge: local times in the files (EC-Lab's acquisition start, absolute exports) are read in ${defaultZone.zone} (${defaultZone.source === 'machine' ? "this PC's zone; set --tz or timeZone: if the instrument keeps another" : defaultZone.source === 'option' ? '--tz' : 'timeZone: in the configuration'})`,
  );
  /** Each file's zone: that of the first watch rule that finds it, else the bridge's. */
  const zones = new Map<string, FileZone>();
  const columnsByFile = new Map<string, ColumnNames>();
  const notesSaid = new Map<string, Set<string>>();
  /** Files whose rows were said to disagree with this PC's clock, and the offsets being watched. */
  const clockWarned = new Set<string>();
  const clockHeld = new Map<string, { offset_h: number; since_ms: number }>();
  const prefix = config.mqtt.topicPrefix;
  const journal = new BridgeJournal(config.stateFile);
  const files = journal.files;
  log(
    `bridge: following ${config.watch.map((w) => w.glob).join(', ')}; journal ${config.stateFile} (${files.size} files known${journal.size > 0 ? `, ${journal.size} messages to complete with the broker` : ''})`,
  );

  // A persistent session and a fixed client id: the broker recognises a message sent again after a restart.
  const client: MqttClient = connectMqtt({
    url: config.mqtt.url,
    clientId: config.mqtt.clientId,
    username: config.mqtt.username,
    password: config.mqtt.password,
    clean: false,
    reconnectPeriod_ms: config.mqtt.reconnectPeriod_ms,
    tls: config.mqtt.tls,
    outgoingStore: journal,
    // A step's PUBLISH packets (and the PUBRELs answering a burst of PUBRECs) leave in one write.
    coalesceWrites: true,
  });
  // Set once mqtt.js has sent what its store held ('connect' comes after that): only then are new rows handed over,
  // each step's messages in one turn, so they and their offset reach the journal in one write.
  let ready = false;
  let offline = false;
  client.on('connect', () => {
    ready = true;
    if (offline) log('bridge: broker reachable again: completing the messages in the journal, then reading on');
    offline = false;
  });
  client.on('close', () => {
    ready = false;
  });
  client.on('offline', () => {
    if (!offline) log('bridge: broker unreachable: nothing more is read until it is back (the files are the buffer)');
    offline = true;
  });
  client.on('error', (e) => log(`bridge: mqtt: ${e.message}`));

  const metrics = new Metrics();
  const rowsPublished = (file: string) => metrics.counter('cyclewatch_bridge_rows_published_total', 'Rows published and acknowledged, per file', { file });
  const status = new Map<string, FileStatus>();
  /** Size and modification time of each file when a step last read it to its end. */
  const caughtUp = new Map<string, { size: number; mtime_ms: number }>();
  const errorsLogged = new Set<string>();
  const rejections = new RejectionLog((r) =>
    log(`bridge: skipped (${r.reason}) ${r.source}:${r.line ?? ''} ${r.detail} — further ones of this kind are only counted`),
  );

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
    if (!ready) return false;
    // Room in the journal for a whole step: a broker that completes nothing stops the reading here.
    await Promise.race([journal.whenAtMost(Math.max(0, config.maxBuffered - config.maxRowsPerStep * 2)), closing]);
    if (!ready || closed) return false;
    const prev = files.get(path);
    const st = statusOf(path);
    const stat = statSync(path);
    const mtime_ms = stat.mtimeMs;
    // A file read to its end that has not changed since has nothing new: not decoded again (a database or an .ndax
    // is read whole at each step).
    const last = caughtUp.get(path);
    if (last !== undefined && last.size === stat.size && last.mtime_ms === mtime_ms && prev !== undefined) return false;
    caughtUp.delete(path);
    const r = await readTailStep(path, prev, {
      maxRows: config.maxRowsPerStep,
      maxBytes: 4 << 20,
      rejections,
      cell: prev?.cell,
      setCurrent_mA: config.setCurrent_mA,
      start_ms: config.start === undefined ? undefined : Date.parse(config.start),
      // A table of durations without dates starts when its file was made (where the file system keeps that).
      startIfUndated_ms: stat.birthtimeMs > 0 ? Math.round(stat.birthtimeMs) : undefined,
      columns: columnsOf(path),
      timeZone: zoneOf(path).zone,
      settled: now() - mtime_ms >= config.settleAfter_s * 1000,
    });
    if (r.kind === 'waiting') {
      if (st.waiting !== r.why) log(`bridge: ${basename(path)}: waiting (${r.why})`);
      st.waiting = r.why;
      return false;
    }
    st.waiting = null;
    if (r.kind === 'records') {
      // What the reader assumed, once per file (an .mpr's skipped column is found again at every step).
      const seen = notesSaid.get(path) ?? new Set<string>();
      notesSaid.set(path, seen);
      for (const note of r.notes) {
        if (seen.has(note)) continue;
        seen.add(note);
        log(`bridge: ${note}`);
      }
    }
    if (r.kind === 'replaced') {
      log(
        `bridge: ${basename(path)} was replaced or truncated (it no longer starts as it did, or is shorter than what was published): following it from its start again`,
      );
      metrics.inc('cyclewatch_bridge_files_restarted_total', 'Files replaced or truncated under the bridge and followed from zero again');
      await journal.forget(path);
      return true;
    }
    const cell = prev?.cell ?? cellFor(path, r.metadata.channel, config.cells);
    // The file's importer named the rows after the file: they belong to the mapped cell.
    const samples = r.samples.map((s) => (s.cell === cell ? s : { ...s, cell }));
    const impedance = r.impedance.map((p) => (p.cell === cell ? p : { ...p, cell }));
    const meta = metaOf(path, r, cell, zoneOf(path));
    checkClock(path, samples, r.behind === 0, mtime_ms);
    st.behind = r.behind;
    // Only once what was read is in the journal: a step cut short by a lost connection is read again.
    const readToEnd = (): void => {
      if (r.behind === 0) caughtUp.set(path, { size: stat.size, mtime_ms });
    };
    if (r.next === prev?.offset && meta === prev.meta) {
      readToEnd();
      return false;
    }
    if (prev === undefined) log(`bridge: ${basename(path)} → ${prefix}/${cell}/… (${r.format}${r.metadata.technique ? `, ${r.metadata.technique}` : ''})`);
    if (!ready) return false; // the connection went while the file was read
    if (meta !== prev?.meta) {
      // The header first, acknowledged before any row goes: the monitor then knows the cell (area, limits, zone)
      // from its first sample. QoS 1 (a retained latest value, harmless if sent twice) is passed on at once, where a
      // broker may hold a QoS 2 message for its handshake while rows overtake it.
      await Promise.race([client.publishAsync(`${prefix}/${cell}/meta`, meta, { qos: 1, retain: true }), closing]);
      if (!ready || closed) return false;
    }
    // One turn, no await: the messages and the offset after them go to the journal in the same write.
    for (const m of batchMessages(messagesOf(samples, impedance, prefix), config.mqtt.batchRows)) {
      client.publish(m.topic, m.payload, { qos: config.mqtt.qos, retain: false });
    }
    const durable = journal.mark({
      path,
      offset: r.next,
      signature: r.signature,
      cell,
      published: (prev?.published ?? 0) + samples.length,
      lastSample_ms: samples.length > 0 ? samples.at(-1)!.t_ms : (prev?.lastSample_ms ?? null),
      meta,
    });
    await durable;
    readToEnd();
    rowsPublished(basename(path)).inc(samples.length);
    return r.behind > 0;
  }

  function zoneOf(path: string): FileZone {
    return zones.get(path) ?? defaultZone;
  }

  /** The columns the first watch rule matching the file names for its tables. */
  function columnsOf(path: string): ColumnNames | undefined {
    return columnsByFile.get(path);
  }

  /**
   * A file's rows against this PC's clock, a zone misread (the instrument's local time read in another zone) being
   * the usual cause of a disagreement: rows stamped ahead of the clock are said at once; a growing file whose newest
   * row stays a whole number of hours off its last write (either way) for 30 s is said with that offset. Once per file.
   */
  function checkClock(path: string, samples: readonly Sample[], caughtUp: boolean, mtime_ms: number): void {
    if (clockWarned.has(path) || samples.length === 0) return;
    const z = zoneOf(path);
    const fix =
      `its local times look read in the wrong zone (${z.zone}, ${z.source === 'machine' ? "this PC's zone" : z.source}). ` +
      "Set the instrument's zone: --tz ZONE, or timeZone: in the bridge configuration (for one folder: watch: [{ glob, timeZone }])";
    const warn = (what: string): void => {
      clockWarned.add(path);
      log(`bridge: warning clock-offset: ${basename(path)}'s rows are ${what}: ${fix}`);
      metrics.inc('cyclewatch_bridge_clock_offset_warnings_total', "Files whose rows disagree with this PC's clock (a zone misread)");
    };
    const t = now();
    const newest = samples.reduce((m, x) => Math.max(m, x.t_ms), -Infinity);
    if (newest - t > ZONE_TOLERANCE_MS) {
      const h = zoneLikeOffset_h(newest - t);
      return warn(h !== null ? `${h} h ahead of this PC's clock` : `up to ${((newest - t) / 3.6e6).toFixed(1)} h ahead of this PC's clock`);
    }
    // Only the newest row of a file being written now says what its clock is.
    const offset_h = caughtUp && t - mtime_ms < 60_000 ? zoneLikeOffset_h(samples.at(-1)!.t_ms - mtime_ms) : null;
    const held = clockHeld.get(path);
    if (offset_h === null) return void clockHeld.delete(path);
    if (held === undefined || held.offset_h !== offset_h) return void clockHeld.set(path, { offset_h, since_ms: t });
    if (t - held.since_ms >= 30_000) warn(`${Math.abs(offset_h)} h ${offset_h > 0 ? 'ahead of' : 'behind'} this PC's clock while the file grows`);
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
    const found = new Set<string>();
    for (const rule of config.watch) {
      for (const path of await matchFiles([rule.glob])) {
        // The first rule that finds a file gives its zone.
        if (!found.has(path) && !zones.has(path)) {
          zones.set(path, rule.timeZone !== undefined ? { zone: rule.timeZone, source: 'rule' } : defaultZone);
          if (rule.columns !== undefined) columnsByFile.set(path, rule.columns);
        }
        found.add(path);
      }
    }
    const all = [...found].sort();
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
  }

  let closed = false;
  let stopWaiting = (): void => {};
  const closing = new Promise<void>((r) => (stopWaiting = r));
  let polling: Promise<void> = Promise.resolve();
  const poll = (): Promise<void> => (polling = polling.then(pollOnce, pollOnce));
  const loop: Subscription = timer(0, config.pollInterval_s * 1000)
    .pipe(exhaustMap(() => defer(() => poll())))
    .subscribe({ error: (e: unknown) => log(`bridge: stopped: ${(e as Error).stack ?? String(e)}`) });

  const statusTimer = setInterval(() => {
    for (const [path, f] of files) {
      const st = status.get(path);
      log(
        `bridge: ${basename(path)} → ${f.cell}: ${f.published.toLocaleString('en')} rows published, ${st?.behind ?? 0} ${/\.(mpr|nda|ndax|res)$/i.test(path) ? 'records' : 'bytes'} behind, last sample ${f.lastSample_ms === null ? '—' : formatZoned(f.lastSample_ms, zoneOf(path).zone, true)}${st?.waiting ? `, waiting (${st.waiting})` : ''}${st?.stale ? ', STALE' : ''}`,
      );
    }
  }, config.statusInterval_s * 1000);
  statusTimer.unref();

  metrics.gauge('cyclewatch_bridge_files', 'Files followed', () => files.size);
  metrics.gauge('cyclewatch_bridge_pending_messages', 'Messages in the journal not yet completed by the broker', () => journal.size);
  metrics.gauge('cyclewatch_mqtt_connected', '1 while connected to the broker', () => (client.connected ? 1 : 0));
  const http: Server = await serveMetrics(metrics, config.http.port, config.http.host, () => ({
    ok: client.connected,
    detail: { mqtt: client.connected ? 'connected' : 'disconnected', files: files.size, host: hostname() },
  }));
  const address = http.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;

  return {
    metrics,
    httpPort,
    poll,
    async close() {
      if (closed) return;
      closed = true;
      stopWaiting();
      loop.unsubscribe();
      clearInterval(statusTimer);
      await polling.catch(() => {});
      // What the broker has not completed stays in the journal and goes out after the next start; a reachable
      // broker gets a few seconds to complete it now.
      const ended = new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      const late = await Promise.race([ended.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 3000).unref())]);
      if (late) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
