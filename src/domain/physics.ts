/**
 * Physics of a metal | solid electrolyte | metal symmetric cell (Liu, Ma et al., J. Power Sources 2024).
 * Pure functions, SI-ish lab units carried in the names.
 */

export const FARADAY_C_PER_MOL = 96485.33212;
export const BOLTZMANN_EV_PER_K = 8.617333262e-5;
export const T_REF_K = 298.15;
export const ZERO_C_IN_K = 273.15;

export type Metal = 'Na' | 'Li';

export interface MetalProperties {
  /** Concentration of metal atoms φ (mol cm⁻³). */
  readonly phi_mol_cm3: number;
  /** Self-diffusion coefficient D at 25 °C (cm² s⁻¹). */
  readonly diffusion_cm2_s: number;
  readonly molarMass_g_mol: number;
  readonly density_g_cm3: number;
}

export const METALS: Readonly<Record<Metal, MetalProperties>> = {
  Na: { phi_mol_cm3: 0.0421, diffusion_cm2_s: 5.4e-9, molarMass_g_mol: 22.99, density_g_cm3: 0.968 },
  Li: { phi_mol_cm3: 0.0769, diffusion_cm2_s: 5.1e-11, molarMass_g_mol: 6.94, density_g_cm3: 0.534 },
};

/**
 * Eq. 1: longest galvanostatic half cycle before the stripping electrode delaminates,
 * t_max = (φ F √(πD) / (2 j))².
 */
export function tMax_s(currentDensity_mA_cm2: number, metal: Metal = 'Na'): number {
  const j_A_cm2 = Math.abs(currentDensity_mA_cm2) / 1000;
  if (j_A_cm2 === 0) return Infinity;
  const m = METALS[metal];
  const x = (m.phi_mol_cm3 * FARADAY_C_PER_MOL * Math.sqrt(Math.PI * m.diffusion_cm2_s)) / (2 * j_A_cm2);
  return x * x;
}

/**
 * σ(T)/σ(25 °C) from the Arrhenius law σ(T) = σ25 · exp(−Ea/k_B · (1/T − 1/298.15 K)).
 * Resistances scale with the inverse of this factor.
 */
export function conductivityFactor(temperature_C: number, activationEnergy_eV: number): number {
  const T_K = temperature_C + ZERO_C_IN_K;
  return Math.exp((-activationEnergy_eV / BOLTZMANN_EV_PER_K) * (1 / T_K - 1 / T_REF_K));
}

/** Eq. 2 with full contact: R_ref = d / (σ · A). */
export function referenceResistance_ohm(thickness_cm: number, sigma_S_cm: number, area_cm2: number): number {
  return thickness_cm / (sigma_S_cm * area_cm2);
}

/** Eq. 2 solved for σ: the total conductivity that a measured cell resistance implies. */
export function conductivityFromResistance_S_cm(resistance_ohm: number, thickness_cm: number, area_cm2: number): number {
  return thickness_cm / (resistance_ohm * area_cm2);
}

/** Apparent (DC) resistance V / I. */
export function apparentResistance_ohm(voltage_V: number, current_mA: number): number {
  return voltage_V / (current_mA / 1000);
}

/** Contact fraction f = A_eff / A = R_ref / R_app. */
export function contactFraction(apparent_ohm: number, reference_ohm: number): number {
  return reference_ohm / apparent_ohm;
}

/** Local current density j_local = I / A_eff = j_set / f. */
export function localCurrentDensity_mA_cm2(setCurrentDensity_mA_cm2: number, fraction: number): number {
  return setCurrentDensity_mA_cm2 / fraction;
}

/** Local current density straight from Eq. 2: j_local = σ · V / d. */
export function localCurrentDensityFromVoltage_mA_cm2(sigma_S_cm: number, voltage_V: number, thickness_cm: number): number {
  return ((sigma_S_cm * voltage_V) / thickness_cm) * 1000;
}

/** Metal thickness moved by an areal charge: h = q · 3.6 · M / (F · ρ). */
export function metalThickness_um(charge_mAh_cm2: number, metal: Metal = 'Na'): number {
  const m = METALS[metal];
  const thickness_cm = (charge_mAh_cm2 * 3.6 * m.molarMass_g_mol) / (FARADAY_C_PER_MOL * m.density_g_cm3);
  return thickness_cm * 1e4;
}
