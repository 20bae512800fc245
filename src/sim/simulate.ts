/**
 * Physics-based synthetic telemetry of a symmetric cell (Eq. 2 with a shrinking contact area), with the
 * noise SPEC §3 lists and the cycler's behaviour at the compliance limit. Deterministic for a seed.
 */
import type { CellConfig } from '../domain/cell.js';
import { conductivityFactor, referenceResistance_ohm } from '../domain/physics.js';
import type { Sample } from '../domain/sample.js';
import { PAPER_SIGMA25_S_CM, type Scenario } from './scenarios.js';

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
  /** Lab realities (SPEC §2–3) on top of the physics; none by default. */
  readonly lab?: LabRealities;
}

/** What real instruments and labs do to telemetry. Every field is optional. */
export interface LabRealities {
  /** The logged temperature is the chamber's: a ±`setback_C` day/night set-back around 23.5 °C, which the cell follows with this lag. */
  readonly chamber?: {
    readonly lag_min: number;
    readonly setback_C: number;
    /** A temperature study instead: the chamber's setpoint (°C) from each time (h) on, reached in ~10 min. */
    readonly steps?: readonly (readonly [from_h: number, setpoint_C: number])[];
  };
  /** Log a row every this many seconds (the physics still runs at dt_s). */
  readonly logEvery_s?: number;
  /** EC-Lab record-on-change: a row when |V| moved by `dV` since the last row, or after `max_s`. */
  readonly recordOnChange?: { readonly dV: number; readonly max_s: number };
  /** Logger gaps: nothing is recorded for `duration_h` from `from_h`. */
  readonly gaps?: readonly { readonly from_h: number; readonly duration_h: number }[];
  /** The logger clock jumps ahead by `jump_s` at `at_h`; every later timestamp carries it. */
  readonly clockJump?: { readonly at_h: number; readonly jump_s: number };
  /** The cycler never reaches exactly 0 A at rest: a few µA of this (mA). */
  readonly restCurrent_mA?: number;
  /**
   * Impedance spectroscopy during every rest: rows catch the excitation at random phases, a current of up to
   * ±`current_mA` with a voltage of up to ±`voltage_V` in phase.
   */
  readonly eisAtRest?: { readonly current_mA: number; readonly voltage_V: number };
  /** At every current change the cycler also logs a row with the current only. */
  readonly currentOnlyRows?: boolean;
  /**
   * Instrument transients: the first `rows` rows logged after every change of the current (a reversal, a rest's
   * end, a range switch) read 3–20× the plateau, at most 0.9× the compliance voltage.
   */
  readonly transients?: { readonly rows: number };
  /** The instrument's voltage offset (mV, within a potentiostat's ±1 mV spec): every logged voltage carries it. */
  readonly offset_mV?: number;
  /** Every `every_h` the export repeats its last `rows` rows (a duplicated export block). */
  readonly duplicateBlocks?: { readonly every_h: number; readonly rows: number };
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
  /** First sample at which a leak brought the noise-free ratio below 0.75. */
  softShortOnset: string | null;
  /** The cell's true R_ref at 25 °C (the registry may say otherwise). */
  rRef25_ohm: number;
  /** Per half cycle (logged start time): the highest noise-free ratio reached, and whether the cycler cut it. */
  halfCycles: { start: string; peakRatio: number; cut: boolean }[];
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

/** First-order response of the cell to the chamber temperature, integrated at the simulation step. */
function chamberTemperature(t_h: number, setback_C: number): number {
  // Day (8–20 h) at +setback, night at −setback, with the chamber's own ~10 min approach to each setpoint.
  const h = t_h % 24;
  const day = h >= 8 && h < 20;
  const since_h = day ? h - 8 : (h + 4) % 24;
  const target = 23.5 + (day ? setback_C : -setback_C);
  const from = 23.5 + (day ? -setback_C : setback_C);
  return target + (from - target) * Math.exp(-since_h / (10 / 60));
}

/** A chamber stepped through setpoints, approaching each with a 10 min time constant. */
function steppedChamber(t_h: number, steps: readonly (readonly [number, number])[]): number {
  let k = 0;
  while (k + 1 < steps.length && t_h >= steps[k + 1]![0]) k++;
  const [from_h, target] = steps[k]!;
  const previous = k > 0 ? steps[k - 1]![1] : target;
  return target + (previous - target) * Math.exp(-(t_h - from_h) / (10 / 60));
}

/**
 * Yields the samples of one cell in event-time order (apart from the deliberate swaps and duplicated blocks),
 * and fills `truth`.
 */
export function* simulateCell(scenario: Scenario, cell: CellConfig, options: SimOptions, truth: CellTruth): Generator<Sample> {
  const rand = rng(options.seed);
  const n = options.noise;
  const lab = options.lab ?? {};
  const duration_s = (options.duration_h ?? scenario.duration_h) * 3600;
  const rRef25 = referenceResistance_ohm(cell.thicknessCm ?? 0.23, cell.sigmaSPerCm ?? PAPER_SIGMA25_S_CM, cell.areaCm2) * (scenario.interface?.factor ?? 1);
  truth.rRef25_ohm = rRef25;
  const compliance = cell.complianceV;
  const tempPhase = rand() * 2 * Math.PI;
  let stepIndex = 0;
  let sign = 1;
  let hcStart_s = 0;
  let cutPending = false;
  let held: Sample | null = null;
  let emitted = 0;
  let cellTemperature_C = NaN;
  let lastLogged_s = -Infinity;
  let lastLoggedV = NaN;
  let lastCurrent = NaN;
  /** Rows still to be logged with an instrument transient. */
  let transientRows = 0;
  let hcTruth: { start: string; peakRatio: number; cut: boolean } | null = null;
  const recent: Sample[] = [];
  let nextBlock_h = lab.duplicateBlocks?.every_h ?? Infinity;
  const shortState = scenario.shorts.map(() => ({ started: false }));
  const stamp = (t_s: number): number =>
    options.start_ms + t_s * 1000 + (lab.clockJump !== undefined && t_s >= lab.clockJump.at_h * 3600 ? lab.clockJump.jump_s * 1000 : 0);
  const isoAt = (t_s: number): string => new Date(stamp(t_s)).toISOString();

  for (let k = 0; ; k++) {
    const t_s = k * options.dt_s;
    if (t_s > duration_s) break;
    const t_h = t_s / 3600;
    while (stepIndex + 1 < scenario.steps.length && t_h >= scenario.steps[stepIndex + 1]!.from_h) {
      stepIndex++;
      sign = 1;
      hcStart_s = t_s;
      hcTruth = null;
    }
    const step = scenario.steps[stepIndex]!;
    if (cutPending || t_s - hcStart_s >= step.halfCycle_s) {
      sign = -sign;
      hcStart_s = t_s;
      cutPending = false;
      hcTruth = null;
    }
    let loggedTemperature_C: number;
    if (lab.chamber !== undefined) {
      loggedTemperature_C = lab.chamber.steps !== undefined ? steppedChamber(t_h, lab.chamber.steps) : chamberTemperature(t_h, lab.chamber.setback_C);
      cellTemperature_C =
        cellTemperature_C !== cellTemperature_C
          ? loggedTemperature_C
          : loggedTemperature_C + (cellTemperature_C - loggedTemperature_C) * Math.exp(-options.dt_s / (lab.chamber.lag_min * 60));
    } else {
      loggedTemperature_C = 23.5 + 2.5 * Math.sin((2 * Math.PI * t_h) / 24 + tempPhase);
      cellTemperature_C = loggedTemperature_C;
    }
    const p = scenario.pressure;
    const stackPressure_MPa = p === undefined ? 6 + 6 * Math.exp(-t_h / 100) : p.to_MPa + (p.from_MPa - p.to_MPa) * Math.exp(-t_h / p.tau_h);
    const pressure_MPa = stackPressure_MPa + 0.05 * gaussian(rand); // what the force sensor reads
    const rest = scenario.rests !== undefined && t_h > 1 && t_h % scenario.rests.every_h < scenario.rests.duration_min / 60;

    let current_mA: number;
    let voltage_V: number;
    let relative = n.relative;
    if (rest) {
      current_mA = lab.restCurrent_mA === undefined ? 0 : lab.restCurrent_mA * (rand() < 0.5 ? -1 : 1);
      voltage_V = 0.0005 * gaussian(rand);
      if (lab.eisAtRest !== undefined) {
        const phase = Math.sin(2 * Math.PI * rand());
        current_mA = lab.eisAtRest.current_mA * phase;
        voltage_V += lab.eisAtRest.voltage_V * phase;
      }
      hcStart_s += options.dt_s; // the half cycle's clock stands still: the cycler resumes it where it stopped
    } else {
      current_mA = sign * step.j_mA_cm2 * cell.areaCm2;
      const shortIdx = scenario.shorts.findIndex((s) => t_h >= s.from_h && (s.to_h === null || t_h < s.to_h));
      if (shortIdx >= 0) {
        const sc = scenario.shorts[shortIdx]!;
        voltage_V = (current_mA / 1000) * (sc.resistance_ohm ?? SHORT_RESISTANCE_OHM);
        if (!shortState[shortIdx]!.started) {
          shortState[shortIdx]!.started = true;
          truth.shorts.push({
            start: isoAt(t_s),
            end: sc.to_h === null || sc.to_h * 3600 > duration_s ? null : isoAt(Math.ceil((sc.to_h * 3600) / options.dt_s) * options.dt_s),
          });
        }
      } else {
        const rCell = rRef25 / conductivityFactor(cellTemperature_C, cell.activationEnergyEv);
        // Conditioning: contact improves over the first hours (43 → 38 Ω in the paper).
        const conditioning = 1 + 0.13 * Math.exp(-t_h / 1.5);
        const a = polarizationAt(scenario.polarization, t_h);
        const tau = (t_s - hcStart_s) / step.halfCycle_s;
        const contact = p === undefined || stackPressure_MPa >= p.contactLoss_MPa ? 1 : 1 + 0.6 * (p.contactLoss_MPa - stackPressure_MPa);
        const drift = 1 + (scenario.interface?.growth ?? 0) * (t_h / scenario.duration_h);
        let ratio = conditioning * contact * drift * (1 + a * tau);
        const ss = scenario.softShort;
        if (ss !== undefined && t_h >= ss.from_h) {
          // A parallel leak whose conductance grows linearly to reach the target ratio at to_h, then stays.
          const w = Math.min(1, (t_h - ss.from_h) / (ss.to_h - ss.from_h));
          const leak = w > 0 ? ((1 / ss.ratio - 1) * w) / ratio : 0;
          ratio = ratio / (1 + leak * ratio);
          relative *= 1 + (ss.noiseFactor - 1) * w;
          if (truth.softShortOnset === null && ratio < 0.75) truth.softShortOnset = isoAt(t_s);
        }
        if (truth.polarizationOnset === null && ratio > 1.5) truth.polarizationOnset = isoAt(t_s);
        voltage_V = (current_mA / 1000) * rCell * ratio;
        if (hcTruth === null) truth.halfCycles.push((hcTruth = { start: isoAt(t_s), peakRatio: ratio, cut: false }));
        else if (ratio > hcTruth.peakRatio) hcTruth.peakRatio = ratio;
        if (Math.abs(voltage_V) >= compliance) {
          voltage_V = Math.sign(voltage_V) * compliance;
          cutPending = true;
          hcTruth.cut = true;
          if (truth.firstCompliance === null) truth.firstCompliance = isoAt(t_s);
        }
      }
      voltage_V += voltage_V * relative * gaussian(rand) + n.absolute_V * gaussian(rand);
      if (rand() < n.spikeProbability) voltage_V *= 2 + 2 * rand();
    }

    // What the logger records of this instant.
    if (lab.gaps?.some((g) => t_h >= g.from_h && t_h < g.from_h + g.duration_h)) continue;
    const currentChanged = current_mA !== lastCurrent;
    if (lab.currentOnlyRows && currentChanged) {
      yield { cell: cell.id, t_ms: stamp(t_s) - 1, voltage_V: undefined, current_mA, pressure_MPa: undefined, temperature_C: undefined };
      emitted++;
    }
    if (currentChanged && lab.transients !== undefined && current_mA !== 0) transientRows = lab.transients.rows;
    lastCurrent = current_mA;
    if (lab.logEvery_s !== undefined && t_s - lastLogged_s < lab.logEvery_s && !currentChanged) continue;
    if (
      lab.recordOnChange !== undefined &&
      !currentChanged &&
      Math.abs(voltage_V - lastLoggedV) < lab.recordOnChange.dV &&
      t_s - lastLogged_s < lab.recordOnChange.max_s
    ) {
      continue;
    }
    lastLogged_s = t_s;
    lastLoggedV = voltage_V;
    if (rand() < n.missingProbability) continue;
    const aux = lab.logEvery_s !== undefined || lab.recordOnChange !== undefined || k % options.auxEvery === 0;
    let loggedV = voltage_V + (lab.offset_mV ?? 0) / 1000;
    if (transientRows > 0) {
      transientRows--;
      loggedV = Math.sign(voltage_V) * Math.min(0.9 * compliance, Math.abs(voltage_V) * (3 + 17 * rand()));
    }
    const s: Sample = {
      cell: cell.id,
      t_ms: stamp(t_s),
      voltage_V: loggedV,
      current_mA,
      pressure_MPa: aux ? pressure_MPa : undefined,
      temperature_C: aux ? loggedTemperature_C : undefined,
    };
    if (lab.duplicateBlocks !== undefined) {
      recent.push(s);
      if (recent.length > lab.duplicateBlocks.rows) recent.shift();
      if (t_h >= nextBlock_h) {
        nextBlock_h += lab.duplicateBlocks.every_h;
        yield s;
        for (const r of recent) yield r;
        emitted += 1 + recent.length;
        continue;
      }
    }
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
    softShortOnset: null,
    rRef25_ohm: NaN,
    halfCycles: [],
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
