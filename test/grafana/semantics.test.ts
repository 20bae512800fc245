/**
 * What the provisioned alert rules and dashboards say, at chosen instants, about data cyclewatch itself wrote to a
 * real InfluxDB 1.x: each rule evaluated as Grafana does (its relative time range from a chosen "now", then its
 * reduce and threshold expressions), and every dashboard panel run with the dashboard's default range on a run
 * replayed with `--retime` so that it ends now.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../pipelines/replay.js';
import { runMonitor, type RunHandle } from '../../pipelines/run.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { openTelemetry } from '../../src/io/instruments/importers.js';
import { RejectionLog } from '../../src/io/instruments/rejections.js';
import { removeDir, startInfluxV1, stopAll, which, type RunningServer } from '../integration/servers.js';

const root = resolve(__dirname, '../..');
const run = which('influxd') !== null || process.env['CI'] !== undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const H = 3_600_000;

type Json = Record<string, unknown>;
interface Series {
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}
interface Rule {
  readonly title: string;
  readonly noDataState: 'OK' | 'Alerting' | 'NoData';
  readonly data: { refId: string; datasourceUid: string; relativeTimeRange?: { from: number; to: number }; model: Json }[];
}

const rules = (): Rule[] =>
  (parse(readFileSync(join(root, 'grafana/provisioning/alerting/cyclewatch.yaml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const rule = (title: string): Rule => rules().find((r) => r.title === title)!;
const dashboard = (name: string): Json => JSON.parse(readFileSync(join(root, 'grafana/dashboards', name), 'utf8')) as Json;

/** Grafana's reduce expression on one series (modes: drop or replace non-numbers). */
function reduce(values: (number | null)[], reducer: string, settings: Json | undefined): number {
  const mode = settings?.['mode'];
  const xs = values
    .map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : mode === 'replaceNN' ? Number(settings!['replaceWithValue']) : null))
    .filter((v): v is number => v !== null);
  if (reducer === 'count') return xs.length;
  if (reducer === 'sum') return xs.reduce((a, b) => a + b, 0);
  if (xs.length === 0) return NaN;
  if (reducer === 'last') return xs.at(-1)!;
  if (reducer === 'mean') return xs.reduce((a, b) => a + b, 0) / xs.length;
  if (reducer === 'max') return Math.max(...xs);
  if (reducer === 'min') return Math.min(...xs);
  throw new Error(`reducer ${reducer} not modelled`);
}

/** Grafana's threshold expression. */
function threshold(x: number, evaluator: { type: string; params: number[] }): boolean {
  const [a, b] = evaluator.params;
  if (Number.isNaN(x)) return false;
  switch (evaluator.type) {
    case 'gt':
      return x > a!;
    case 'lt':
      return x < a!;
    case 'within_range':
      return x > a! && x < b!;
    case 'outside_range':
      return x < a! || x > b!;
  }
  throw new Error(`evaluator ${evaluator.type} not modelled`);
}

describe.skipIf(!run)('alert rules and dashboards, evaluated as Grafana does on cyclewatch output in InfluxDB 1.x', () => {
  let influx: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-semantics-'));
  /** The history run's monitor events (ground truth for the instants chosen below). */
  let events: Json[] = [];
  let derivedLines: string[] = [];
  const stale = { raised_ms: 0, cleared_ms: 0 };
  let now = { start_ms: 0, end_ms: 0 };
  /** The recorded run's length. */
  let span_ms = 0;

  const influxql = async (q: string): Promise<{ series: Series[]; error?: string }> => {
    const res = await fetch(`${influx.url}/query?db=cyclewatch&epoch=ms&q=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { results: { series?: Series[]; error?: string }[]; error?: string };
    if (body.error !== undefined) return { series: [], error: body.error };
    return { series: body.results[0]!.series ?? [], error: body.results[0]!.error };
  };

  /** Evaluate a provisioned rule at `at_ms`: the alert instances (by cell label) and whether each fires. */
  async function evaluate(r: Rule, at_ms: number): Promise<Map<string, boolean>> {
    const query = r.data.find((d) => d.datasourceUid !== '__expr__')!;
    const range = query.relativeTimeRange!;
    const q = String(query.model['query']).replaceAll('$timeFilter', `time >= ${at_ms - range.from * 1000}ms and time <= ${at_ms - range.to * 1000}ms`);
    const res = await influxql(q);
    expect(res.error, `${r.title}: ${res.error}`).toBeUndefined();
    const reduceModel = r.data.find((d) => d.model['type'] === 'reduce')!.model;
    const thresholdModel = r.data.find((d) => d.model['type'] === 'threshold')!.model as { conditions: { evaluator: { type: string; params: number[] } }[] };
    const out = new Map<string, boolean>();
    if (res.series.length === 0) {
      out.set('', r.noDataState === 'Alerting');
      return out;
    }
    for (const s of res.series) {
      const x = reduce(
        s.values.map((row) => row[1] as number | null),
        String(reduceModel['reducer']),
        reduceModel['settings'] as Json,
      );
      out.set(s.tags?.['cell'] ?? '', threshold(x, thresholdModel.conditions[0]!.evaluator));
    }
    return out;
  }

  async function load(dataDir: string): Promise<void> {
    const linesDir = join(dataDir, 'lines');
    for (const f of readdirSync(linesDir)) {
      const lines = readFileSync(join(linesDir, f), 'utf8').trim().split('\n');
      for (let k = 0; k < lines.length; k += 20_000) {
        const res = await fetch(`${influx.url}/write?db=cyclewatch&precision=ms`, { method: 'POST', body: lines.slice(k, k + 20_000).join('\n') });
        expect(res.status, await res.text()).toBe(204);
      }
    }
  }

  async function monitor(name: string, extra = ''): Promise<RunHandle> {
    const config = parseRunConfig(`dataDir: "${join(dir, name)}"\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\n${extra}`, join(dir, `${name}.yaml`));
    return runMonitor(config, { log: () => {}, staleCheck_ms: 100 });
  }

  async function replayAll(handle: RunHandle, csv: string, retimeTo_ms?: number): Promise<void> {
    await sleep(300);
    const { published } = await replay({
      files: [csv],
      brokerUrl: handle.brokerUrl,
      speed: 'max',
      topicPrefix: 'cells',
      qos: 1,
      maxInFlight: 500,
      log: () => {},
      retimeTo_ms,
    });
    const t0 = Date.now();
    while (handle.metrics.value('cyclewatch_messages_in_total') < published && Date.now() - t0 < 120_000) await sleep(50);
  }

  beforeAll(async () => {
    influx = await startInfluxV1();
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE cyclewatch')}`, { method: 'POST' });

    // History: shorts, recoveries and compliance episodes (2026-01-01 on).
    const history = join(dir, 'history.csv');
    await simulate({ scenarios: ['high-rate', 'very-high-rate'], out: history, dt_s: 10, duration_h: 60, seed: 7 });
    let h = await monitor('history', `cellsFile: "${registryPath(history)}"`);
    await replayAll(h, history);
    await h.close();
    await load(join(dir, 'history'));
    events = readFileSync(join(dir, 'history', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    derivedLines = readdirSync(join(dir, 'history', 'lines')).flatMap((f) =>
      readFileSync(join(dir, 'history', 'lines', f), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('derived,')),
    );

    // Now: a recorded run moved by `replay --retime` to end 3 h before now.
    const recorded = join(dir, 'recorded.csv');
    await simulate({ scenarios: ['ccd'], out: recorded, dt_s: 30, seed: 3 });
    let first_ms = Infinity;
    let last_ms = -Infinity;
    for await (const b of (await openTelemetry(recorded, new RejectionLog())).batches)
      for (const x of b) {
        first_ms = Math.min(first_ms, x.t_ms);
        last_ms = Math.max(last_ms, x.t_ms);
      }
    span_ms = last_ms - first_ms;
    now = { start_ms: Date.now() - span_ms - 3 * H, end_ms: 0 };
    h = await monitor('now', `cellsFile: "${registryPath(recorded)}"`);
    await replayAll(h, recorded, now.start_ms);
    await h.close();
    await load(join(dir, 'now'));
    const last = await influxql(`SELECT last("voltage_V") FROM "telemetry" WHERE "cell" = 'ccd'`);
    now.end_ms = last.series[0]!.values[0]![0] as number;

    // Live: two cells on the wall clock; one goes quiet long enough for cyclewatch's stale alert, then comes back.
    h = await monitor('live', 'alerts: { staleAfter_s: 1 }');
    const client = mqtt.connect(h.brokerUrl!, { protocolVersion: 4 });
    await new Promise((r) => client.once('connect', r));
    const send = (cell: string): void => {
      client.publish(`cells/${cell}/ec`, JSON.stringify({ t: new Date().toISOString(), voltage_V: 0.05, current_mA: 1 }), { qos: 1 });
    };
    const eventsFile = join(dir, 'live', 'events.jsonl');
    const alertOf = (cell: string, state: string): boolean =>
      existsSync(eventsFile) &&
      readFileSync(eventsFile, 'utf8')
        .split('\n')
        .some((l) => l.includes(`"cell":"${cell}"`) && l.includes('"code":"stale"') && l.includes(`"state":"${state}"`));
    for (let k = 0; k < 5; k++) {
      send('live-a');
      send('quiet-b');
      await sleep(200);
    }
    while (!alertOf('quiet-b', 'raised')) {
      send('live-a');
      await sleep(200);
    }
    stale.raised_ms = Date.now();
    await sleep(300);
    while (!alertOf('quiet-b', 'cleared')) {
      send('live-a');
      send('quiet-b');
      await sleep(200);
    }
    stale.cleared_ms = Date.now();
    await client.endAsync();
    await h.close();
    await load(join(dir, 'live'));
  }, 300_000);
  afterAll(async () => {
    await stopAll(influx);
    removeDir(dir);
  });

  it('"Short circuit" fires for as long as a cell is in short, not for 15 minutes after the event, and resolves when it recovers', async () => {
    const regimes = events.filter((e) => e['type'] === 'regime');
    // The longest short, from its detection to the next regime decision of the same cell.
    let best: { cell: string; from_ms: number; to_ms: number } | null = null;
    for (const [k, e] of regimes.entries()) {
      if (e['regime'] !== 'short') continue;
      const next = regimes.slice(k + 1).find((n) => n['cell'] === e['cell']);
      if (next === undefined) continue;
      const span = { cell: String(e['cell']), from_ms: Date.parse(String(e['detectedAt'])), to_ms: Date.parse(String(next['detectedAt'])) };
      if (best === null || span.to_ms - span.from_ms > best.to_ms - best.from_ms) best = span;
    }
    expect(best, 'the history run has a short with a recovery').not.toBeNull();
    expect(best!.to_ms - best!.from_ms, 'a short longer than the 15 min the old rule looked back').toBeGreaterThan(20 * 60_000);
    const r = rule('Short circuit');
    expect((await evaluate(r, best!.from_ms + 60_000)).get(best!.cell)).toBe(true);
    expect((await evaluate(r, best!.to_ms - 60_000)).get(best!.cell), 'still short near its end').toBe(true);
    expect((await evaluate(r, best!.to_ms + 10 * 60_000)).get(best!.cell), 'recovered').toBe(false);
    // Meanwhile the Cell dashboard draws no contact fraction and no j_local: Ohm's law says nothing in a short.
    const cell = dashboard('cell.json');
    for (const title of ['Contact fraction', 'Local current density (mA cm⁻²)']) {
      const panel = (cell['panels'] as Json[]).find((p) => p['title'] === title)!;
      for (const t of panel['targets'] as Json[]) {
        const q = String(t['query'])
          .replaceAll('$timeFilter', `time >= ${best!.from_ms + 5 * 60_000}ms and time <= ${best!.to_ms - 5 * 60_000}ms`)
          .replaceAll('$__interval', '1m')
          .replaceAll('/^$cell$/', `/^${best!.cell}$/`);
        const res = await influxql(q);
        expect(
          res.series.flatMap((x) => x.values).filter((row) => row[1] !== null),
          title,
        ).toEqual([]);
      }
    }
  });

  it('"Compliance limit reached" fires during a compliance episode and resolves after it', async () => {
    const atLimit = derivedLines
      .filter((l) => l.includes('jLocalIsLowerBound=true'))
      .map((l) => ({ cell: /cell=([^ ,]+)/.exec(l)![1]!, t: Number(l.split(' ')[2]) }));
    expect(atLimit.length, 'the history run reaches compliance').toBeGreaterThan(0);
    const first = atLimit[0]!;
    const r = rule('Compliance limit reached');
    expect((await evaluate(r, first.t + 60_000)).get(first.cell)).toBe(true);
    // A quarter of an hour after the cell's last point at the limit, with none since: resolved.
    const lastOfCell = atLimit.filter((a) => a.cell === first.cell).at(-1)!;
    expect((await evaluate(r, lastOfCell.t + 16 * 60_000)).get(first.cell) ?? false).toBe(false);
  });

  it('"Stale telemetry" fires for the one silent cell among live ones, with its cell label, and resolves when it is back', async () => {
    const r = rule('Stale telemetry');
    const during = await evaluate(r, stale.raised_ms + 1);
    expect(during.get('quiet-b')).toBe(true);
    expect(during.get('live-a') ?? false).toBe(false);
    expect((await evaluate(r, stale.cleared_ms + 1)).get('quiet-b')).toBe(false);
  });

  it('"Open alerts" lists the alerts still raised, over the whole history, not the cleared ones', async () => {
    const panel = (dashboard('fleet.json')['panels'] as Json[]).find((p) => p['title'] === 'Open alerts')!;
    const res = await influxql(String((panel['targets'] as Json[])[0]!['query']).replaceAll('/^$cell$/', '/.*/'));
    // The panel's own transformation, as Grafana applies it: keep the rows whose field equals the value.
    const [filter] = (
      panel['transformations'] as { id: string; options: { filters: { fieldName: string; config: { id: string; options: { value: unknown } } }[] } }[]
    )
      .filter((t) => t.id === 'filterByValue')
      .flatMap((t) => t.options.filters);
    expect(filter!.config.id).toBe('equal');
    const rows = res.series.flatMap((x) =>
      x.values.map((v) => ({ cell: x.tags!['cell']!, code: x.tags!['code']!, [filter!.fieldName]: v[x.columns.indexOf(filter!.fieldName)] })),
    );
    const open = rows.filter((r) => r[filter!.fieldName] === filter!.config.options.value);
    expect(
      rows.some((r) => r.cell === 'quiet-b' && r.code === 'stale'),
      'the cleared stale alert is in the data',
    ).toBe(true);
    expect(
      open.some((r) => r.cell === 'quiet-b'),
      'a cleared alert listed as open',
    ).toBe(false);
    expect(open.length, 'alerts raised and never cleared are listed').toBeGreaterThan(0);
  });

  it('"No telemetry at all" stays quiet while any cell sends, and fires when none does', async () => {
    const r = rule('No telemetry at all');
    expect([...(await evaluate(r, stale.cleared_ms)).values()]).toEqual([false]);
    expect([...(await evaluate(r, Date.now() + 2 * H)).values()]).toEqual([true]);
  });

  it('every panel shows data with the dashboard default range on a run that ends now, and the regime timeline ends where the data end', async () => {
    const at_ms = Date.now();
    for (const name of ['cell.json', 'fleet.json']) {
      const d = dashboard(name);
      const time = d['time'] as { from: string; to: string };
      expect(time.to).toBe('now');
      const days = Number(/^now-(\d+)d$/.exec(time.from)![1]);
      const fill = (q: string): string =>
        q
          .replaceAll('$timeFilter', `time >= ${at_ms - days * 24 * H}ms and time <= ${at_ms}ms`)
          .replaceAll('$__interval', '10m')
          .replaceAll('/^$cell$/', '/^ccd$/');
      for (const p of d['panels'] as Json[]) {
        // A panel shows data when one of its queries does (j_local has one query for values, one for lower bounds).
        let shown = false;
        for (const t of p['targets'] as Json[]) {
          const res = await influxql(fill(String(t['query'])));
          expect(res.error, `${name} "${String(p['title'])}": ${res.error}`).toBeUndefined();
          shown ||= res.series.some((s) => s.values.some((row) => row.slice(1).some((x) => x !== null)));
        }
        // A CCD ramp shorts without polarizing: no compliance forecast is ever issued for it (the provisioning test
        // sees the panel's data on a polarizing run).
        // Its 5-min half cycles logged every 30 s have fewer settled rows than a noise window needs (10).
        if (String(p['title']).startsWith('Compliance forecast') || String(p['title']).startsWith('Voltage noise')) {
          expect(shown, `${name}: ${String(p['title'])} for the CCD run`).toBe(false);
          continue;
        }
        expect(shown, `${name} "${String(p['title'])}" is empty at now`).toBe(true);
      }
      // The regime timeline: no state after the last sample (fill(previous) carried it to "now").
      const regime = (d['panels'] as Json[]).find((p) => p['type'] === 'state-timeline')!;
      const res = await influxql(fill(String((regime['targets'] as Json[])[0]!['query'])));
      const rows = res.series.flatMap((s) => s.values);
      const lastState = Math.max(...rows.filter((row) => row[1] !== null).map((row) => row[0] as number));
      expect(lastState, name).toBeLessThanOrEqual(now.end_ms);
      // Within the last 10-minute bucket, or the one before when the data end in a bucket's first minute: the
      // monitor holds a cell's newest samples (its 5 s re-ordering window, one row interval) undecided.
      expect(lastState, name).toBeGreaterThan(now.end_ms - 11 * 60_000);
      expect(
        rows.filter((row) => (row[0] as number) > now.end_ms).every((row) => row[1] === null),
        `${name}: the regime goes on after the data`,
      ).toBe(true);
    }
    // The retimed run: its first sample where --retime put it, and its spacing kept.
    const first = await influxql(`SELECT first("voltage_V") FROM "telemetry" WHERE "cell" = 'ccd'`);
    expect(first.series[0]!.values[0]![0]).toBe(now.start_ms);
    expect(now.end_ms - now.start_ms).toBe(span_ms);
  });
});
