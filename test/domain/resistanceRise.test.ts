/**
 * Which resistance rose (domain/resistanceRise.ts): R_app of the half cycles beside R_hf of the spectra, on made-up
 * readings of each kind and on the real `mb` run (EC-Lab Modulo Bat with PEIS blocks between half cycles).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../pipelines/analyze.js';
import { classifyResistanceRise, type Reading } from '../../src/domain/resistanceRise.js';

const H = 3.6e6;
const series = (r0: number, r1: number, n: number, every_h: number, offset_h = 0): Reading[] =>
  Array.from({ length: n }, (_, k) => ({ t_ms: (offset_h + k * every_h) * H, r_ohm: r0 + ((r1 - r0) * k) / (n - 1) }));

describe('classifyResistanceRise', () => {
  it('contact (R_app up, R_hf flat), bulk (both alike), mixed, none; nothing from one spectrum', () => {
    const hc = (r0: number, r1: number): Reading[] => series(r0, r1, 21, 1, 0.5);
    expect(classifyResistanceRise(hc(40, 60), series(30, 31, 5, 5))).toMatchObject({ kind: 'interface', spectra: 5 });
    expect(classifyResistanceRise(hc(40, 60), series(30, 31, 5, 5))!.text).toBe(
      'an interface or contact rise: the DC resistance rose, the pellet’s did not (R_app +48 %, R_hf +3 % over 5 spectra)',
    );
    expect(classifyResistanceRise(hc(40, 52), series(30, 39, 5, 5))).toMatchObject({ kind: 'bulk' });
    expect(classifyResistanceRise(hc(40, 80), series(30, 36, 5, 5))).toMatchObject({ kind: 'mixed' });
    expect(classifyResistanceRise(hc(40, 41), series(30, 30.5, 5, 5))).toMatchObject({ kind: 'none' });
    expect(classifyResistanceRise(hc(40, 60), series(30, 30, 1, 5))).toBeNull();
  });
});

const mb = join(__dirname, '../../../shared/data/real/mb.mpr');

describe.skipIf(!existsSync(mb))('the real mb run (../shared/data/real)', () => {
  it('8 spectra over 8 h: no rise (R_app +0 %, R_hf +4 %)', async () => {
    const r = await analyze({ files: [mb] });
    const rise = r.summaries[0]!.impedance!.resistanceRise!;
    expect(rise).toMatchObject({ kind: 'none', spectra: 8 });
    expect(rise.dcChange).toBeCloseTo(0, 2);
    expect(rise.acChange).toBeCloseTo(0.041, 3);
  });
});
