/**
 * Time as the lab keeps it, through the built command line: instrument local time read in the lab's zone, DST, files
 * without a start date, numeric time columns, and files mostly rejected.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { zoneOffset_ms } from '../../src/domain/labTime.js';
import { loadReportInput } from '../../src/report/html.js';
import { voltageOption } from '../../src/report/charts.js';
import { figure2 } from '../../src/report/figure2.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin/cyclewatch.js');
const real = resolve(root, '../shared/data/real');
const fixtures = join(root, 'test/fixtures/real');
const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-time-'));

function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.stdout.resume();
    c.once('close', (status) => done({ status, stderr }));
  });
}

const jsonLines = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every ISO time in an output object, by key. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
function isoFields(o: Record<string, unknown>): [string, number][] {
  return Object.entries(o)
    .filter(([, v]) => typeof v === 'string' && ISO.test(v))
    .map(([k, v]) => [k, Date.parse(v as string)]);
}

/** A year before 2000 written as a date anywhere in a text a person reads. */
const OLD_DATE = /\b1\d{3}-\d\d-\d\d/;

beforeAll(async () => {
  await new Promise<void>((ok, fail) => execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root }, (e) => (e === null ? ok() : fail(e))));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(join(real, 'mb.mpt')))('an EC-Lab header in the lab zone (mb.mpt, started 2021-08-23, CEST)', () => {
  it('--tz Europe/Berlin moves every output time by exactly −2 h against --tz UTC, elapsed hours unchanged', async () => {
    const utc = await run(['analyze', join(real, 'mb.mpt'), '--tz', 'UTC', '--out', 'mb-utc']);
    const berlin = await run(['analyze', join(real, 'mb.mpt'), '--tz', 'Europe/Berlin', '--out', 'mb-berlin']);
    expect(utc.status).toBe(0);
    expect(berlin.status).toBe(0);
    // The summary line names the start in the zone, and where the zone came from.
    expect(berlin.stderr).toMatch(/^mb: 1,588 samples over 9\.1 h from 2021-08-23 12:03 CEST \(Europe\/Berlin, option\)/m);
    expect(utc.stderr).toMatch(/^mb: 1,588 samples over 9\.1 h from 2021-08-23 12:03 UTC \(UTC, option\)/m);
    let compared = 0;
    for (const file of ['events.jsonl', 'segments.jsonl']) {
      const a = jsonLines(join(dir, 'mb-utc', file));
      const b = jsonLines(join(dir, 'mb-berlin', file));
      expect(b.length).toBe(a.length);
      a.forEach((x, k) => {
        const tx = isoFields(x);
        const ty = isoFields(b[k]!);
        expect(ty.map(([key]) => key)).toEqual(tx.map(([key]) => key));
        tx.forEach(([, t], j) => expect(ty[j]![1] - t).toBe(-2 * 3.6e6));
        compared += tx.length;
        expect(b[k]!['elapsed_h']).toBe(x['elapsed_h']);
      });
    }
    expect(compared).toBeGreaterThan(20);
    const sa = JSON.parse(readFileSync(join(dir, 'mb-utc/summary.json'), 'utf8')).cells.mb;
    const sb = JSON.parse(readFileSync(join(dir, 'mb-berlin/summary.json'), 'utf8')).cells.mb;
    expect(Date.parse(sb.start) - Date.parse(sa.start)).toBe(-2 * 3.6e6);
    expect(Date.parse(sb.end) - Date.parse(sa.end)).toBe(-2 * 3.6e6);
    expect(sb.timeZone).toBe('Europe/Berlin');
    expect(sb.configSources.timeZone).toBe('option');
    // The report shows the same wall clock for both, in its zone.
    const html = readFileSync(join(dir, 'mb-berlin/report.html'), 'utf8');
    expect(html).toContain('2021-08-23 12:03 CEST (zone Europe/Berlin, from option)');
    // The report rebuilt for a colleague in Tokyo: the same hours, their wall clock, and where that zone came from.
    const tokyo = await run(['report', 'mb-berlin', '--tz', 'Asia/Tokyo']);
    expect(tokyo.status).toBe(0);
    expect(readFileSync(join(dir, 'mb-berlin/report.html'), 'utf8')).toContain('2021-08-23 19:03 UTC+9 (zone Asia/Tokyo, from report --tz)');
  }, 120_000);
});

describe('a file without a start date (header-less EC-Lab export, Li | Li soft short)', () => {
  it('shows elapsed hours only: no year before 2000 in the summary line, alert messages, report or figure', async () => {
    const file = join(fixtures, 'jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt');
    const r = await run(['analyze', file, '--set-current-mA', '0.4', '--cell', 'lili', '--tz', 'Europe/Berlin', '--out', 'headerless']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^lili: 76,807 samples over 45\.1 h \(no start date in the data: times are hours since its start\)/m);
    expect(r.stderr).toMatch(/1 soft short \(first at \d+\.\d\d h\)/);
    expect(r.stderr).not.toMatch(OLD_DATE);
    const alerts = jsonLines(join(dir, 'headerless/events.jsonl')).filter((e) => e['type'] === 'alert');
    expect(alerts.length).toBeGreaterThan(2);
    const timed = alerts.filter((a) => / since \d+\.\d\d h/.test(String(a['message'])));
    expect(timed.length).toBeGreaterThan(1);
    for (const a of alerts) expect(String(a['message'])).not.toMatch(OLD_DATE);
    const html = readFileSync(join(dir, 'headerless/report.html'), 'utf8');
    expect(html).not.toMatch(OLD_DATE);
    expect(html).toContain('Times are hours since the first sample: the data give no start date.');
    // The figures are drawn from these options (their text is outlined in the SVG/PNG).
    const input = await loadReportInput(join(dir, 'headerless'));
    const cell = input.cells[0]!;
    for (const option of [figure2(cell, 'double').option, voltageOption(cell, false)]) {
      const text = JSON.stringify(option);
      expect(text).not.toMatch(OLD_DATE);
      expect(text).toContain('time since start / h');
    }
  }, 120_000);
});

/** A simulated run's CSV, its rows as [ISO time, rest of the line]. */
async function simulated(name: string, scenario: string, hours: number, start: string): Promise<{ header: string; rows: [number, string][] }> {
  const sim = await run(['simulate', '--scenario', scenario, '--out', `${name}.csv`, '--hours', String(hours), '--dt', '60', '--start', start]);
  expect(sim.status).toBe(0);
  const [header, ...lines] = readFileSync(join(dir, `${name}.csv`), 'utf8')
    .trim()
    .split('\n');
  return { header: header!, rows: lines.map((l) => [Date.parse(l.slice(0, l.indexOf(','))), l.slice(l.indexOf(','))] as [number, string]) };
}

/** `2025-10-26 02:30:00.000`: the Berlin wall clock of an instant, as an instrument writes it (no zone). */
const berlinWall = (t: number): string => new Date(t + zoneOffset_ms('Europe/Berlin', t)).toISOString().slice(0, 23).replace('T', ' ');

describe('row-wise local timestamps across the autumn DST change (Europe/Berlin, 2025-10-26)', () => {
  it('give a continuous time axis and the same events as their UTC twin', async () => {
    const { header, rows } = await simulated('dst', 'very-high-rate', 12, '2025-10-25T20:00:00Z');
    writeFileSync(join(dir, 'dst-local.csv'), [header, ...rows.map(([t, rest]) => berlinWall(t) + rest)].join('\n') + '\n');
    // The local file repeats 02:00–03:00: the hour is written twice.
    const local = readFileSync(join(dir, 'dst-local.csv'), 'utf8');
    expect(local.match(/^2025-10-26 02:30:00\.000,/gm)?.length).toBe(2);
    const a = await run(['analyze', 'dst.csv', '--cells', 'dst.cells.yaml', '--tz', 'Europe/Berlin', '--out', 'dst-utc', '--no-report']);
    const b = await run(['analyze', 'dst-local.csv', '--cells', 'dst.cells.yaml', '--tz', 'Europe/Berlin', '--out', 'dst-local', '--no-report']);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(b.stderr).not.toMatch(/rejected/);
    const ea = readFileSync(join(dir, 'dst-utc/events.jsonl'), 'utf8');
    const eb = readFileSync(join(dir, 'dst-local/events.jsonl'), 'utf8');
    expect(ea.split('\n').length).toBeGreaterThan(10);
    expect(eb).toBe(ea);
    expect(readFileSync(join(dir, 'dst-local/segments.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'dst-utc/segments.jsonl'), 'utf8'));
    const sa = JSON.parse(readFileSync(join(dir, 'dst-utc/summary.json'), 'utf8'));
    const sb = JSON.parse(readFileSync(join(dir, 'dst-local/summary.json'), 'utf8'));
    const cell = Object.keys(sa.cells)[0]!;
    // 12 h of samples, not 11 or 13: the repeated hour neither vanishes nor doubles.
    expect(sb.cells[cell].duration_h).toBeCloseTo(sa.cells[cell].duration_h, 9);
    expect(sb.cells[cell].samples).toBe(sa.cells[cell].samples);
    expect(sb.rejected.total).toBe(0);
  }, 180_000);
});

describe('numeric time columns', () => {
  it('reads a timestamp column of seconds since the start as such (dated by --start), and says so', async () => {
    const { header, rows } = await simulated('secs', 'very-high-rate', 6, '2026-01-01T00:00:00Z');
    const t0 = rows[0]![0];
    writeFileSync(join(dir, 'secs-rel.csv'), [header, ...rows.map(([t, rest]) => String((t - t0) / 1000) + rest)].join('\n') + '\n');
    writeFileSync(join(dir, 'secs-epoch.csv'), [header, ...rows.map(([t, rest]) => String(t / 1000) + rest)].join('\n') + '\n');
    const iso = await run(['analyze', 'secs.csv', '--cells', 'secs.cells.yaml', '--out', 'secs-iso', '--no-report']);
    const rel = await run(['analyze', 'secs-rel.csv', '--cells', 'secs.cells.yaml', '--start', '2026-01-01T00:00:00Z', '--out', 'secs-rel', '--no-report']);
    const epoch = await run(['analyze', 'secs-epoch.csv', '--cells', 'secs.cells.yaml', '--out', 'secs-epoch', '--no-report']);
    const undated = await run(['analyze', 'secs-rel.csv', '--cells', 'secs.cells.yaml', '--out', 'secs-undated', '--no-report']);
    for (const r of [iso, rel, epoch, undated]) expect(r.status).toBe(0);
    expect(rel.stderr).toMatch(/secs-rel\.csv: the time column holds seconds since the start of the run \(dated from --start\)/);
    expect(epoch.stderr).toMatch(/secs-epoch\.csv: the time column holds numbers as large as seconds since 1970: read as epoch seconds/);
    expect(undated.stderr).toMatch(/times are read as hours since the start \(pass --start to date them\)/);
    const events = (d: string) => readFileSync(join(dir, d, 'events.jsonl'), 'utf8');
    expect(events('secs-rel')).toBe(events('secs-iso'));
    expect(events('secs-epoch')).toBe(events('secs-iso'));
    const summary = JSON.parse(readFileSync(join(dir, 'secs-rel/summary.json'), 'utf8'));
    expect(summary.timeColumns).toEqual({ 'secs-rel.csv': 'seconds-since-start' });
    const cells = Object.values(summary.cells) as { duration_h: number }[];
    expect(cells[0]!.duration_h).toBeGreaterThan(5.9);
    // Undated: the same elapsed hours, no 1970 in the line a person reads.
    expect(undated.stderr).toMatch(/over 6\.0 h \(no start date in the data/);
    expect(undated.stderr).not.toMatch(OLD_DATE);
  }, 180_000);

  it('stops on a file with more than 5 % of its rows rejected, with the counts and the first line; --salvage goes on', async () => {
    const { header, rows } = await simulated('bad', 'very-high-rate', 3, '2026-01-01T00:00:00Z');
    // Every 10th row's voltage unreadable: 10 % rejected.
    const lines = rows.map(([t, rest], k) => new Date(t).toISOString() + (k % 10 === 9 ? rest.replace(/^,([^,]*),[^,]*/, ',$1,0.07V') : rest));
    writeFileSync(join(dir, 'bad-rows.csv'), [header, ...lines].join('\n') + '\n');
    const stop = await run(['analyze', 'bad-rows.csv', '--cells', 'bad.cells.yaml', '--out', 'bad-out', '--no-report']);
    expect(stop.status).toBe(2);
    expect(stop.stderr).toMatch(
      /bad-rows\.csv: 18 of its 180 rows rejected \(10\.0 %, more than 5 %\): \{"bad-number":18\}; the first: line 11: \(bad-number\) 2026-01-01T00:09:00\.000Z,very-high-rate,0\.07V/,
    );
    expect(stop.stderr).toMatch(/--salvage/);
    expect(existsSync(join(dir, 'bad-out/events.jsonl'))).toBe(false);
    const salvage = await run(['analyze', 'bad-rows.csv', '--cells', 'bad.cells.yaml', '--out', 'bad-out', '--no-report', '--salvage']);
    expect(salvage.status).toBe(0);
    expect(existsSync(join(dir, 'bad-out/events.jsonl'))).toBe(true);
  }, 120_000);
});
