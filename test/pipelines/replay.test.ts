/**
 * Replays simulated runs of the paper's scenarios through the analysis pipeline and checks the detector
 * against the simulator's ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, type AnalyzeResult } from '../../pipelines/analyze.js';
import { registryPath, simulate } from '../../pipelines/simulate.js';
import { loadRegistry } from '../../src/config/registry.js';
import type { RegimeEvent } from '../../src/domain/events.js';
import type { CellTruth } from '../../src/sim/simulate.js';

const dir = mkdtempSync(join(tmpdir(), 'cyclewatch-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function replay(scenario: string, dt_s: number): Promise<{ truth: CellTruth; result: AnalyzeResult; regimes: RegimeEvent[] }> {
  const csv = join(dir, `${scenario}.csv`);
  const { truth } = await simulate({ scenarios: [scenario], out: csv, dt_s, seed: 7 });
  const result = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)) });
  const regimes = result.events.filter((e): e is RegimeEvent => e.type === 'regime');
  return { truth: truth[0]!, result, regimes };
}

const ms = (iso: string): number => Date.parse(iso);
const TWO_MIN = 120_000;

function checkShorts(truth: CellTruth, regimes: RegimeEvent[]): void {
  const shorts = regimes.filter((e) => e.regime === 'short');
  const isolated = regimes.filter((e) => e.regime === 'isolated-short');
  // Every short found, none invented.
  expect(shorts).toHaveLength(truth.shorts.length);
  truth.shorts.forEach((t, k) => {
    const d = shorts[k]!;
    expect(Math.abs(d.onset_ms - ms(t.start))).toBeLessThanOrEqual(TWO_MIN);
    expect(d.detectedAt_ms - ms(t.start)).toBeLessThanOrEqual(TWO_MIN);
    expect(d.detectedAt_ms).toBeGreaterThanOrEqual(ms(t.start));
  });
  // Every isolated short found with its end, none invented.
  const truthIsolated = truth.shorts.filter((s) => s.end !== null);
  expect(isolated).toHaveLength(truthIsolated.length);
  truthIsolated.forEach((t, k) => {
    expect(Math.abs(isolated[k]!.onset_ms - ms(t.start))).toBeLessThanOrEqual(TWO_MIN);
    expect(Math.abs(isolated[k]!.end_ms! - ms(t.end!))).toBeLessThanOrEqual(TWO_MIN);
  });
}

function checkPolarizationOnset(truth: CellTruth, regimes: RegimeEvent[]): void {
  const first = regimes.find((e) => e.regime === 'polarization');
  expect(first).toBeDefined();
  const onset = ms(truth.polarizationOnset!);
  // Within one half cycle of the true onset, or 2 % of the elapsed time.
  const tolerance = Math.max(truth.nominalHalfCycle_s * 1000, 0.02 * (onset - ms(truth.start)));
  expect(first!.detectedAt_ms - onset).toBeLessThanOrEqual(tolerance);
  expect(Math.abs(first!.onset_ms - onset)).toBeLessThanOrEqual(tolerance);
}

describe('replay of simulated runs against their ground truth', () => {
  it('high rate (±5 mA cm⁻²): polarization, compliance, then the polarization/short loop', async () => {
    const { truth, result, regimes } = await replay('high-rate', 2);
    checkPolarizationOnset(truth, regimes);
    checkShorts(truth, regimes);
    const s = result.summaries[0]!;
    expect(s.failureMode).toBe(truth.failureMode);
    expect(s.failureMode).toBe('short-loop');
    expect(s.isolatedShortCount).toBe(truth.isolatedShorts);
    // Time to failure: first compliance (within 2 % of the limit, so up to one half cycle early in the noise).
    expect(Math.abs(s.timeToFailure_h! * 3.6e6 - (ms(truth.firstCompliance!) - ms(truth.start)))).toBeLessThanOrEqual(truth.nominalHalfCycle_s * 1000);
    expect(s.peakJLocalIsLowerBound).toBe(true);
    // The loop's own onset (its first isolated short), said apart from the time to failure (the first compliance).
    expect(s.timeToFailureBasis).toBe('compliance');
    const firstIsolated = truth.shorts.find((x) => x.end !== null)!;
    expect(Math.abs(s.failureModeOnset_h! * 3.6e6 - (ms(firstIsolated.start) - ms(truth.start)))).toBeLessThanOrEqual(TWO_MIN);
    expect(s.failureModeOnset_h!).toBeGreaterThan(s.timeToFailure_h! + 10);
  });

  it('very high rate (±10 mA cm⁻², 15 min half cycles): same checks on the faster run', async () => {
    const { truth, result, regimes } = await replay('very-high-rate', 1);
    checkPolarizationOnset(truth, regimes);
    checkShorts(truth, regimes);
    expect(result.summaries[0]!.failureMode).toBe(truth.failureMode);
  });

  it('long-term (±2 mA cm⁻², 800 h): polarization only, failure mode polarization after ~700 h', async () => {
    const { truth, result, regimes } = await replay('long-term', 5);
    checkPolarizationOnset(truth, regimes);
    checkShorts(truth, regimes);
    const s = result.summaries[0]!;
    expect(s.failureMode).toBe('polarization');
    expect(s.timeToFailure_h!).toBeGreaterThan(690);
    expect(s.timeToFailure_h!).toBeLessThan(710);
    // At the 8 V limit with 0.07 V plateaus: f ≈ 1/114, j_local ≳ 230 mA cm⁻², flagged as a lower bound.
    expect(s.peakJLocal_mA_cm2!).toBeGreaterThan(200);
    expect(s.minContactFraction!).toBeLessThan(1 / 100);
    expect(s.peakJLocalIsLowerBound).toBe(true);
  });

  it('CCD ramp: critical current density within ±2 mA cm⁻² of the truth', async () => {
    const { truth, result, regimes } = await replay('ccd', 1);
    checkShorts(truth, regimes);
    const s = result.summaries[0]!;
    expect(s.rampDetected).toBe(true);
    expect(Math.abs(s.ccd_mA_cm2! - truth.ccd_mA_cm2!)).toBeLessThanOrEqual(2);
    expect(s.failureMode).toBe('short');
  });

  it('400 h control run with temperature drift, pressure relaxation, rests, spikes and disorder: zero regime changes and zero alerts', async () => {
    const { result, regimes } = await replay('control', 2);
    // The one change: learning → stable once R_ref is calibrated on the early plateau.
    expect(regimes.map((e) => e.regime)).toEqual(['stable']);
    expect(result.segments.map((x) => x.regime)).toEqual(['learning', 'stable']);
    expect(result.events.filter((e) => e.type === 'alert')).toEqual([]);
    const s = result.summaries[0]!;
    expect(s.failureMode).toBe('none');
    expect(s.rest_h).toBeGreaterThan(1);
    // The simulator's duplicates were rejected as such, not counted as samples.
    expect(result.rejections.counts.get('duplicate') ?? 0).toBeGreaterThan(0);
    expect(result.rejections.counts.get('late') ?? 0).toBe(0);
  });

  it('gives identical results for several cells interleaved in one file as for each alone', async () => {
    const csv = join(dir, 'fleet.csv');
    await simulate({ scenarios: ['very-high-rate', 'ccd'], out: csv, dt_s: 1, seed: 7 });
    const fleet = await analyze({ files: [csv], registry: await loadRegistry(registryPath(csv)) });
    const alone = await replay('very-high-rate', 1);
    const regimesOf = (r: AnalyzeResult, cell: string) => r.events.filter((e) => e.type === 'regime' && e.cell === cell);
    expect(regimesOf(fleet, 'very-high-rate')).toEqual(regimesOf(alone.result, 'very-high-rate'));
    expect(fleet.summaries.map((s) => s.cell).sort()).toEqual(['ccd', 'very-high-rate']);
  });
});
