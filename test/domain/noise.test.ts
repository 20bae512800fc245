/**
 * Voltage noise windows and their rise (domain/noise.ts): the σ of white noise recovered through a trend, windows
 * cut where the current or the half cycle changes, a sustained rise against the cell's quiet history at the same
 * current and temperature raised once from its first window, and what the real soft short of jr862 shows.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import type { AlertEvent, NoiseEvent } from '../../src/domain/events.js';
import { DEFAULT_NOISE, noiseRow, noiseState, observeNoiseWindow, closeNoiseWindow, type NoiseWindow } from '../../src/domain/noise.js';

/** A deterministic gaussian (Box–Muller over a small LCG). */
function gaussians(seed: number): () => number {
  let x = seed;
  const u = (): number => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) + 1) / (2 ** 31 + 1);
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('noise windows', () => {
  it('measure the σ of white noise on a rising plateau, one window per hour, cut by a current step and a new half cycle', () => {
    const s = noiseState();
    const g = gaussians(7);
    const windows: NoiseWindow[] = [];
    // 3 h at 1 s, σ = 0.5 mV on a plateau rising 50 mV an hour (polarization is not noise); a current step at 2.5 h.
    for (let k = 0; k < 3 * 3600; k++) {
      const t = k * 1000;
      const absI = k < 2.5 * 3600 ? 2 : 3;
      const w = noiseRow(s, t, 0.07 + (0.05 * k) / 3600 + 0.0005 * g(), absI, 1, 25, DEFAULT_NOISE);
      if (w !== null) windows.push(w);
    }
    // A new half cycle closes the open window.
    const last = noiseRow(s, 3 * 3600 * 1000, 0.07, 2, 2, 25, DEFAULT_NOISE);
    if (last !== null) windows.push(last);
    expect(windows.map((w) => [w.start_ms / 3.6e6, w.absI_mA])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
      [2.5, 3],
    ]);
    for (const w of windows) expect(Math.abs(w.voltageNoise_mV - 0.5)).toBeLessThan(0.05);
    // A window of fewer than 10 rows says nothing.
    expect(closeNoiseWindow(s, 25, DEFAULT_NOISE)).toBeNull();
  });

  it('raise a rise once, from its first window, against quiet windows at the same current and temperature; clear it', () => {
    const s = noiseState();
    const w = (h: number, mV: number, T = 25, absI = 2): NoiseWindow => ({
      start_ms: h * 3.6e6,
      end_ms: (h + 1) * 3.6e6,
      rows: 3600,
      voltageNoise_mV: mV,
      absI_mA: absI,
      temperature_C: T,
    });
    const changes: (string | null)[] = [];
    // Ten quiet hours at 25 °C, 0.5 mV.
    for (let h = 0; h < 10; h++) changes.push(observeNoiseWindow(s, w(h, 0.5 + 0.01 * (h % 3)), DEFAULT_NOISE));
    // Noisier at 35 °C: another temperature, no history to compare with, no rise.
    for (let h = 10; h < 14; h++) changes.push(observeNoiseWindow(s, w(h, 1.5, 35), DEFAULT_NOISE));
    // At another current: no comparable history either.
    changes.push(observeNoiseWindow(s, w(14, 1.5, 25, 5), DEFAULT_NOISE));
    expect(changes.every((c) => c === null)).toBe(true);
    // Back at 25 °C and 2 mA: 2.5× for three windows.
    expect([15, 16, 17].map((h) => observeNoiseWindow(s, w(h, 1.3), DEFAULT_NOISE))).toEqual([null, null, 'raised']);
    expect(s.rising_ms).toBe(15 * 3.6e6);
    expect(observeNoiseWindow(s, w(18, 1.4), DEFAULT_NOISE)).toBeNull();
    expect([19, 20, 21].map((h) => observeNoiseWindow(s, w(h, 0.55), DEFAULT_NOISE))).toEqual([null, null, 'cleared']);
  });
});

const jr862 = join(__dirname, '../fixtures/real/jr862_11_08_23_insitu-impedance-LiLi_1MLiTFSI_TEGDME-1mA_03_GCPL_C05.txt');

describe.skipIf(!existsSync(jr862))('noise before the real soft short of jr862 (Li | TEGDME | Li, 0.4 mA)', () => {
  it('does not rise before the soft-short onset: it falls, in a file recorded on change', async () => {
    const r = await analyze({ files: [jr862], import: { setCurrent_mA: 0.4 } });
    const noise = r.events.filter((e): e is NoiseEvent => e.type === 'noise');
    const soft = r.events.find((e): e is AlertEvent => e.type === 'alert' && e.code === 'soft-short' && e.state === 'raised')!;
    const onset_ms = soft.onset_ms!;
    // Hourly windows of the 0.4 mA blocks, each against the median of the cell's quiet ones.
    expect(noise.length).toBeGreaterThan(40);
    const before = noise.filter((n) => n.end_ms <= onset_ms && n.baseline_mV !== null);
    const lastTwo = before.slice(-2);
    // 9–10 mV windows through the stable hours; the two before the onset 8.5 mV (0.86× the median), the one the
    // onset falls in 6.7 mV (0.69×), the next 3.0 mV.
    for (const n of lastTwo) expect(n.voltageNoise_mV / n.baseline_mV!).toBeLessThan(0.9);
    const spanning = noise.find((n) => n.start_ms < onset_ms && n.end_ms > onset_ms)!;
    expect(spanning.voltageNoise_mV / spanning.baseline_mV!).toBeLessThan(0.75);
    expect(r.events.some((e) => e.type === 'alert' && e.code === 'noise-rising' && e.t_ms <= onset_ms)).toBe(false);
    // The rows per window follow the noise: EC-Lab wrote a row per voltage change, so quieter hours have fewer rows.
    expect(lastTwo.every((n) => n.rows < 1000)).toBe(true);
  }, 60_000);
});
