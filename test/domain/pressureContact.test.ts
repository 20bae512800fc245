/**
 * Why a cell lost contact: the `pressure-contact` warning at a polarization onset that follows the stack relaxing,
 * and none where the stack settled long before the voids grew (simulated runs with their pressure telemetry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
import type { AlertEvent, RegimeEvent } from '../../src/domain/events.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-pressure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(scenario: string): Promise<{ onset: RegimeEvent | undefined; warnings: AlertEvent[] }> {
  const csv = join(dir, `${scenario}.csv`);
  await simulate({ scenarios: [scenario], out: csv, dt_s: 60, seed: 3 });
  const r = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)) });
  return {
    onset: r.events.find((e): e is RegimeEvent => e.type === 'regime' && e.regime === 'polarization'),
    warnings: r.events.filter((e): e is AlertEvent => e.type === 'alert' && e.code === 'pressure-contact'),
  };
}

describe('pressure-contact', () => {
  it('a stack relaxing 10 → 3 MPa (contact lost below 5): warned at the onset, with the drop and the remedy', async () => {
    const { onset, warnings } = await run('pressure');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.t_ms).toBe(onset!.detectedAt_ms);
    expect(warnings[0]!.message).toMatch(/^the stack relaxed from [67]\.\d to 4\.\d MPa over the last 4[78] h and the contact followed: re-tighten the stack/);
  }, 120_000);

  it('voids from stripping after the stack settled (long-term: 12 → 6 MPa in the first days, polarization at 380 h): no warning', async () => {
    const { onset, warnings } = await run('long-term');
    expect(onset).toBeDefined();
    expect(warnings).toEqual([]);
  }, 120_000);
});
