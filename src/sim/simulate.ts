/**
 * Physics-based synthetic telemetry of a symmetric cell (Eq. 2 with a shrinking contact area), with the
 * noise SPEC §3 lists and the cycler's behaviour at the compliance limit. Deterministic for a seed.
 */
import type { CellConfig } from '../domain/cell.js';
import { conductivityFactor, referenceResistance_ohm } from '../domain/physics.js';
import type { Sample } from '../domain/sample.js';
import type { Scenario } from './scenarios.js';

export interface SimOptions {
  readonly seed: number;
  readonly dt_s: number;
  readonly start_ms: number;
  /** Duration override (h); the scenario's own by default. */
  readonly duration_h?: number;
  /** Pressure and temperature are published once every this many electrochemical samples. */
  readonly auxEvery: number;
  readonly noise: {
    readonly relative: number;
    readonly absolute_V: number;
    readonly spikeProbability: number;
    readonly missingProbability: number;
    readonly duplicateProbability: number;
    readonly swapProbability: number;
  };
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  seed: 1,
  dt_s: 1,
  start_ms: Date.parse('2026-01-01T00:00:00Z'),
  auxEvery: 10,
  noise: {
    relative: 0.005,
    absolute_V: 0.001,
    spikeProbability: 2e-4,
    missingProbability: 1e-3,
    duplicateProbability: 5e-4,
    swapProbability: 5e-4,
  },
};

/** What really happened, for tests to check the detector against. Times ISO. */
export interface CellTruth {
  readonly cell: string;
  readonly scenario: string;
  readonly start: string;
  readonly end: string;
  /** First sample whose noise-free R_app/R_ref(T) exceeded 1.5. */
  polarizationOnset: string | null;
  firstCompliance: string | null;
  shorts: { start: string; end: string | null }[];
  isolatedShorts: number;
  failureMode: 'none' | 'polarization' | 'short' | 'short-loop';
  ccd_mA_cm2: number | null;
  nominalHalfCycle_s: number;
  samplesEmitted: number;
  config: CellConfig;
}

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-scale interpolation of the polarization keyframes; 0 before the first. */
export function polarizationAt(keys: Scenario['polarization'], t_h: number): number {
  if (keys.length === 0 || t_h < keys[0]![0]) return 0;
  for (let k = 1; k < keys.length; k++) {
    const [t1, a1] = keys[k]!;
    if (t_h <= t1) {
      const [t0, a0] = keys[k - 1]!;
      const w = (t_h - t0) / (t1 - t0);
      return Math.exp(Math.log(a0) + w * (Math.log(a1) - Math.log(a0)));
    }
  }
  return keys[keys.length - 1]![1];
}

const SHORT_RESISTANCE_OHM = 6;

/**
 * Yields the samples of one cell in event-time order (apart from the deliberate swaps), and fills `truth`.
 */
export function* simulateCell(scenario: Scenario, cell: CellConfig, options: SimOptions, truth: CellTruth): Generator<Sample> {
  const rand = rng(options.seed);
  const n = options.noise;
  const duration_s = (options.duration_h ?? scenario.duration_h) * 3600;
  const rRef25 = referenceResistance_ohm(cell.thicknessCm ?? 0.23, cell.sigmaSPerCm ?? 6.6e-3, cell.areaCm2);
  const compliance = cell.complianceV;
  const tempPhase = rand() * 2 * Math.PI;
  let stepIndex = 0;
  let sign = 1;
  let hcStart_s = 0;
  let cutPending = false;
  let held: Sample | null = null;
  let emitted = 0;
  const shortState = scenario.shorts.map(() => ({ started: false }));

  for (let k = 0; ; k++) {
    const t_s = k * options.dt_s;
    if (t_s > duration_s) break;
    const t_h = t_s / 3600;
    while (stepIndex + 1 < scenario.steps.length && t_h >= scenario.steps[stepIndex + 1]!.from_h) {
      stepIndex++;
      sign = 1;
      hcStart_s = t_s;
    }
    const step = scenario.steps[stepIndex]!;
    if (cutPending || t_s - hcStart_s >= step.halfCycle_s) {
      sign = -sign;
      hcStart_s = t_s;
      cutPending = false;
    }
    const temperature_C = 23.5 + 2.5 * Math.sin((2 * Math.PI * t_h) / 24 + tempPhase);
    const pressure_MPa = 6 + 6 * Math.exp(-t_h / 100) + 0.05 * gaussian(rand);
    const rest = scenario.rests !== undefined && t_h > 1 && t_h % scenario.rests.every_h < scenario.rests.duration_min / 60;

    let current_mA: number;
    let voltage_V: number;
    if (rest) {
      current_mA = 0;
      voltage_V = 0.0005 * gaussian(rand);
      hcStart_s = t_s; // the cycler resumes with a fresh half cycle after the pause
    } else {
      current_mA = sign * step.j_mA_cm2 * cell.areaCm2;
      const shortIdx = scenario.shorts.findIndex((s) => t_h >= s.from_h && (s.to_h === null || t_h < s.to_h));
      if (shortIdx >= 0) {
        voltage_V = (current_mA / 1000) * SHORT_RESISTANCE_OHM;
        if (!shortState[shortIdx]!.started) {
          shortState[shortIdx]!.started = true;
          const s = scenario.shorts[shortIdx]!;
          truth.shorts.push({
            start: new Date(options.start_ms + t_s * 1000).toISOString(),
            end:
              s.to_h === null || s.to_h * 3600 > duration_s
                ? null
                : new Date(options.start_ms + Math.ceil((s.to_h * 3600) / options.dt_s) * options.dt_s * 1000).toISOString(),
          });
        }
      } else {
        const rCell = rRef25 / conductivityFactor(temperature_C, cell.activationEnergyEv);
        // Conditioning: contact improves over the first hours (43 → 38 Ω in the paper).
        const conditioning = 1 + 0.13 * Math.exp(-t_h / 3);
        const a = polarizationAt(scenario.polarization, t_h);
        const tau = (t_s - hcStart_s) / step.halfCycle_s;
        const ratio = conditioning * (1 + a * tau);
        if (truth.polarizationOnset === null && ratio > 1.5) truth.polarizationOnset = new Date(options.start_ms + t_s * 1000).toISOString();
        voltage_V = (current_mA / 1000) * rCell * ratio;
        if (Math.abs(voltage_V) >= compliance) {
          voltage_V = Math.sign(voltage_V) * compliance;
          cutPending = true;
          if (truth.firstCompliance === null) truth.firstCompliance = new Date(options.start_ms + t_s * 1000).toISOString();
        }
      }
      voltage_V += voltage_V * n.relative * gaussian(rand) + n.absolute_V * gaussian(rand);
      if (rand() < n.spikeProbability) voltage_V *= 2 + 2 * rand();
    }

    if (rand() < n.missingProbability) continue;
    const aux = k % options.auxEvery === 0;
    const s: Sample = {
      cell: cell.id,
      t_ms: options.start_ms + t_s * 1000,
      voltage_V,
      current_mA,
      pressure_MPa: aux ? pressure_MPa : undefined,
      temperature_C: aux ? temperature_C : undefined,
    };
    // Slightly out-of-order delivery: hold one sample back and emit it after its successor.
    if (held !== null) {
      yield s;
      yield held;
      emitted += 2;
      held = null;
      continue;
    }
    if (rand() < n.swapProbability) {
      held = s;
      continue;
    }
    yield s;
    emitted++;
    if (rand() < n.duplicateProbability) {
      yield s;
      emitted++;
    }
  }
  if (held !== null) {
    yield held;
    emitted++;
  }
  truth.samplesEmitted = emitted;
  const isolated = truth.shorts.filter((s) => s.end !== null).length;
  truth.isolatedShorts = isolated;
  truth.failureMode = isolated >= 2 ? 'short-loop' : truth.shorts.length > 0 ? 'short' : truth.firstCompliance !== null ? 'polarization' : 'none';
  const firstShort = truth.shorts[0];
  if (firstShort !== undefined && scenario.steps.length > 1) {
    const t_h = (Date.parse(firstShort.start) - options.start_ms) / 3.6e6;
    truth.ccd_mA_cm2 = [...scenario.steps].reverse().find((s) => t_h >= s.from_h)!.j_mA_cm2;
  }
}

export function emptyTruth(scenario: Scenario, cell: CellConfig, options: SimOptions): CellTruth {
  const duration_s = (options.duration_h ?? scenario.duration_h) * 3600;
  return {
    cell: cell.id,
    scenario: scenario.name,
    start: new Date(options.start_ms).toISOString(),
    end: new Date(options.start_ms + duration_s * 1000).toISOString(),
    polarizationOnset: null,
    firstCompliance: null,
    shorts: [],
    isolatedShorts: 0,
    failureMode: 'none',
    ccd_mA_cm2: null,
    nominalHalfCycle_s: scenario.steps[0]!.halfCycle_s,
    samplesEmitted: 0,
    config: cell,
  };
}

/** Several cells merged by event time (each keeps its own small disorder). */
export function* mergeByTime(sources: Iterator<Sample>[]): Generator<Sample> {
  const heads = sources.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.done) continue;
      if (best < 0 || h.value.t_ms < (heads[best]!.value as Sample).t_ms) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as Sample;
    heads[best] = sources[best]!.next();
  }
}
