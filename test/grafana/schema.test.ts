/**
 * Both dashboards and the alerting provisioning against JSON Schemas generated from @grafana/grafana-foundation-sdk's
 * TypeScript types (grafanaTypes.ts, through ts-json-schema-generator): an unknown property anywhere is an error,
 * as is a value of the wrong type or outside an enum.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
type Json = Record<string, unknown>;
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

describe('provisioning against the Grafana Foundation SDK types', () => {
  const validators = new Map<string, Validate>();
  beforeAll(() => {
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    for (const type of ['ProvisionedDashboard', 'AlertingProvisioning']) {
      const schema = createGenerator({
        path: join(root, 'test/grafana/grafanaTypes.ts'),
        tsconfig: join(root, 'tsconfig.json'),
        type,
        additionalProperties: false,
        skipTypeCheck: true,
      }).createSchema(type);
      validators.set(type, ajv.compile(schema) as Validate);
    }
  }, 120_000);

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
