/** The built command line, as a user runs it (`npm ci` builds it through `prepare`). */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/io/mqtt/client.js';
import { which } from '../integration/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin/cyclewatch.js');
const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-cli-'));
/**
 * A command's exit status and output. Asynchronous: a test worker blocked in spawnSync for long (the demo, on a busy
 * machine) misses vitest's own 60 s heartbeat, which fails the whole run.
 */
function run(
  args: string[],
  timeout_ms = 300_000,
  env: Record<string, string> = {},
  cwd = dir,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const c = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeout_ms);
    c.once('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}
const cw = (...args: string[]) => run([bin, ...args]);

beforeAll(async () => {
  await new Promise<void>((resolvePromise, reject) =>
    execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }, (e) => (e === null ? resolvePromise() : reject(e))),
  );
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cyclewatch simulate + analyze', () => {
  it('writes SPEC §5 events.jsonl, segments.jsonl and summary.json', async () => {
    const sim = await cw('simulate', '--scenario', 'very-high-rate', '--out', 'vhr.csv', '--hours', '20', '--start', '2026-01-01T00:00:00Z');
    expect(sim.status).toBe(0);
    const r = await cw('analyze', 'vhr.csv', '--cells', 'vhr.cells.yaml', '--out', 'out');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/very-high-rate: .* failure mode short/);
    expect(r.stderr).toMatch(/^writing out\/report\.html…$/m);
    const events = readFileSync(join(dir, 'out/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const times = events.map((e) => Date.parse(e.detectedAt ?? e.end ?? e.t));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const regime = events.find((e) => e.type === 'regime');
    expect(Object.keys(regime)).toEqual(['type', 'cell', 'regime', 'onset', 'detectedAt', 'elapsed_h']);
    // Hours since the cell's start, beside the UTC times.
    const cellStart = Date.parse(JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8')).cells[regime.cell].start);
    expect(regime.elapsed_h).toBeCloseTo((Date.parse(regime.onset) - cellStart) / 3.6e6, 5);
    const hc = events.find((e) => e.type === 'half-cycle');
    for (const k of [
      'index',
      'start',
      'end',
      'current_mA',
      'charge_mAh_cm2',
      'peakAbsVoltage_V',
      'rRatioPeak',
      'contactFractionMin',
      'jLocalPeak_mA_cm2',
      'cutByCompliance',
    ])
      expect(hc).toHaveProperty(k);
    const alert = events.find((e) => e.type === 'alert');
    for (const k of ['cell', 't', 'severity', 'code', 'message']) expect(alert).toHaveProperty(k);

    const segments = readFileSync(join(dir, 'out/segments.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Contiguous from the first to the last sample.
    for (let k = 1; k < segments.length; k++) expect(segments[k].start).toBe(segments[k - 1].end);
    expect(segments[0].start).toBe('2026-01-01T00:00:00.000Z');
    expect(segments.map((s: { regime: string }) => s.regime)).toContain('isolated-short');

    const summary = JSON.parse(readFileSync(join(dir, 'out/summary.json'), 'utf8'));
    const cell = summary.cells['very-high-rate'];
    for (const k of [
      'failureMode',
      'timeToFailure_h',
      'regimeDurations_h',
      'shortCount',
      'isolatedShortCount',
      'cumulativeCapacity_mAh_cm2',
      'minContactFraction',
      'peakJLocal_mA_cm2',
      'peakJLocalIsLowerBound',
      'ccd_mA_cm2',
    ]) {
      expect(cell).toHaveProperty(k);
    }
  });

  it('takes the registry simulate wrote beside the data and says so; warns what it assumes when there is none', async () => {
    await cw('simulate', '--scenario', 'ccd', '--out', 'ccd.csv');
    const beside = await cw('analyze', 'ccd.csv', '--out', 'out-ccd-registry');
    expect(beside.status).toBe(0);
    expect(beside.stderr).toMatch(/using the cell registry beside the data: ccd\.cells\.yaml — pass --cells to use another/);
    expect(beside.stderr).not.toMatch(/not in the registry/);
    copyFileSync(join(dir, 'ccd.csv'), join(dir, 'plain.csv'));
    const r = await cw('analyze', 'plain.csv', '--out', 'out-ccd');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/cell "ccd" is not in the registry: assuming area 1 cm²/);
    expect(r.stderr).toMatch(/pass --cells cells\.yaml to set them/);
  });

  it('replay: progress with the share of the data, rate and time left; Ctrl-C ends it cleanly with the count', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0);
    let received = 0;
    broker.aedes.on('publish', (packet) => {
      if (packet.topic.startsWith('cells/')) received++;
    });
    try {
      // 100 h at 10 s per row, at 20,000× real time: about 18 s of publishing.
      expect((await cw('simulate', '--scenario', 'long-term', '--hours', '100', '--dt', '10', '--out', 'long.csv')).status).toBe(0);
      const child = spawn(process.execPath, [bin, 'replay', 'long.csv', '--broker', broker.url, '--speed', '20000'], { cwd: dir });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const t0 = Date.now();
      while (!/replay: [\d,]+ messages published, [\d.]+ % of the data, [\d,]+\/s, about .+ left/.test(err) && Date.now() - t0 < 60_000) await sleep(100);
      expect(err).toMatch(/% of the data/);
      expect(child.exitCode, 'still publishing when interrupted').toBeNull();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const stopped = /replay: stopped \(Ctrl-C\) after ([\d,]+) messages/.exec(err);
      expect(stopped, err).not.toBeNull();
      const count = Number(stopped![1]!.replaceAll(',', ''));
      expect(count).toBeGreaterThan(0);
      // Every message it counts reached the broker (QoS 1, completed before it exits), and it stopped early.
      expect(received).toBe(count);
      expect(count).toBeLessThan(readFileSync(join(dir, 'long.csv'), 'utf8').trim().split('\n').length - 1);
    } finally {
      await broker.close();
    }
  }, 90_000);

  it.skipIf(which('script') === null)(
    'demo on a terminal: alerts print above the status block, which is redrawn whole, with a header',
    async () => {
      // A pseudo-terminal (util-linux `script`), and the screen rebuilt from what was written to it.
      const out = await new Promise<string>((resolvePromise) => {
        const c = spawn('script', ['-qfec', `${process.execPath} ${bin} demo --out demo-tty`, '/dev/null'], {
          cwd: dir,
          env: { ...process.env, TERM: 'xterm' },
        });
        let text = '';
        c.stdout.on('data', (d: Buffer) => (text += d.toString()));
        c.once('close', () => resolvePromise(text));
      });
      const screen = terminalScreen(out);
      const known = [
        /^demo: /,
        /^monitor: /,
        /^replay: /,
        /^cell\s+regime\s+last sample\s+samples\s+alerts$/,
        /^(high-rate|very-high-rate|ccd)\s+[a-z-]+\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+\d+\s+\d+$/,
        /^$/,
      ];
      const garbled = screen.filter((l) => !known.some((k) => k.test(l.trimEnd())));
      expect(garbled, screen.join('\n')).toEqual([]);
      expect(screen.filter((l) => l.startsWith('monitor: ')).length, 'alerts on screen').toBeGreaterThan(0);
      // One block left on screen: its header and a line per cell, just before the closing lines.
      expect(screen.filter((l) => /^cell\s+regime/.test(l))).toHaveLength(1);
      const header = screen.findIndex((l) => /^cell\s+regime/.test(l));
      expect(
        screen
          .slice(header + 1, header + 4)
          .map((l) => l.split(/\s+/)[0])
          .sort(),
      ).toEqual(['ccd', 'high-rate', 'very-high-rate']);
    },
    120_000,
  );

  it('run: says where telemetry goes, with a mosquitto_pub example that works as printed, and the demo', async () => {
    writeFileSync(join(dir, 'embedded.yaml'), `dataDir: "${join(dir, 'run-data')}"\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\n`);
    const child = spawn(process.execPath, [bin, 'run', '--config', 'embedded.yaml'], { cwd: dir });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!err.includes('npx cyclewatch demo') && Date.now() - t0 < 30_000) await sleep(100);
    expect(err).toMatch(/telemetry goes to cells\/<cell>\/ec \(voltage_V, current_mA\)/);
    const example = /mosquitto_pub -h (\S+) -p (\d+) -t '([^']+)' -m '([^']+)'/.exec(err);
    expect(example, err).not.toBeNull();
    const [, host, port, topic, payload] = example!;
    const client = mqtt.connect(`mqtt://${host}:${port}`, { protocolVersion: 4 });
    await new Promise((r) => client.once('connect', r));
    await client.publishAsync(topic!, payload!, { qos: 1 });
    await client.endAsync();
    await sleep(500);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The example's message was taken as a sample of cell c1: one telemetry point written.
    const lines = readdirSync(join(dir, 'run-data', 'lines')).flatMap((f) => readFileSync(join(dir, 'run-data', 'lines', f), 'utf8').split('\n'));
    expect(lines.filter((l) => l.startsWith('telemetry,cell=c1 voltage_V=0.071,current_mA=2 '))).toHaveLength(1);
  }, 60_000);

  it('names the registered ids the data never mention, with a "did you mean"', async () => {
    writeFileSync(join(dir, 'typo.yaml'), 'cells:\n  - id: cdd\n    areaCm2: 1\n    thicknessCm: 0.1\n');
    const r = await cw('analyze', 'plain.csv', '--cells', 'typo.yaml', '--out', 'out-typo');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/cell "ccd" is not in the registry: .*the registry lists 1 other cell: did you mean "cdd"\?/);
    expect(r.stderr).toMatch(/warning: typo\.yaml lists cell "cdd", which the data never mention \(did you mean "ccd"\?\)/);
    expect(r.stderr).not.toMatch(/pass --cells/);
  });

  it('names the registry key at fault and exits 2', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'cells:\n  - id: c1\n    areaCm2: "big"\n  - id: c2\n    sigmaSPerCm: 0.007\n');
    const r = await cw('analyze', 'ccd.csv', '--cells', 'bad.yaml', '--out', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cells\.0\.areaCm2: .*number/);
    expect(r.stderr).toMatch(/cells\.1\.thicknessCm: sigmaSPerCm needs thicknessCm/);
  });

  it('demo: embedded broker, simulated runs replayed through the monitor, one status line per cell, the paths at the end', async () => {
    const r = await cw('demo', '--out', 'demo');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^high-rate\s+(stable|polarization|short)/m);
    expect(r.stderr).toMatch(/^ccd\s+short/m);
    expect(r.stderr).toMatch(/demo: wrote .*events\.jsonl/);
    const regimes = readFileSync(join(dir, 'demo/events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; cell: string; regime?: string })
      .filter((e) => e.type === 'regime');
    expect(regimes.some((e) => e.cell === 'high-rate' && e.regime === 'isolated-short')).toBe(true);
  }, 120_000);

  it('answers --help for every command with its options and an example, and --version', async () => {
    for (const cmd of ['analyze', 'report', 'run', 'replay', 'bridge', 'demo', 'simulate']) {
      const r = await cw(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^cyclewatch ${cmd}`));
      expect(r.stdout, cmd).toMatch(/Options:[\s\S]*Example:\n {2}npx cyclewatch /);
    }
    expect((await cw('analyze', '--help')).stdout).toMatch(/-q, --quiet/);
    expect((await cw('analyse', '--help')).stdout).toMatch(/^cyclewatch analyze/);
    const v = await cw('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^cyclewatch \d+\.\d+\.\d+$/);
    // An error in a command's options points at that command's help.
    expect((await cw('analyze', '--bogus')).stderr).toMatch(/\(cyclewatch analyze --help lists the options\)/);
  });

  it("runs every command's --help example as printed (the lab's broker and folder swapped for this machine's)", async () => {
    const examples = new Map<string, string[]>();
    for (const cmd of ['analyze', 'report', 'run', 'replay', 'bridge', 'demo', 'simulate']) {
      const line = /Example:\n {2}npx cyclewatch ([^\n#]+)/.exec((await cw(cmd, '--help')).stdout)?.[1];
      expect(line, cmd).toBeDefined();
      // Words as a shell splits them: a quoted glob is one word, without its quotes.
      examples.set(
        cmd,
        [...line!.trim().matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!),
      );
    }
    const ex = (cmd: string, swap: Record<string, string> = {}): string[] => examples.get(cmd)!.map((w) => swap[w] ?? w);
    const base = join(dir, 'examples');
    const inBase = (args: string[], timeout_ms = 300_000) => run([bin, ...args], timeout_ms, {}, base);

    // The files the examples name: a cycler's cell7.mpr (a simulated loop written as EC-Lab does), its registry, a
    // recorded run.csv; and the configuration `run` is given (the embedded broker on a free port).
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(base, 'EC-Lab/Data'), { recursive: true });
    const { simulate } = await import('../../pipelines/simulate.js');
    const { openTelemetry } = await import('../../src/io/instruments/importers.js');
    const { RejectionLog } = await import('../../src/io/instruments/rejections.js');
    const { writeMpr } = await import('../../src/sim/ecLab.js');
    await simulate({ scenarios: ['very-high-rate'], out: join(base, 'sim.csv'), dt_s: 10, duration_h: 30, seed: 3 });
    const rows: { t_s: number; voltage_V: number; current_mA: number }[] = [];
    let start_ms: number | null = null;
    for await (const b of (await openTelemetry(join(base, 'sim.csv'), new RejectionLog())).batches)
      for (const x of b) {
        if (x.voltage_V === undefined || x.current_mA === undefined) continue;
        start_ms ??= x.t_ms;
        rows.push({ t_s: (x.t_ms - start_ms) / 1000, voltage_V: x.voltage_V, current_mA: x.current_mA });
      }
    await writeMpr(join(base, 'cell7.mpr'), { start_ms: start_ms!, areaCm2: 0.5, limit_V: 8, channel: 7 }, rows);
    writeFileSync(join(base, 'cells.yaml'), 'cells:\n  - id: cell7\n    areaCm2: 0.5\n    thicknessCm: 0.1\n');
    await simulate({ scenarios: ['control'], out: join(base, 'run.csv'), dt_s: 10, duration_h: 2, seed: 3 });
    writeFileSync(join(base, 'cyclewatch.yaml'), 'dataDir: "monitor"\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\n');

    // analyze, then report on its folder.
    const analyzed = await inBase(ex('analyze'));
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(base, 'results/summary.json'), 'utf8')) as { cells: Record<string, { areaCm2: number; failureMode: string }> };
    expect(summary.cells['cell7']).toMatchObject({ areaCm2: 0.5, failureMode: 'short-loop' });
    const reported = await inBase(ex('report'));
    expect(reported.status, reported.stderr).toBe(0);
    for (const f of ['report.html', 'cell7.fig2.png', 'cell7.fig2.svg', 'cell7.fig2.txt']) expect(readdirSync(join(base, 'results')), f).toContain(f);

    // run, with replay and bridge publishing to it.
    const monitor = spawn(process.execPath, [bin, ...ex('run')], { cwd: base });
    let monitorLog = '';
    monitor.stderr.on('data', (d: Buffer) => (monitorLog += d.toString()));
    const monitorExit = new Promise<number | null>((r) => monitor.once('exit', (code) => r(code)));
    try {
      const t0 = Date.now();
      while (!/mosquitto_pub -h \S+ -p \d+/.test(monitorLog) && Date.now() - t0 < 30_000) await sleep(100);
      const [, host, port] = /mosquitto_pub -h (\S+) -p (\d+)/.exec(monitorLog)!;
      const broker = `mqtt://${host}:${port}`;
      const replayed = await inBase(ex('replay', { 'mqtt://127.0.0.1:1883': broker }), 120_000);
      expect(replayed.status, replayed.stderr).toBe(0);
      // 2 h at 3600×: paced over 2 s at least (longer on a busy machine).
      const [, count, seconds] = /replay: published (\d+) messages in (\d+\.\d) s/.exec(replayed.stderr)!;
      expect(Number(count)).toBeGreaterThan(700);
      expect(Number(seconds)).toBeGreaterThanOrEqual(1.9);
      const bridge = spawn(
        process.execPath,
        [bin, ...ex('bridge', { 'D:/EC-Lab/Data/**/*.mpr': `${base}/EC-Lab/Data/**/*.mpr`, 'mqtt://lab-server:1883': broker })],
        {
          cwd: base,
        },
      );
      let bridgeLog = '';
      bridge.stderr.on('data', (d: Buffer) => (bridgeLog += d.toString()));
      const bridgeExit = new Promise<number | null>((r) => bridge.once('exit', (code) => r(code)));
      await sleep(1000);
      copyFileSync(join(base, 'cell7.mpr'), join(base, 'EC-Lab/Data/cell7.mpr'));
      const written = (): string[] => readdirSync(join(base, 'monitor/lines')).flatMap((f) => readFileSync(join(base, 'monitor/lines', f), 'utf8').split('\n'));
      const t1 = Date.now();
      // The simulator's duplicated rows are written once.
      const distinct = new Set(rows.map((r) => r.t_s)).size;
      while (written().filter((l) => l.startsWith('telemetry,cell=cell7 ')).length < distinct && Date.now() - t1 < 60_000) await sleep(250);
      bridge.kill('SIGTERM');
      expect(await bridgeExit, bridgeLog).toBe(0);
      // Every row of the file the bridge found, and the replayed run's, reached the monitor.
      expect(written().filter((l) => l.startsWith('telemetry,cell=cell7 ')).length, bridgeLog).toBe(distinct);
      expect(written().filter((l) => l.startsWith('telemetry,cell=control ')).length).toBeGreaterThan(700);
    } finally {
      monitor.kill('SIGTERM');
    }
    expect(await monitorExit, monitorLog).toBe(0);

    // demo (a folder of its own by default) and simulate, as printed.
    const demo = await inBase(ex('demo'));
    expect(demo.status, demo.stderr).toBe(0);
    expect(readdirSync(join(base, 'data/demo'))).toContain('events.jsonl');
    const simulated = await inBase(ex('simulate'));
    expect(simulated.status, simulated.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(base, 'loop.truth.json'), 'utf8')) as { failureMode: string }[];
    expect(truth[0]!.failureMode).toBe('short-loop');
  }, 600_000);

  it('explains usage errors instead of crashing', async () => {
    expect((await cw('analyze', 'ccd.csv')).stderr).toMatch(/needs --out DIR/);
    expect((await cw('simulate', '--scenario', 'nope', '--out', 'a.csv')).stderr).toMatch(/unknown scenario "nope": choose from/);
    expect((await cw('analyze', 'missing.csv', '--out', 'x')).stderr).toMatch(/missing.csv: cannot read the file/);
    expect((await cw('frobnicate')).status).toBe(2);
  });

  it('answers each failure a lab meets with one clear line and an exit code, never a stack trace', async () => {
    const oneLine = (r: Awaited<ReturnType<typeof cw>>, pattern: RegExp, status: number): void => {
      expect(r.status).toBe(status);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    };
    oneLine(await cw('replay', 'x.csv', '--broker', 'mqtt://127.0.0.1:1', '--speed', '-1'), /--speed expects a positive multiple/, 2);
    oneLine(await cw('simulate', '--scenario', 'ccd', '--out', 'a.csv', '--hours', '-5'), /--hours expects a positive number/, 2);
    oneLine(await cw('analyze', 'x.csv', '--out', 'o', '--start', '2026-02-30T00:00:00Z'), /--start expects an ISO-8601 time of a real day/, 2);
    oneLine(await cw('analyze', '--bogus'), /unknown option --bogus$/m, 2);
    oneLine(await cw('analyze', 'x.mpr', '--area', '0.5', '--out', 'o'), /unknown option --area \(did you mean --area-cm2\?\)/, 2);
    writeFileSync(join(dir, 'protocol.mps'), 'EC-LAB SETTING FILE\r\n\r\nNumber of linked techniques : 4\r\n');
    oneLine(await cw('analyze', 'protocol.mps', '--out', 'o', '-q'), /protocol\.mps: is an EC-Lab settings file .*pass the data file of the same run/, 2);
    oneLine(await cw('analyze', '.', '--out', 'o', '-q'), /is a folder: pass a file, or a glob/, 2);
    oneLine(await cw('report', 'o', '--dpi', '300'), /--dpi sets the PNG resolution: add --png/, 2);
    oneLine(await cw('report', 'o', '--png', '--dpi', '5000'), /--dpi must be between 50 and 1200/, 2);
    // A font that is not there: said before any work, in one line.
    const noFont = await run([bin, 'analyze', 'x.csv', '--out', 'o', '--svg'], 20_000, { CYCLEWATCH_FIGURE_FONT: join(dir, 'missing.ttf') });
    oneLine(noFont, /the figure font .*missing\.ttf does not exist \(CYCLEWATCH_FIGURE_FONT\)/, 2);
    writeFileSync(join(dir, 'cycle.yaml'), 'a: &a [*a]\n');
    oneLine(await cw('run', '--config', 'cycle.yaml'), /a YAML alias refers to itself/, 2);
    writeFileSync(join(dir, 'all-bad.csv'), 'timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C\nxx,c1,1,1,,\n9999-99-99,c1,1,1,,\n');
    oneLine(await cw('analyze', 'all-bad.csv', '--out', 'bad-out', '-q'), /no usable sample in all-bad.csv \(all 2 rejected/, 3);
    writeFileSync(join(dir, 'a-file'), 'x');
    oneLine(await cw('analyze', 'all-bad.csv', '--out', 'a-file/out', '-q'), /cannot write .*a-file\/out \(ENOTDIR\)/, 1);
    const r = await run([bin, 'replay', 'all-bad.csv', '--broker', 'mqtt://127.0.0.1:1'], 20_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nothing answers at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });

  it('says so in one line when the embedded broker port is taken, and exits instead of hanging', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    writeFileSync(join(dir, 'busy.yaml'), `embeddedBroker: { port: ${port} }\ndataDir: busy-data\nhttp: { port: 0 }\n`);
    const r = await run([bin, 'run', '--config', 'busy.yaml'], 20_000);
    blocker.close();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use \\(EADDRINUSE\\).*embeddedBroker\\.port`));
  });

  it('never shows a password given inside a broker URL, in the log or in --print-config', async () => {
    writeFileSync(join(dir, 'url-secret.yaml'), 'mqtt: { url: "mqtt://lab:pa55-in-url@127.0.0.1:1" }\ndataDir: s-data\nhttp: { port: 0 }\n');
    const r = await cw('run', '--config', 'url-secret.yaml', '--print-config');
    expect(r.stdout + r.stderr).toMatch(/mqtt:\/\/lab:\*\*\*@127\.0\.0\.1:1/);
    expect(r.stdout + r.stderr).not.toMatch(/pa55-in-url/);
  });
});

/** The lines a terminal shows after `text` (cursor up, carriage return, clear to end of line/screen; no scrolling limit). */
function terminalScreen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string): void => {
    const l = lines[row]!.padEnd(col);
    lines[row] = l.slice(0, col) + ch + l.slice(col + 1);
    col++;
  };
  for (let k = 0; k < text.length; k++) {
    const ch = text[k]!;
    if (ch === '\x1b' && text[k + 1] === '[') {
      // The escape itself was matched above: the sequence's parameters from after "ESC [".
      const m = /^(\d*)([A-Za-z])/.exec(text.slice(k + 2))!;
      const n = m[1] === '' ? 1 : Number(m[1]);
      if (m[2] === 'A') row = Math.max(0, row - n);
      else if (m[2] === 'K') lines[row] = lines[row]!.slice(0, col);
      else if (m[2] === 'J') {
        lines[row] = lines[row]!.slice(0, col);
        lines.length = row + 1;
      }
      k += m[0].length + 1;
    } else if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      if (lines[row] === undefined) lines[row] = '';
    } else put(ch);
  }
  return lines;
}
