/** What `cyclewatch help` and `cyclewatch COMMAND --help` print: the usage, each command's options and an example. */
import { FORMATS } from '../io/instruments/importers.js';
import { SCENARIO_NAMES } from '../sim/scenarios.js';

export const USAGE = `cyclewatch — monitor long-duration battery cycling tests

Usage:
  cyclewatch analyze FILE… --out DIR [--cells cells.yaml] [--format ${FORMATS.join('|')}]
                     [--cell ID] [--columns SPEC] [--set-current-mA I] [--start ISO] [--tz ZONE] [--area-cm2 A] [--salvage] [--no-report]
                     [--png] [--svg] [--dpi N] [--width W] [-q]
  cyclewatch report DIR [--tz ZONE] [--png] [--svg] [--dpi N] [--width W]
  cyclewatch run [--config cyclewatch.yaml] [--shard i/n] [--print-config]
  cyclewatch replay FILE… --broker URL [--cells cells.yaml] [--speed N|max] [--retime now|ISO] [--tz ZONE] [--topic-prefix cells] [--qos 0|1|2]
  cyclewatch bridge --watch 'DIR/**/*.mpr' [--broker URL] [--tz ZONE] [--config bridge.yaml] [--state FILE]
  cyclewatch demo [--out DIR]
  cyclewatch simulate --scenario NAME[,NAME…] --out FILE.csv [--seed N] [--dt S] [--hours H] [--start ISO]
  cyclewatch help | --version
  cyclewatch COMMAND --help      the command's options, with an example

Scenarios: ${SCENARIO_NAMES.join(', ')}
`;
/** Each command's options and an example, for `cyclewatch COMMAND --help`. */
export const COMMAND_HELP: Record<string, string> = {
  analyze: `cyclewatch analyze FILE… --out DIR — detect regimes in recorded telemetry (EC-Lab .mpr/.mpt, Neware .nda/.ndax, Arbin .res, CSV/TSV/.xlsx
exports of any cycler, JSON Lines captures)

Options:
  --out DIR             where events.jsonl, segments.jsonl, summary.json and report.html go (required)
  --cells FILE          cell registry (YAML); cells it does not list are calibrated on their own data
  --format F            ${FORMATS.join('|')} (sniffed from the content by default)
  --cell ID             cell id for single-cell files (default: the file name)
  --columns SPEC        a table's columns, where its headers are not recognised: time=NAME,voltage=NAME,current=NAME
                        [,cell=…,temperature=…,pressure=…] (units from the header: Current(A), Voltage [mV], time/min)
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
  --cells FILE          cell registry (YAML): a file's cell entry gives its table's columns, set current and timeZone
                        where the flags do not
  --format, --cell, --columns, --set-current-mA, --start, --tz   as for analyze

Example:
  npx cyclewatch replay run.csv --broker mqtt://127.0.0.1:1883 --speed 3600
`,
  bridge: `cyclewatch bridge — on the cycler PC: follow the files the cycler writes (EC-Lab .mpr/.mpt, Neware .nda/.ndax, Arbin .res,
CSV/TSV/.xlsx exports) and publish every new row to MQTT

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
export function helpName(cmd: string): string {
  return cmd === 'analyse' ? 'analyze' : cmd;
}
/** The package's version: its package.json is two levels up from the sources, three from the build. */
export async function version(): Promise<string> {
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
