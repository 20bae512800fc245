import { describe, expect, it } from 'vitest';
import {
  conductivityFactor,
  conductivityFromResistance_S_cm,
  contactFraction,
  localCurrentDensity_mA_cm2,
  localCurrentDensityFromVoltage_mA_cm2,
  metalThickness_um,
  referenceResistance_ohm,
  tMax_s,
} from '../../src/domain/physics.js';

describe('Eq. 1: void-formation limit t_max', () => {
  it.each([
    [2, 4.9 * 60],
    [5, 47],
    [10, 11.7],
    [22, 2.4],
  ])('Na at %d mA cm⁻² → %f min (SPEC §2)', (j, minutes) => {
    // The SPEC rounds to two or three figures: within 1.5 %.
    expect(Math.abs(tMax_s(j, 'Na') / 60 / minutes - 1)).toBeLessThan(0.015);
  });

  it('is far shorter for Li, whose self-diffusion is 100× slower', () => {
    expect(tMax_s(2, 'Li')).toBeLessThan(tMax_s(2, 'Na') / 20);
  });

  it('scales as 1/j² and is unbounded at rest', () => {
    expect(tMax_s(4) * 4).toBeCloseTo(tMax_s(2), 6);
    expect(tMax_s(0)).toBe(Infinity);
  });
});

describe('Eq. 2: contact fraction and local current density', () => {
  it('0.07 V → 8 V at 2 mA cm⁻² means f ≈ 1/114 and j_local ≈ 230 mA cm⁻² (paper)', () => {
    const rRef = 0.07 / 2e-3; // Ω·cm² terms cancel: ratio of apparent resistances at the same current
    const rApp = 8 / 2e-3;
    const f = contactFraction(rApp, rRef);
    expect(1 / f).toBeCloseTo(114.3, 0);
    expect(localCurrentDensity_mA_cm2(2, f)).toBeGreaterThan(225);
    expect(localCurrentDensity_mA_cm2(2, f)).toBeLessThan(235);
  });

  it('j_local = σ·V/d gives the same ~230 mA cm⁻² for the paper pellet at 8 V', () => {
    expect(localCurrentDensityFromVoltage_mA_cm2(6.6e-3, 8, 0.23)).toBeCloseTo(229.6, 0);
  });

  it('σ from the 38 Ω of the paper pellet (d = 0.23 cm, A = 0.92 cm²) is ≈ 6.6 mS cm⁻¹', () => {
    expect(conductivityFromResistance_S_cm(38, 0.23, 0.92) * 1e3).toBeCloseTo(6.58, 2);
    expect(referenceResistance_ohm(0.23, 6.6e-3, 0.92)).toBeCloseTo(37.88, 1);
  });
});

describe('Arrhenius temperature compensation', () => {
  it('21 → 26 °C changes σ by ~22 % at Ea = 0.30 eV', () => {
    const change = conductivityFactor(26, 0.3) / conductivityFactor(21, 0.3) - 1;
    expect(change).toBeGreaterThan(0.2);
    expect(change).toBeLessThan(0.24);
  });

  it('is 1 at 25 °C and below 1 when colder', () => {
    expect(conductivityFactor(25, 0.3)).toBeCloseTo(1, 12);
    expect(conductivityFactor(20, 0.3)).toBeLessThan(1);
  });
});

describe('metal moved per half cycle', () => {
  it('2 mAh cm⁻² of Na is 17.7 µm', () => {
    expect(metalThickness_um(2, 'Na')).toBeCloseTo(17.7, 1);
  });
  it('5 mAh cm⁻² of Na is ~44 µm (paper: 44.0 µm)', () => {
    expect(metalThickness_um(5, 'Na')).toBeCloseTo(44.2, 0);
  });
});
