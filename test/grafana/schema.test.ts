/**
 * Both dashboards and the alerting provisioning against JSON Schemas generated from @grafana/grafana-foundation-sdk's
 * TypeScript types (grafanaTypes.ts, through ts-json-schema-generator): an unknown property anywhere is an error,
 * as is a value of the wrong type or outside an enum.
 */
import Ajv from 'ajv';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
type Json = Record<string, unknown>;
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

describe('provisioning against the Grafana Foundation SDK types', () => {
  const validators = new Map<string, Validate>();
  beforeAll(async () => {
    // In a child process: generating takes seconds of CPU, and a test worker that blocks that long on a busy
    // machine misses vitest's own 60 s heartbeat.
    const script = [
      "import { createGenerator } from 'ts-json-schema-generator';",
      'const out = {};',
      "for (const type of ['ProvisionedDashboard', 'AlertingProvisioning'])",
      "  out[type] = createGenerator({ path: 'test/grafana/grafanaTypes.ts', tsconfig: 'tsconfig.json', type, additionalProperties: false, skipTypeCheck: true }).createSchema(type);",
      'process.stdout.write(JSON.stringify(out));',
    ].join('\n');
    const stdout = await new Promise<string>((resolvePromise, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, maxBuffer: 64 << 20 }, (e, out, err) =>
        e === null ? resolvePromise(out) : reject(new Error(`${e.message}\n${err}`)),
      ),
    );
    const schemas = JSON.parse(stdout) as Record<string, Json>;
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    for (const [type, schema] of Object.entries(schemas)) validators.set(type, ajv.compile(schema) as Validate);
  }, 180_000);

  const check = (type: string, doc: unknown): unknown[] => {
    const v = validators.get(type)!;
    return v(doc) ? [] : (v.errors ?? []);
  };
  const dashboard = (name: string): Json => JSON.parse(readFileSync(join(root, 'grafana/dashboards', name), 'utf8')) as Json;

  it('validates both dashboards', () => {
    for (const name of ['cell.json', 'fleet.json']) expect(check('ProvisionedDashboard', dashboard(name)), name).toEqual([]);
  });

  it('validates the alert rules, contact point and policy', () => {
    const doc = parse(readFileSync(join(root, 'grafana/provisioning/alerting/cyclewatch.yaml'), 'utf8')) as Json;
    expect(check('AlertingProvisioning', doc)).toEqual([]);
  });

  it('rejects what Grafana would drop or misread: an unknown key, a wrong type, an unknown reducer', () => {
    const cell = dashboard('cell.json');
    const annotations = cell['annotations'] as { list: Json[] };
    // The legacy columns beside a target: Grafana migrates them only without one, and the tags are lost.
    annotations.list[0]!['textColumn'] = 'text';
    expect(check('ProvisionedDashboard', cell)).not.toEqual([]);
    const fleet = dashboard('fleet.json');
    ((fleet['panels'] as Json[])[0]!['fieldConfig'] as { defaults: { custom: Json } }).defaults.custom['spanNull'] = false;
    expect(check('ProvisionedDashboard', fleet)).not.toEqual([]);
    const gridWrong = dashboard('fleet.json');
    ((gridWrong['panels'] as Json[])[0]!['gridPos'] as Json)['w'] = '24';
    expect(check('ProvisionedDashboard', gridWrong)).not.toEqual([]);
    const alerting = parse(readFileSync(join(root, 'grafana/provisioning/alerting/cyclewatch.yaml'), 'utf8')) as {
      groups: { rules: { data: { model: Json }[] }[] }[];
    };
    alerting.groups[0]!.rules[0]!.data[1]!.model['reducer'] = 'median';
    expect(check('AlertingProvisioning', alerting)).not.toEqual([]);
  });
});
