/**
 * Replay: publishes recorded telemetry (any file `analyze` reads: instrument files, tables, JSON Lines captures) to MQTT with its
 * original timestamps, at N× real time or as fast as the broker acknowledges (bounded in flight). Impedance
 * spectra inside EC-Lab files go to `<prefix>/<cell>/impedance`, each point right after its row's rest sample. What
 * a file's header says (area, compliance limit, programmed protocol, start) goes to the retained
 * `<prefix>/<cell>/meta` before the cell's first row, as the bridge sends it: the monitor then reads the run as
 * `analyze` does.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { CellConfig } from '../src/domain/cell.js';
import type { TimeZoneSource } from '../src/domain/labTime.js';
import { defaultCellId, machineTimeZone, openTelemetry, type FileMetadata, type ImportOptions, type TelemetryFormat } from '../src/io/instruments/importers.js';
import { connectMqtt } from '../src/io/mqtt/client.js';
import { encodeCellMeta, encodeImpedance, encodeMessage, META_KIND, type ImpedanceReading } from '../src/io/wire/payload.js';
import { RejectionLog } from '../src/io/instruments/rejections.js';

export interface ReplayOptions {
  readonly files: readonly string[];
  readonly brokerUrl: string;
  /** Multiple of real time, or 'max'. */
  readonly speed: number | 'max';
  readonly topicPrefix: string;
  readonly qos: 0 | 1 | 2;
  readonly maxInFlight: number;
  readonly format?: TelemetryFormat;
  /** `timeZone` here is the option's (`--tz`), which wins over a cell's registry entry and this machine's zone. */
  readonly import?: ImportOptions;
  /**
   * The cell registry: a single-cell file's entry (its cell named by `import.cell` or the file's name) gives the
   * table's `columns`, the set current and the instrument's `timeZone` where the options do not.
   */
  readonly registry?: ReadonlyMap<string, CellConfig>;
  readonly username?: string;
  readonly password?: string;
  readonly log: (message: string) => void;
  /** Called at most every `progressEvery_ms` (2 s by default) while publishing. */
  readonly progress?: (p: ReplayProgress) => void;
  readonly progressEvery_ms?: number;
  /** Stops the replay after the message being published (Ctrl-C): what was sent is completed, the rest is not read. */
  readonly signal?: AbortSignal;
  /**
   * Epoch ms the first sample is moved to, every later one by the same shift (spacing kept): an old recording shown
   * as if it ran now (dashboards open on the last days). Impedance points move with their rows.
   */
  readonly retimeTo_ms?: number;
}

export interface ReplayProgress {
  readonly published: number;
  /** Of all the files' bytes, the fraction read so far (0–1). */
  readonly fraction: number;
  readonly elapsed_s: number;
}

function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.connected) return resolve();
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
}

/** A header worth a meta message: one that says something about the cell or the run. */
const saysSomething = (m: FileMetadata): boolean =>
  m.areaCm2 !== undefined || m.complianceV !== undefined || m.protocol !== undefined || m.technique !== undefined || m.start_ms !== undefined;

const moved = (p: ImpedanceReading, shift_ms: number): ImpedanceReading => (shift_ms === 0 ? p : { ...p, t_ms: p.t_ms + shift_ms });

export async function replay(o: ReplayOptions): Promise<{ published: number; rejected: RejectionLog; stopped: boolean }> {
  const rejected = new RejectionLog((r) => o.log(`skipped (${r.reason}) ${r.source}:${r.line ?? ''} ${r.detail}`));
  const client = connectMqtt({
    url: o.brokerUrl,
    clientId: `cyclewatch-replay-${process.pid}-${Date.now()}`,
    clean: true,
    reconnectPeriod_ms: 1000,
    username: o.username,
    password: o.password,
  });
  client.setMaxListeners(0);
  try {
    await connected(client);
  } catch (e) {
    client.end(true); // no reconnection loop behind an error already reported
    throw e;
  }
  if (o.speed === 'max') {
    // A broker acknowledges as fast as it can queue: a monitor that lags behind loses what its queue limit drops.
    o.log(
      'replay: publishing as fast as the broker acknowledges; a subscriber that lags may lose messages to the broker queue limit (Mosquitto max_queued_messages): cyclewatch run reports those as data-gap warnings',
    );
  }
  let published = 0;
  let inFlight = 0;
  let waiter: (() => void) | null = null;
  const done = (): void => {
    inFlight--;
    if (waiter !== null && inFlight <= o.maxInFlight / 2) {
      const w = waiter;
      waiter = null;
      w();
    }
  };
  let first_ms: number | null = null;
  const wall0 = performance.now();
  const send = async (m: { topic: string; payload: string }): Promise<void> => {
    inFlight++;
    client.publish(m.topic, m.payload, { qos: o.qos }, done);
    ++published;
    // The wall clock only paces the progress line; what is published and when does not depend on it.
    if (o.progress !== undefined && (published & 255) === 0) {
      const now = performance.now();
      if (now - lastProgress >= (o.progressEvery_ms ?? 2000)) {
        lastProgress = now;
        o.progress({ published, fraction: totalBytes > 0 ? (doneBytes + fileBytes) / totalBytes : 0, elapsed_s: (now - wall0) / 1000 });
      }
    }
    if (inFlight >= o.maxInFlight) await new Promise<void>((r) => (waiter = r));
  };
  let shift_ms: number | null = o.retimeTo_ms === undefined ? 0 : null;
  // The importer hands impedance points over while it builds a batch: they wait for their row's sample.
  const spectra: ImpedanceReading[] = [];
  let nextPoint = 0;
  let lastProgress = performance.now();
  const sizes = o.files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  });
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  let fileBytes = 0;
  let stopped = false;
  files: for (const [k, path] of o.files.entries()) {
    fileBytes = 0;
    const entry = o.registry?.get(o.import?.cell ?? defaultCellId(path));
    const zone: { zone: string; source: TimeZoneSource } =
      o.import?.timeZone !== undefined
        ? { zone: o.import.timeZone, source: 'option' }
        : entry?.timeZone !== undefined
          ? { zone: entry.timeZone, source: 'registry' }
          : { zone: machineTimeZone(), source: 'machine' };
    const file = await openTelemetry(
      path,
      rejected,
      {
        ...o.import,
        timeZone: zone.zone,
        columns: o.import?.columns ?? entry?.columns,
        setCurrent_mA: o.import?.setCurrent_mA ?? entry?.setCurrentMa,
        onImpedance: (p) => void spectra.push(p),
        onProgress: (bytes) => void (fileBytes = bytes),
      },
      o.format,
    );
    const headerFor = new Set<string>();
    for await (const batch of file.batches) {
      for (const s of batch) {
        if (o.signal?.aborted) {
          stopped = true;
          break files;
        }
        if (!headerFor.has(s.cell) && saysSomething(file.metadata)) {
          headerFor.add(s.cell);
          const m = file.metadata;
          const start_ms = m.start_ms === undefined ? undefined : m.start_ms + (shift_ms ?? o.retimeTo_ms! - s.t_ms);
          const payload = encodeCellMeta(s.cell, {
            file: basename(path),
            format: file.format,
            ...m,
            start_ms,
            timeZone: m.timeZone ?? zone.zone,
            timeZoneSource: zone.source,
          });
          // Retained, as the bridge's: a monitor started after the replay still learns the cell's header.
          client.publish(`${o.topicPrefix}/${s.cell}/${META_KIND}`, payload, { qos: 1, retain: true });
        }
        if (o.speed !== 'max') {
          first_ms ??= s.t_ms;
          const due = (s.t_ms - first_ms) / o.speed - (performance.now() - wall0);
          if (due > 1) await new Promise((r) => setTimeout(r, due));
        }
        shift_ms ??= o.retimeTo_ms! - s.t_ms;
        await send(encodeMessage(shift_ms === 0 ? s : { ...s, t_ms: s.t_ms + shift_ms }, o.topicPrefix));
        while (nextPoint < spectra.length && spectra[nextPoint]!.t_ms <= s.t_ms)
          await send(encodeImpedance(moved(spectra[nextPoint++]!, shift_ms), o.topicPrefix));
        if (nextPoint === spectra.length && nextPoint > 0) spectra.length = nextPoint = 0;
      }
    }
    // Points whose rows were rejected as samples still belong to the run.
    while (nextPoint < spectra.length) await send(encodeImpedance(moved(spectra[nextPoint++]!, shift_ms ?? 0), o.topicPrefix));
    spectra.length = nextPoint = 0;
    doneBytes += sizes[k]!;
    fileBytes = 0;
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise<void>((r) => client.end(false, {}, () => r()));
  return { published, rejected, stopped };
}
