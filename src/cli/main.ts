#!/usr/bin/env node
/** `cyclewatch` command line: subcommands, their arguments, and errors a person can act on. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, closestId, type AnalyzeProgress } from '../../pipelines/analyze.js';
import { replay } from '../../pipelines/replay.js';
import { runMonitor } from '../../pipelines/run.js';
import { loadBridgeConfig, loadRunConfig, parseRunConfig } from '../config/loader.js';
import { runBridge } from '../../pipelines/bridge.js';
import { ConfigError, redactConfig, redactUrl } from '../config/schema.js';
import { simulate, truthPath, registryPath } from '../../pipelines/simulate.js';
import { FORMATS, machineTimeZone, type TelemetryFormat } from '../io/instruments/importers.js';
import { RejectedRowsError } from '../io/instruments/rejections.js';
import { ImportError } from '../io/instruments/rejections.js';
import { JournalError } from '../io/bridge/journal.js';
import { parseTimestamp_ms } from '../io/wire/timestamp.js';
import { formatZoned, isAbsolute, labTime, localToUtc_ms, parseLocalDateTime_ms, parseTimeZone } from '../domain/labTime.js';
import type { CellSummary } from '../domain/detector/index.js';
import { describeTimeBasis } from '../io/instruments/csvRows.js';
import { SCENARIO_NAMES, SCENARIOS } from '../sim/scenarios.js';
import { loadRegistry } from '../config/registry.js';
import { writeReport } from '../report/html.js';
import { DEFAULT_FIGURE_OPTIONS, figureFont, FigureFontError, type FigureFormat, type FigureOptions } from '../report/figures.js';
import type { FigureWidth } from '../report/figure2.js';
import { formatDuration, SlidingRate, StatusBlock, statusLine } from './terminal.js';

const USAGE = `cyclewatch — monitor long-duration battery cycling tests

Usage:
  cyclewatch analyze FILE… --out DIR [--cells cells.yaml] [--format ${FORMATS.join('|')}]
                     [--cell ID] [--set-current-mA I] [--start ISO] [--tz ZONE] [--area-cm2 A] [--salvage] [--no-report]
                     [--png] [--svg] [--dpi N] [--width W] [-q]
  cyclewatch report DIR [--tz ZONE] [--png] [--svg] [--dpi N] [--width W]
  cyclewatch run [--config cyclewatch.yaml] [--shard i/n] [--print-config]
  cyclewatch replay FILE… --broker URL [--speed N|max] [--retime now|ISO] [--tz ZONE] [--topic-prefix cells] [--qos 0|1|2]
  cyclewatch bridge --watch 'DIR/**/*.mpr' [--broker URL] [--tz ZONE] [--config bridge.yaml] [--state FILE]
  cyclewatch demo [--out DIR]
  cyclewatch simulate --scenario NAME[,NAME…] --out FILE.csv [--seed N] [--dt S] [--hours H] [--start ISO]
  cyclewatch help | --version
  cyclewatch COMMAND --help      the command's options, with an example

Scenarios: ${SCENARIO_NAMES.join(', ')}
`;

/** Each command's options and an example, for `cyclewatch COMMAND --help`. */
const COMMAND_HELP: Record<string, string> = {
  analyze: `cyclewatch analyze FILE… --out DIR — detect regimes in recorded telemetry (CSV, JSON Lines, EC-Lab .mpr/.mpt)

Options:
  --out DIR             where events.jsonl, segments.jsonl, summary.json and report.html go (required)
  --cells FILE          cell registry (YAML); cells it does not list are calibrated on their own data
  --format F            ${FORMATS.join('|')} (sniffed from the content by default)
  --cell ID             cell id for single-cell files (default: the file name)
  --set-current-mA I    set current for exports without a current column
  --start ISO           start time for files whose header gives none (and seconds-since-start CSV times); without
                        Z or an offset it is the lab's wall clock (--tz)
  --tz ZONE             the lab's time zone (IANA name such as Europe/Berlin, or +02:00): the instrument's local times
                        (EC-Lab's acquisition start, absolute exports, CSV dates without a zone) are read in it and
                        times are shown in it. Default: the registry's timeZone per cell, else this machine's zone
  --area-cm2 A          electrode area for cells the registry does not list
  --salvage             analyse a file even when more than 5 % of its rows are rejected (by default that stops
                        the analysis with the counts by reason: the file is probably misread)
  --no-report           do not write report.html
  --png                 also write each cell's figures as PNG: the composite Fig. 2 (CELL.fig2.png, its caption
                        draft CELL.fig2.txt) and each panel
  --svg                 the same as SVG (text as outlines: opens the same everywhere)
  --dpi N               PNG resolution (default 300; 150 for slides)
  --width W             Fig. 2's width: single (85 mm column), double (180 mm, the default) or a width in mm
  -q, --quiet           no progress and notes

Example:
  npx cyclewatch analyze cell7.mpr --cells cells.yaml --out results/
`,
  report: `cyclewatch report DIR — write report.html from an analysis output folder

Options:
  --tz ZONE             show absolute times in this zone (default: each cell's zone of the analysis)
  --png                 also write each cell's figures as PNG: the composite Fig. 2 (CELL.fig2.png, its caption
                        draft CELL.fig2.txt) and each panel
  --svg                 the same as SVG (text as outlines: opens the same everywhere)
  --dpi N               PNG resolution (default 300; 150 for slides)
  --width W             Fig. 2's width: single (85 mm column), double (180 mm, the default) or a width in mm

Example:
  npx cyclewatch report results/ --png --svg --dpi 300
`,
  run: `cyclewatch run — the live monitor (MQTT in; InfluxDB or files, alerts, /metrics out)

Options:
  -c, --config FILE     configuration (YAML); without it: an embedded broker on 127.0.0.1:1883 and files under ./data
  --shard i/n           take the cells of shard i of n
  --print-config        print the configuration (secrets hidden) and exit

Example:
  npx cyclewatch run --config cyclewatch.yaml
`,
  replay: `cyclewatch replay FILE… --broker URL — publish recorded telemetry to a broker, as the cyclers would

Options:
  --broker URL          mqtt://host:1883 (required)
  --speed N|max         N× real time, or as fast as the broker acknowledges (default max)
  --retime now|ISO      move the first sample to that time, the others with it (spacing kept): an old run shows
                        in dashboards that open on the last days; with --speed 1 it looks live
  --topic-prefix P      topic prefix (default cells)
  --qos 0|1|2           (default 1)
  --format, --cell, --set-current-mA, --start, --tz   as for analyze

Example:
  npx cyclewatch replay run.csv --broker mqtt://127.0.0.1:1883 --speed 3600
`,
  bridge: `cyclewatch bridge — on the cycler PC: follow the files EC-Lab writes and publish every new row to MQTT

Options:
  --watch GLOB          files to follow (repeatable): * and ? in names, ** for any folders below
  --broker URL          mqtt://host:1883 (default mqtt://127.0.0.1:1883); MQTT_USERNAME/MQTT_PASSWORD from the environment
  --tz ZONE             the zone the instrument writes local times in (EC-Lab's acquisition start, absolute exports):
                        IANA name (Europe/Berlin) or +02:00; default this PC's zone, or timeZone: in the configuration
  -c, --config FILE     configuration (YAML): watch, mqtt, cell mapping rules, stateFile, pollInterval_s, staleAfter_s
  --state FILE          the journal: offsets of the followed files and messages awaiting the broker
                        (default ./cyclewatch-bridge.journal)
  --print-config        print the configuration (password hidden) and exit

Example:
  npx cyclewatch bridge --watch "D:/EC-Lab/Data/**/*.mpr" --broker mqtt://lab-server:1883
`,
  demo: `cyclewatch demo — simulate, monitor and show a short fleet run on this machine, with no servers

Options:
  --out DIR             where the demo writes (default data/demo)

Example:
  npx cyclewatch demo
`,
  simulate: `cyclewatch simulate --scenario NAME --out FILE.csv — write a simulated run with its ground truth

Options:
  --scenario NAME[,…]   ${SCENARIO_NAMES.join(', ')}
  --out FILE.csv        the telemetry (beside it: FILE.cells.yaml and FILE.truth.json)
  --seed N              random seed
  --dt S                sampling interval in seconds
  --hours H             run length
  --start ISO           first sample time (default now minus the run length)

Example:
  npx cyclewatch simulate --scenario high-rate --out loop.csv   # the polarization/short loop
`,
};

/** `analyse` is `analyze`. */
function helpName(cmd: string): string {
  return cmd === 'analyse' ? 'analyze' : cmd;
}

/** The package's version: its package.json is two levels up from the sources, three from the build. */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cyclewatch' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

class UsageError extends Error {
  override name = 'UsageError';
}

function positive(v: number | undefined, flag: string, what: string): number | undefined {
  if (v !== undefined && !(v > 0)) throw new UsageError(`${flag} expects a positive number (${what}), got ${v}`);
  return v;
}

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v)) throw new UsageError(`${flag} expects a number, got "${value}"`);
  return v;
}

/** `--tz ZONE`: an IANA name or an offset, checked now (undefined: not given). */
function zoneOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTimeZone(value);
  } catch (e) {
    throw new UsageError(`--tz: ${(e as Error).message}`);
  }
}

/** `--start`: an ISO-8601 time; one without a zone (`2025-03-07T11:21:39`) is the lab's wall clock, read in `zone`. */
function startOption(value: string | undefined, zone: string): number | undefined {
  if (value === undefined) return undefined;
  const wall = parseLocalDateTime_ms(value.trim());
  const t = wall === wall ? localToUtc_ms(zone, wall) : parseTimestamp_ms(value);
  if (!Number.isFinite(t))
    throw new UsageError(`--start expects an ISO-8601 time of a real day (2025-03-07T11:21:39 in the lab's zone, or with Z or an offset), got "${value}"`);
  return t;
}

/**
 * A cell's result in one line: `c1: 5,481 samples over 45.1 h from 2023-11-09 14:03 CET (Europe/Berlin, option) ·
 * failure mode short after 25.10 h · …`. Times are hours since the cell's start; the start in the lab's zone.
 */
export function summaryLine(c: CellSummary): string {
  const start_ms = c.start === null ? NaN : Date.parse(c.start);
  const zone = c.timeZone ?? 'UTC';
  const dated = Number.isFinite(start_ms) && isAbsolute(start_ms);
  const source = c.configSources?.['timeZone'];
  const from = !Number.isFinite(start_ms)
    ? ''
    : dated
      ? ` from ${formatZoned(start_ms, zone)} (${zone}${source === undefined ? '' : `, ${source === 'machine' ? "this machine's zone" : source}`})`
      : ' (no start date in the data: times are hours since its start)';
  const symmetric = c.symmetric ? '' : ` · not a symmetric cell (${c.notSymmetricReason ?? 'no reason given'}): no regime calls`;
  return (
    `${c.cell}: ${c.samples.toLocaleString('en')} samples over ${c.duration_h.toFixed(1)} h${from}${symmetric}` +
    // A cell that is not symmetric has no failure mode or shorts to speak of: R_app = V/I means nothing there.
    (!c.symmetric
      ? ''
      : ` · failure mode ${c.failureMode}` +
        (c.failureModeOnset_h === null ? '' : ` from ${c.failureModeOnset_h.toFixed(2)} h`) +
        // The loop's (or the short's) onset is not the time to failure when the cell hit the limit long before.
        (c.timeToFailure_h === null || c.timeToFailure_h === c.failureModeOnset_h
          ? ''
          : ` · time to failure ${c.timeToFailure_h.toFixed(2)} h (first ${c.timeToFailureBasis})`) +
        ` · ${counted(c.shortCount, 'short')} (${c.isolatedShortCount} isolated)` +
        (c.softShortCount > 0 && c.firstSoftShort !== null && Number.isFinite(start_ms)
          ? ` · ${counted(c.softShortCount, 'soft short')} (first at ${labTime(Date.parse(c.firstSoftShort), start_ms, zone)})`
          : '')) +
    ` · ${counted(c.halfCycles, 'half cycle')}`
  );
}

/** `1 short`, `2 shorts`. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** The option of `options` nearest to `unknown`: one it is a prefix of (a missing unit suffix), else a typo's. */
export function nearestOption(unknown: string, options: readonly string[]): string | null {
  const bare = (o: string): string => o.replace(/^-+/, '');
  const u = bare(unknown);
  const names = options.map(bare);
  const prefixed = names.findIndex((name) => name.startsWith(u) || u.startsWith(name));
  if (prefixed >= 0) return options[prefixed]!;
  const near = closestId(u, names);
  return near === null ? null : options[names.indexOf(near)]!;
}

/** The share of a file's rows that may be rejected before the file is taken for misread (see --salvage). */
const MAX_REJECTED_SHARE = 0.05;

/** One line, rewritten in place on a terminal, one line per 10 s otherwise. */
function progressPrinter(): (p: AnalyzeProgress) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  const t0 = performance.now();
  return (p) => {
    const now = performance.now();
    if (now - last < (tty ? 500 : 10_000)) return;
    last = now;
    const pct = p.size_bytes > 0 ? ((100 * p.bytesRead) / p.size_bytes).toFixed(0) : '?';
    const rate = Math.round(p.samples / ((now - t0) / 1000));
    const line = `analyze: file ${p.fileIndex + 1}/${p.files} ${pct}% · ${p.samples.toLocaleString('en')} samples · ${rate.toLocaleString('en')}/s`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : line + '\n');
  };
}

const FIGURE_FLAGS = { png: { type: 'boolean' }, svg: { type: 'boolean' }, dpi: { type: 'string' }, width: { type: 'string' } } as const;

/** --png/--svg/--dpi/--width → what to export (undefined: no figures). */
function figureOptions(values: { png?: boolean; svg?: boolean; dpi?: string; width?: string }): FigureOptions | undefined {
  const dpi = num(values.dpi, '--dpi') ?? DEFAULT_FIGURE_OPTIONS.dpi;
  if (!(dpi >= 50 && dpi <= 1200)) throw new UsageError(`--dpi must be between 50 and 1200, got ${values.dpi}`);
  const formats: FigureFormat[] = [...(values.png ? ['png' as const] : []), ...(values.svg ? ['svg' as const] : [])];
  if (formats.length === 0) {
    if (values.dpi !== undefined) throw new UsageError('--dpi sets the PNG resolution: add --png');
    if (values.width !== undefined) throw new UsageError('--width sets the figure width: add --png or --svg');
    return undefined;
  }
  let width: FigureWidth = 'double';
  if (values.width === 'single' || values.width === 'double') width = values.width;
  else if (values.width !== undefined) {
    const mm = Number(values.width);
    if (!(mm >= 40 && mm <= 300)) throw new UsageError(`--width expects single, double or a width in mm between 40 and 300, got ${values.width}`);
    width = mm;
  }
  figureFont(); // no font: say so before the analysis, not after it
  return { formats, dpi, width };
}

const figuresWritten = (paths: readonly string[]): string =>
  paths.length === 0 ? '' : ` and ${paths.length} figures (${paths.filter((p) => /\.fig2\./.test(p)).join(', ')} and each panel)`;

async function cmdAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      cells: { type: 'string' },
      format: { type: 'string' },
      cell: { type: 'string' },
      'set-current-mA': { type: 'string' },
      start: { type: 'string' },
      tz: { type: 'string' },
      salvage: { type: 'boolean' },
      'area-cm2': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      'no-report': { type: 'boolean' },
      ...FIGURE_FLAGS,
    },
  });
  const timeZone = zoneOption(values.tz);
  const figures = figureOptions(values);
  if (positionals.length === 0) throw new UsageError('analyze needs at least one telemetry FILE');
  if (values.out === undefined) throw new UsageError('analyze needs --out DIR (where events.jsonl, segments.jsonl and summary.json go)');
  const format = values.format as TelemetryFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const start_ms = startOption(values.start, timeZone ?? machineTimeZone());
  const area = num(values['area-cm2'], '--area-cm2');
  const log = (m: string): void => {
    if (!values.quiet) process.stderr.write(`${m}\n`);
  };
  // The registry `simulate` writes beside its CSV (NAME.cells.yaml) is used when none is given.
  const beside = values.cells === undefined ? positionals.map((f) => registryPath(f)).filter((r, k) => r !== positionals[k] && existsSync(r)) : [];
  const registryFile = values.cells ?? beside[0];
  const registry = registryFile === undefined ? undefined : await loadRegistry(registryFile);
  if (values.cells === undefined && registryFile !== undefined) {
    log(
      `using the cell registry beside the data: ${registryFile}${beside.length > 1 ? ` (of ${beside.length} found; pass --cells to choose)` : ''} — pass --cells to use another`,
    );
  }
  if (registry === undefined) log('no --cells registry given: each cell is calibrated on its own data (see the assumptions below)');
  const t0 = performance.now();
  const result = await analyze({
    files: positionals,
    format,
    registry,
    assumed: area === undefined ? {} : { areaCm2: area },
    import: { cell: values.cell, setCurrent_mA: num(values['set-current-mA'], '--set-current-mA'), start_ms },
    timeZone,
    maxRejectedShare: values.salvage ? undefined : MAX_REJECTED_SHARE,
    outDir: values.out,
    series: !values['no-report'],
    log,
    progress: values.quiet ? undefined : progressPrinter(),
  });
  if (result.summaries.length === 0) {
    process.stderr.write(
      `cyclewatch: no usable sample in ${positionals.join(', ')}${result.rejections.total > 0 ? ` (all ${result.rejections.total} rejected: ${JSON.stringify(result.rejections.toJSON().byReason)})` : ''}\n`,
    );
    return 3;
  }
  // The progress line stops at the end of the data: say what the last seconds are spent on.
  if (!values['no-report'] && !values.quiet) {
    process.stderr.write(
      `${process.stderr.isTTY ? '\r\x1b[K' : ''}writing ${join(values.out, 'report.html')}${figures ? ` and the figures (${figures.formats.join(', ')})` : ''}…\n`,
    );
  }
  const report = values['no-report'] ? null : await writeReport(values.out, { figures });
  const s = (performance.now() - t0) / 1000;
  if (process.stderr.isTTY && !values.quiet) process.stderr.write('\r\x1b[K');
  for (const [path, basis] of result.timeColumns) if (basis !== 'dates') log(`${path}: ${describeTimeBasis(basis, start_ms !== undefined)}`);
  for (const c of result.summaries) log(summaryLine(c));
  if (result.rejections.total > 0) log(`rejected ${result.rejections.total} lines/samples: ${JSON.stringify(result.rejections.toJSON().byReason)}`);
  if (registry !== undefined) {
    const seen = result.summaries.map((c) => c.cell);
    const unused = [...registry.keys()].filter((id) => !seen.includes(id));
    for (const id of unused) {
      const near = closestId(id, seen);
      log(`warning: ${registryFile} lists cell "${id}", which the data never mention${near === null ? '' : ` (did you mean "${near}"?)`}`);
    }
  }
  log(
    `wrote ${join(values.out, 'events.jsonl')}, segments.jsonl, summary.json${result.impedanceBlocks.length > 0 ? `, impedance.jsonl and impedance.csv (${counted(result.impedanceBlocks.length, 'spectrum', 'spectra')})` : ''}${report === null ? '' : `, report.html (${(report.bytes / 1e6).toFixed(1)} MB)${figuresWritten(report.figures)}`} in ${s.toFixed(1)} s`,
  );
  return 0;
}

async function cmdReport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { tz: { type: 'string' }, ...FIGURE_FLAGS } });
  const timeZone = zoneOption(values.tz);
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError('report needs the DIR of an earlier `cyclewatch analyze --out DIR`');
  const figures = figureOptions(values);
  let r: Awaited<ReturnType<typeof writeReport>>;
  try {
    r = await writeReport(dir, { figures, timeZone });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        `${dir} holds no analysis (${(e as NodeJS.ErrnoException).path ?? 'summary.json'} is missing): run cyclewatch analyze … --out ${dir} first`,
      );
    throw e;
  }
  process.stderr.write(`wrote ${r.html} (${(r.bytes / 1e6).toFixed(1)} MB)${figuresWritten(r.figures)}\n`);
  return 0;
}

async function cmdSimulate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      dt: { type: 'string' },
      hours: { type: 'string' },
      start: { type: 'string' },
    },
  });
  if (values.scenario === undefined) throw new UsageError(`simulate needs --scenario (one of ${SCENARIO_NAMES.join(', ')})`);
  if (values.out === undefined) throw new UsageError('simulate needs --out FILE.csv');
  const scenarios = values.scenario.split(',').map((s) => s.trim());
  for (const s of scenarios) if (!(s in SCENARIOS)) throw new UsageError(`unknown scenario "${s}": choose from ${SCENARIO_NAMES.join(', ')}`);
  const dt = num(values.dt, '--dt');
  if (dt !== undefined && dt <= 0) throw new UsageError('--dt must be positive (seconds between samples)');
  const duration_h = positive(num(values.hours, '--hours'), '--hours', 'hours of the run');
  // By default the run ends now, so that dashboards opened on "the last days" show it.
  const start_ms =
    values.start !== undefined
      ? parseTimestamp_ms(values.start)
      : Date.now() - Math.max(...scenarios.map((s) => Math.min(duration_h ?? Infinity, SCENARIOS[s as keyof typeof SCENARIOS]!.duration_h))) * 3_600_000;
  if (!Number.isFinite(start_ms)) throw new UsageError(`--start expects an ISO-8601 time, got "${values.start}"`);
  const { rows } = await simulate({
    scenarios,
    out: values.out,
    seed: num(values.seed, '--seed'),
    dt_s: dt,
    duration_h,
    start_ms: Math.round(start_ms / 1000) * 1000,
    progress: (n) => process.stderr.write(`simulate: ${n.toLocaleString('en')} rows\n`),
  });
  process.stderr.write(
    `wrote ${rows.toLocaleString('en')} rows to ${values.out}, truth to ${truthPath(values.out)}, registry to ${registryPath(values.out)}\n`,
  );
  return 0;
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard expects i/n with 0 ≤ i < n, got "${text}"`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

const stamp = (m: string): string => `${new Date().toISOString()} ${m}`;

/** Resolves on SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function cmdRun(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, shard: { type: 'string' }, 'print-config': { type: 'boolean' } },
  });
  const config = loadRunConfig(values.config);
  const shard = parseShard(values.shard);
  if (shard !== undefined) config.shard = shard;
  const tty = process.stderr.isTTY === true;
  // On a terminal a log line first clears the status line drawn in place (see statusReporter).
  const log = (m: string): void => void process.stderr.write((tty ? '\r\x1b[K' : '') + stamp(m) + '\n');
  if (values['print-config']) {
    process.stdout.write(JSON.stringify(redactConfig(config), null, 2) + '\n');
    return 0;
  }
  if (values.config === undefined) log('no --config given: using the embedded defaults');
  const handle = await runMonitor(config, { log });
  log(
    `monitoring ${config.registry.size > 0 ? `${config.registry.size} registered cells` : 'every cell that publishes'} on ${handle.brokerUrl}; Ctrl-C to stop`,
  );
  // What to do next, for the first hour: where telemetry goes, one message to try, the demo.
  const prefix = config.mqtt.topicPrefix;
  const broker = new URL(handle.brokerUrl);
  log(`telemetry goes to ${prefix}/<cell>/ec (voltage_V, current_mA), ${prefix}/<cell>/pressure, ${prefix}/<cell>/temperature; try:`);
  log(
    `  mosquitto_pub -h ${broker.hostname} -p ${broker.port || 1883} -t '${prefix}/c1/ec' -m '{"t":"${new Date().toISOString()}","voltage_V":0.071,"current_mA":2.0}'`,
  );
  log('no cycler at hand? `npx cyclewatch demo` replays simulated cells through a monitor of its own');
  const status = statusReporter(handle, tty, log);
  const sig = await untilSignal();
  status.stop();
  log(`${sig}: flushing pending writes`);
  await handle.close();
  log(`stopped; ${handle.sink.stats.written} points written, ${handle.sink.stats.spooled} spooled, ${handle.sink.stats.dropped} dropped`);
  return 0;
}

async function cmdReplay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      broker: { type: 'string' },
      speed: { type: 'string', default: 'max' },
      'topic-prefix': { type: 'string', default: 'cells' },
      qos: { type: 'string', default: '1' },
      format: { type: 'string' },
      cell: { type: 'string' },
      'set-current-mA': { type: 'string' },
      start: { type: 'string' },
      tz: { type: 'string' },
      retime: { type: 'string' },
    },
  });
  const timeZone = zoneOption(values.tz) ?? machineTimeZone();
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
  process.stderr.write(
    `replay: local times in the files (EC-Lab's acquisition start, dates without a zone) are read in ${timeZone} (${values.tz === undefined ? "this machine's zone; --tz to set it" : '--tz'})\n`,
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
    import: { cell: values.cell, setCurrent_mA: num(values['set-current-mA'], '--set-current-mA'), start_ms, timeZone },
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

async function cmdBridge(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      watch: { type: 'string', multiple: true },
      broker: { type: 'string' },
      state: { type: 'string' },
      tz: { type: 'string' },
      'print-config': { type: 'boolean' },
    },
  });
  if (values.config === undefined && (values.watch ?? []).length === 0) throw new UsageError('bridge needs --watch GLOB (or a --config file with watch:)');
  const timeZone = zoneOption(values.tz);
  const config = loadBridgeConfig(values.config, { watch: values.watch, url: values.broker, stateFile: values.state, timeZone });
  if (values['print-config']) {
    const mqtt = { ...config.mqtt, url: redactUrl(config.mqtt.url), password: config.mqtt.password === undefined ? undefined : '***' };
    process.stdout.write(JSON.stringify({ ...config, mqtt }, null, 2) + '\n');
    return 0;
  }
  const log = (m: string): void => void process.stderr.write(stamp(m) + '\n');
  const handle = await runBridge(config, { log, timeZoneFromOption: timeZone !== undefined });
  log(
    `bridge: publishing to ${redactUrl(config.mqtt.url)} under ${config.mqtt.topicPrefix}/<cell>/…; /metrics on http://${config.http.host}:${handle.httpPort}; Ctrl-C to stop`,
  );
  const sig = await untilSignal();
  log(`${sig}: finishing the current step`);
  await handle.close();
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', default: join('data', 'demo') } } });
  const dir = values.out;
  const tty = process.stderr.isTTY === true;
  const block = new StatusBlock(tty, (t) => void process.stderr.write(t));
  const zone = machineTimeZone();
  const log = (m: string): void => block.above(m);
  const csv = join(dir, 'demo.csv');
  log("demo: simulating the paper's runs (high rate, very high rate, CCD ramp)…");
  await simulate({ scenarios: ['high-rate', 'very-high-rate', 'ccd'], out: csv, dt_s: 10, duration_h: 120 });
  const config = parseRunConfig(
    `dataDir: ${JSON.stringify(dir)}\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\ncellsFile: ${JSON.stringify(registryPath(csv).split('/').pop())}\nmqtt: { clientId: cyclewatch-demo }\n`,
    join(dir, 'demo.yaml'),
  );
  const handle = await runMonitor(config, { log: (m) => log(`monitor: ${m}`) });
  const status = setInterval(() => {
    const lines = [...handle.cells].map(
      ([cell, c]) =>
        `${cell.padEnd(16)} ${c.regime.padEnd(13)} ${formatZoned(c.last_ms, zone).padEnd(20)}  ${String(c.samples).padStart(7)}  ${String(c.alerts).padStart(6)}`,
    );
    block.draw([`${'cell'.padEnd(16)} ${'regime'.padEnd(13)} ${'last sample'.padEnd(20)}  ${'samples'.padStart(7)}  ${'alerts'.padStart(6)}`, ...lines]);
  }, 1000);
  const r = await replay({ files: [csv], brokerUrl: handle.brokerUrl, speed: 'max', topicPrefix: 'cells', qos: 1, maxInFlight: 1000, log });
  const target = r.published;
  while (
    handle.metrics.value('cyclewatch_messages_in_total') + handle.metrics.value('cyclewatch_messages_rejected_total', { reason: 'duplicate' }) <
    target * 0.999
  )
    await new Promise((res) => setTimeout(res, 200));
  await new Promise((res) => setTimeout(res, 1000));
  clearInterval(status);
  await handle.close();
  block.done();
  log(`demo: replayed ${target.toLocaleString('en')} messages through the monitor.`);
  log(`demo: wrote ${join(dir, 'events.jsonl')} (regime changes, half cycles, alerts) and ${join(dir, 'lines')}/*.lp (InfluxDB line protocol)`);
  log(`demo: analyse the same run offline with: npx cyclewatch analyze ${csv} --cells ${registryPath(csv)} --out ${join(dir, 'analysis')}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rawRest] = argv;
  const rest = negativeValues(rawRest);
  try {
    if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
      process.stdout.write(`cyclewatch ${await version()}\n`);
      return 0;
    }
    if (cmd !== undefined && COMMAND_HELP[helpName(cmd)] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      process.stdout.write(COMMAND_HELP[helpName(cmd)]!);
      return 0;
    }
    switch (cmd) {
      case 'analyze':
      case 'analyse':
        return await cmdAnalyze(rest);
      case 'simulate':
        return await cmdSimulate(rest);
      case 'run':
        return await cmdRun(rest);
      case 'replay':
        return await cmdReplay(rest);
      case 'demo':
        return await cmdDemo(rest);
      case 'bridge':
        return await cmdBridge(rest);
      case 'report':
        return await cmdReport(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
      const help = cmd === undefined ? undefined : COMMAND_HELP[helpName(cmd)];
      const hint = help !== undefined ? `cyclewatch ${helpName(cmd!)} --help` : 'cyclewatch help';
      let message = (e as Error).message;
      const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /Unknown option '([^']+)'/.exec(message)?.[1] : undefined;
      if (unknown !== undefined) {
        // Node's own message suggests `-- "--area"`, with an unbalanced quote; the option meant is more useful.
        const nearest = nearestOption(unknown, help?.match(/--[a-z][a-z0-9-]*/gi) ?? []);
        message = `unknown option ${unknown}${nearest === null ? '' : ` (did you mean ${nearest}?)`}`;
      }
      process.stderr.write(`cyclewatch: ${message}\n(${hint} lists the options)\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof ImportError || e instanceof JournalError || e instanceof FigureFontError || e instanceof RejectedRowsError) {
      process.stderr.write(`cyclewatch: ${(e as Error).message}\n`);
      return 2;
    }
    const line = systemErrorLine(e as NodeJS.ErrnoException);
    if (line !== null) {
      process.stderr.write(`cyclewatch: ${line}\n`);
      return 1;
    }
    throw e;
  }
}

/** One line a person can act on for the system errors a lab meets (busy port, no broker, unwritable folder). */
export function systemErrorLine(e: NodeJS.ErrnoException & { address?: string; port?: number }): string | null {
  const where = e.address === undefined ? (e.path ?? '') : `${e.address}${e.port === undefined ? '' : `:${e.port}`}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use (EADDRINUSE): another cyclewatch or broker runs there; set embeddedBroker.port, http.port, or mqtt.url to use that broker`;
    case 'ECONNREFUSED':
      return `nothing answers at ${where} (ECONNREFUSED): is the broker running, and is --broker / mqtt.url right?`;
    case 'ENOTFOUND':
      return `the host of ${(e as { hostname?: string }).hostname ?? where} is unknown (ENOTFOUND): check the URL`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ENOSPC':
      return `cannot write ${where} (${e.code}): choose a folder you can write to`;
    case 'ENOENT':
      return `${where} does not exist (ENOENT)`;
    default:
      return null;
  }
}

/** `--speed -1`: a negative number after a flag is its value, not another flag. */
function negativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * A status line while the monitor runs: cells by regime, messages per second over the last minute, alerts. On a
 * terminal, one line redrawn every 2 s; in a log, a line a minute (and none while nothing arrives).
 */
function statusReporter(handle: Awaited<ReturnType<typeof runMonitor>>, tty: boolean, log: (m: string) => void): { stop(): void } {
  const rate = new SlidingRate(60_000);
  let lastCount = handle.metrics.value('cyclewatch_messages_in_total');
  rate.add(performance.now(), lastCount);
  const timer = setInterval(
    () => {
      const count = handle.metrics.value('cyclewatch_messages_in_total');
      const quiet = count === lastCount;
      lastCount = count;
      const line = statusLine(handle.cells.values(), rate.add(performance.now(), count));
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (!quiet) log(line);
    },
    tty ? 2000 : 60_000,
  );
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
