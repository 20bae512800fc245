/** `cyclewatch replay FILE…`: recorded telemetry published to a broker, with progress; Ctrl-C ends it cleanly. */
import { parseArgs } from 'node:util';
import { replay } from '../../../pipelines/replay.js';
import { machineTimeZone, type TelemetryFormat } from '../../io/instruments/importers.js';
import { loadRegistry } from '../../config/registry.js';
import { formatDuration } from '../terminal.js';
import { UsageError, num, zoneOption, startOption, columnsOption, IMPORT_FLAGS } from '../args.js';

export async function cmdReplay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      broker: { type: 'string' },
      speed: { type: 'string', default: 'max' },
      'topic-prefix': { type: 'string', default: 'cells' },
      qos: { type: 'string', default: '1' },
      cells: { type: 'string' },
      ...IMPORT_FLAGS,
      retime: { type: 'string' },
    },
  });
  const tzOption = zoneOption(values.tz);
  const timeZone = tzOption ?? machineTimeZone();
  if (positionals.length === 0) throw new UsageError('replay needs at least one telemetry FILE');
  let retimeTo_ms: number | undefined;
  try {
    retimeTo_ms = values.retime === undefined ? undefined : values.retime === 'now' ? Date.now() : startOption(values.retime, timeZone);
  } catch {
    throw new UsageError(`--retime expects "now" or an ISO 8601 time, not "${values.retime}"`);
  }
  if (values.broker === undefined) throw new UsageError('replay needs --broker URL (e.g. mqtt://127.0.0.1:1883)');
  const speed = values.speed === 'max' ? 'max' : num(values.speed, '--speed');
  if (speed === undefined || (speed !== 'max' && speed <= 0)) throw new UsageError('--speed expects a positive multiple of real time or "max"');
  const qos = Number(values.qos);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new UsageError('--qos expects 0, 1 or 2');
  const start_ms = startOption(values.start, timeZone);
  const registry = values.cells === undefined ? undefined : await loadRegistry(values.cells);
  process.stderr.write(
    `replay: local times in the files (EC-Lab's acquisition start, dates without a zone) are read in ${timeZone} (${values.tz === undefined ? `this machine's zone${registry === undefined ? '' : ", or a cell's timeZone in the registry"}; --tz to set it` : '--tz'})\n`,
  );
  const t0 = performance.now();
  // Ctrl-C: stop reading, complete what was sent, say how far it got.
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort();
  process.once('SIGINT', onInterrupt);
  const r = await replay({
    files: positionals,
    brokerUrl: values.broker,
    speed,
    topicPrefix: values['topic-prefix'],
    qos,
    maxInFlight: 1000,
    format: values.format as TelemetryFormat | undefined,
    import: {
      cell: values.cell,
      setCurrent_mA: num(values['set-current-mA'], '--set-current-mA'),
      ...columnsOption(values.columns),
      start_ms,
      timeZone: tzOption,
    },
    registry,
    retimeTo_ms,
    username: process.env['MQTT_USERNAME'],
    password: process.env['MQTT_PASSWORD'],
    log: (m) => void process.stderr.write(m + '\n'),
    progress: (p) => {
      const rate = p.published / Math.max(p.elapsed_s, 1e-3);
      const eta_s = p.fraction > 0 ? (p.elapsed_s * (1 - p.fraction)) / p.fraction : NaN;
      const line = `replay: ${p.published.toLocaleString('en')} messages published, ${(100 * p.fraction).toFixed(1)} % of the data, ${Math.round(rate).toLocaleString('en')}/s${Number.isFinite(eta_s) ? `, about ${formatDuration(eta_s)} left` : ''}`;
      // On a terminal one line redrawn in place; in a log, a line each time.
      process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
    },
    signal: stop.signal,
  });
  process.off('SIGINT', onInterrupt);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(
    `replay: ${r.stopped ? 'stopped (Ctrl-C) after' : 'published'} ${r.published.toLocaleString('en')} messages in ${s.toFixed(1)} s (${Math.round(r.published / s).toLocaleString('en')}/s)${r.stopped ? ', each one completed with the broker' : ''}\n`,
  );
  return r.stopped ? 130 : 0;
}
