/**
 * The runs of the paper (SPEC §1) as simulator scenarios. Times in hours from the start of the run.
 * Polarization is given as keyframes of `a(t)`: the extra R_app/R_ref reached at the end of a nominal half
 * cycle (the ratio grows linearly within each half cycle, as voids grow), interpolated on a log scale.
 */
import type { CellConfig } from '../domain/cell.js';
import { conductivityFactor } from '../domain/physics.js';

export interface CurrentStep {
  /** Start of this step (h). */
  readonly from_h: number;
  readonly j_mA_cm2: number;
  readonly halfCycle_s: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly duration_h: number;
  readonly steps: readonly CurrentStep[];
  readonly polarization: readonly (readonly [t_h: number, a: number])[];
  /** Hard shorts: R_short (Ω, default 6: V follows I at ~0.01–0.05 V; 0.05 for a metal bridge, |V| ≈ 0.1 mV). */
  readonly shorts: readonly { readonly from_h: number; readonly to_h: number | null; readonly resistance_ohm?: number }[];
  /**
   * A soft short: a parallel electronic leak from `from_h` whose conductance grows until R_app/R_ref reaches
   * `ratio` at `to_h` (with the voltage noise growing `noiseFactor`-fold); a hard short usually follows.
   */
  readonly softShort?: { readonly from_h: number; readonly to_h: number; readonly ratio: number; readonly noiseFactor: number };
  /** Stack pressure relaxing from `from` to `to` MPa with time constant `tau_h`; contact is lost below `contactLoss_MPa`. */
  readonly pressure?: { readonly from_MPa: number; readonly to_MPa: number; readonly tau_h: number; readonly contactLoss_MPa: number };
  /** Impedance pauses: every `every_h`, `duration_min` of zero current; the half cycle then resumes where it stopped. */
  readonly rests?: { readonly every_h: number; readonly duration_min: number };
  /** The cell, where it is not the paper's pellet (`simulatedCell`): what the registry says of it. */
  readonly cell?: Partial<CellConfig>;
  /**
   * Interface-dominated cells: the interfaces add `factor − 1` times the bulk resistance (so R_ref is `factor` times
   * the theoretical one), and the whole resistance drifts up by `growth` over the run, evenly (no growth within a half
   * cycle, no recovery at reversal: not contact loss).
   */
  readonly interface?: { readonly factor: number; readonly growth: number };
}

/** The paper's σ, 6.6 mS cm⁻¹, is quoted at 23 °C: ≈ 7.1 mS cm⁻¹ at 25 °C with Ea 0.30 eV. */
export const PAPER_SIGMA25_S_CM = 6.6e-3 / conductivityFactor(23, 0.3);

/** The paper's pellet: 0.92 cm², 2.3 mm, σ25 ≈ 7.1 mS cm⁻¹ → R_ref ≈ 35.3 Ω at 25 °C, ~0.07 V at 2 mA cm⁻² at 23 °C. */
export function simulatedCell(id: string): CellConfig {
  return {
    id,
    areaCm2: 0.92,
    thicknessCm: 0.23,
    sigmaSPerCm: PAPER_SIGMA25_S_CM,
    activationEnergyEv: 0.3,
    metal: 'Na',
    electrolyte: 'solid',
    complianceV: 8,
    pressureMPa: { min: 4, max: 26 },
    temperatureC: { min: 18, max: 30 },
    nominalTemperatureC: 25,
    thermalLag_min: 0,
    referenceMode: 'calibrated',
  };
}

const ccdSteps: CurrentStep[] = Array.from({ length: 11 }, (_, k) => ({
  from_h: (k * 20) / 60,
  j_mA_cm2: 2 * (k + 1),
  halfCycle_s: 300,
}));

/** A rate test: 0.1 → 0.2 → 0.5 → 1 → 2 mA cm⁻² and back, 8 half cycles of 1 h per step, 30 min at rest between steps. */
const RATE_TEST_J = [0.1, 0.2, 0.5, 1, 2, 2, 1, 0.5, 0.2, 0.1];
const rateSteps: CurrentStep[] = RATE_TEST_J.map((j, k) => ({ from_h: k * 8.5, j_mA_cm2: j, halfCycle_s: 3600 }));
/** What a rate test shares, whatever becomes of the cell. */
const rateTest = { duration_h: RATE_TEST_J.length * 8.5, steps: rateSteps, shorts: [], rests: { every_h: 8.5, duration_min: 30 } } as const;

/** A temperature study's chamber setpoints (from h, °C): 25 → 40 → 60 → 40 → 25 °C in day-long holds. */
export const TEMPERATURE_STUDY: readonly (readonly [number, number])[] = [
  [0, 25],
  [24, 40],
  [48, 60],
  [72, 40],
  [96, 25],
];

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'long-term': {
    name: 'long-term',
    description: '±2 mA cm⁻², 1 h half cycles: stable ~300 h, polarization accelerating after 650 h, 8 V after 700 h, 800 h',
    duration_h: 800,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [
      [300, 0.01],
      [400, 1],
      [650, 4],
      [700, 115],
      [800, 4000],
    ],
    shorts: [],
    rests: { every_h: 97.6, duration_min: 30 },
  },
  'high-rate': {
    name: 'high-rate',
    description: '±5 mA cm⁻², 1 h half cycles: polarization after 10 h, 8 V at ~50 h, first short at 90 h, then the polarization/short loop',
    duration_h: 200,
    steps: [{ from_h: 0, j_mA_cm2: 5, halfCycle_s: 3600 }],
    polarization: [
      [10, 0.01],
      [20, 1],
      [50, 46],
      [90, 400],
      [200, 3000],
    ],
    shorts: [
      { from_h: 90, to_h: 93 },
      { from_h: 101, to_h: 101.5 },
      { from_h: 118, to_h: 126 },
      { from_h: 140, to_h: 141 },
      { from_h: 165, to_h: 175 },
      { from_h: 190, to_h: null },
    ],
  },
  'very-high-rate': {
    name: 'very-high-rate',
    description: '±10 mA cm⁻², 15 min half cycles: stable 3 h, 8 V at 7 h, short at 16 h, then the loop',
    duration_h: 30,
    steps: [{ from_h: 0, j_mA_cm2: 10, halfCycle_s: 900 }],
    polarization: [
      [3, 0.01],
      [5, 2],
      [7, 23],
      [16, 150],
      [30, 600],
    ],
    shorts: [
      { from_h: 16, to_h: 17 },
      { from_h: 19, to_h: 19.3 },
      { from_h: 22, to_h: 24 },
      { from_h: 26.5, to_h: null },
    ],
  },
  'rate-test': {
    name: 'rate-test',
    description: 'rate test: ±0.1, 0.2, 0.5, 1, 2 mA cm⁻² and back, 8 h per step with 30 min rests between steps; stable throughout',
    ...rateTest,
    polarization: [],
  },
  'rate-test-damage': {
    name: 'rate-test-damage',
    description:
      'rate test as `rate-test`, but the 2 mA cm⁻² steps exceed what the interface takes: voids grow from 36 h and remain when the current steps down (polarization to the end)',
    ...rateTest,
    polarization: [
      [36, 0.01],
      [42, 1],
      [85, 2.5],
    ],
  },
  'li-llzo': {
    name: 'li-llzo',
    description:
      'Li | LLZO | Li, 0.5 cm², ±0.2 mA cm⁻², 1 h half cycles, 5 V compliance: interfaces at 10× the bulk, growing +28 % over 200 h; a hard short at 170 h',
    duration_h: 200,
    steps: [{ from_h: 0, j_mA_cm2: 0.2, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [{ from_h: 170, to_h: null }],
    rests: { every_h: 48, duration_min: 30 },
    cell: { areaCm2: 0.5, thicknessCm: 0.1, sigmaSPerCm: 5e-4, activationEnergyEv: 0.4, metal: 'Li', complianceV: 5 },
    interface: { factor: 10, growth: 0.28 },
  },
  'li-liquid': {
    name: 'li-liquid',
    description:
      'Li | liquid electrolyte | Li coin cell, 1.13 cm², ±0.5 mA cm⁻², 1 h half cycles, 1 V limit, no σ in the registry: stable, a hard short at 150 h',
    duration_h: 200,
    steps: [{ from_h: 0, j_mA_cm2: 0.5, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [{ from_h: 150, to_h: null }],
    cell: { areaCm2: 1.13, sigmaSPerCm: undefined, metal: 'Li', electrolyte: 'liquid', complianceV: 1 },
  },
  ccd: {
    name: 'ccd',
    description: 'CCD ramp: ±2, 4, … 22 mA cm⁻², 5 min half cycles, 4 half cycles a step; short at 22 mA cm⁻²',
    duration_h: 11 * (20 / 60),
    steps: ccdSteps,
    polarization: [],
    shorts: [{ from_h: 10 * (20 / 60) + 2 / 60, to_h: null }],
  },
  onset: {
    name: 'onset',
    description: '±2 mA cm⁻², 1 h half cycles, 120 h: stable, then polarization from ~80 h (for acquisition and registry realities)',
    duration_h: 120,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [
      [60, 0.01],
      [90, 1],
      [120, 30],
    ],
    shorts: [],
    rests: { every_h: 24, duration_min: 30 },
  },
  'soft-short': {
    name: 'soft-short',
    description: '±2 mA cm⁻², 1 h half cycles: a leak drifts R_app to 0.6× R_ref from 30 h to 40 h, then a hard short at 44 h',
    duration_h: 60,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [{ from_h: 44, to_h: null }],
    softShort: { from_h: 30, to_h: 40, ratio: 0.6, noiseFactor: 3 },
  },
  'hard-short': {
    name: 'hard-short',
    description: '±2 mA cm⁻², 1 h half cycles: a metal bridge at 3.5 h, during calibration (|V| collapses to ~0.1 mV)',
    duration_h: 8,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [{ from_h: 3.5, to_h: null, resistance_ohm: 0.05 }],
  },
  pressure: {
    name: 'pressure',
    description: '±2 mA cm⁻², 1 h half cycles: stack pressure relaxes 10 → 3 MPa; contact is lost below 5 MPa',
    duration_h: 120,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [],
    pressure: { from_MPa: 10, to_MPa: 3, tau_h: 40, contactLoss_MPa: 5 },
  },
  control: {
    name: 'control',
    description: '±2 mA cm⁻², 1 h half cycles, 400 h stable: temperature drift, pressure relaxation, rests, spikes, missing and duplicated samples',
    duration_h: 400,
    steps: [{ from_h: 0, j_mA_cm2: 2, halfCycle_s: 3600 }],
    polarization: [],
    shorts: [],
    rests: { every_h: 97.6, duration_min: 30 },
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);
