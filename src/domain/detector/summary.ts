/**
 * End of input: the open half cycle closed, and the cell's summary (SPEC §5) and labelled segments frozen.
 */
import type { CellConfig } from '../cell.js';
import type { ReferenceSource } from '../reference.js';
import { REGIME_LABELS, type Regime, type RegimeLabel } from '../regime.js';
import { describeForecast } from '../forecast.js';
import { iso } from '../sample.js';
import type { DetectorOptions, DetectorState, Emit } from './state.js';
import { endBreak, closeHalfCycle } from './halfCycles.js';
import { tryCalibrate } from './calibration.js';

export interface CellSummary {
  readonly cell: string;
  /** The electrode area and voltage compliance the cell was judged with (set by the analysis). */
  readonly areaCm2?: number;
  readonly complianceV?: number;
  /** Where the cell's area, compliance and time zone came from (set by the analysis: registry, option, file header, default, machine). */
  readonly configSources?: Readonly<Record<string, string>>;
  /** The lab's zone the cell's local times were read in and its times are shown in (set by the analysis). */
  readonly timeZone?: string;
  /** The instrument file's own description of the run, when it has one. */
  readonly instrument?: { readonly file: string; readonly technique: string | null; readonly channel: string | null };
  /** The programmed protocol from the instrument file's header, checked against Eq. 1 (set by the analysis). */
  readonly protocol?: {
    readonly source: 'header';
    readonly technique: string;
    readonly ccdRamp: boolean;
    readonly steps: readonly import('../protocol.js').CheckedStep[];
  };
  /** Impedance spectra recorded inside the run and their high-frequency intercepts (set by the analysis). */
  readonly impedance?: {
    readonly blocks: number;
    readonly rHfFirst_Ohm: number | null;
    readonly rHfLast_Ohm: number | null;
    readonly rHfMin_Ohm: number | null;
    readonly rHfMax_Ohm: number | null;
    /** Which rose, the DC resistance or the pellet's R_hf (domain/resistanceRise.ts); null with fewer than 2 spectra. */
    readonly resistanceRise?: import('../resistanceRise.js').ResistanceRise | null;
  };
  readonly samples: number;
  readonly start: string | null;
  readonly end: string | null;
  readonly duration_h: number;
  /** Hours with a regime call (not learning, not a non-symmetric cell). */
  readonly judged_h: number;
  readonly symmetric: boolean;
  readonly notSymmetricReason: string | null;
  readonly failureMode: 'none' | 'polarization' | 'short' | 'short-loop';
  /** The compliance forecast standing at the end of the record (while the cell polarizes), counted from its last sample. */
  readonly complianceForecast: {
    readonly issuedAt: string;
    readonly at: string;
    readonly low: string;
    readonly high: string | null;
    readonly in_h: number;
    readonly text: string;
  } | null;
  /** SPEC: first compliance or first short, whichever came first (see `timeToFailureBasis`). */
  readonly timeToFailure_h: number | null;
  readonly timeToFailureBasis: 'compliance' | 'short' | null;
  /** When the failure mode itself began: the loop's first isolated short, the first short, the first compliance. */
  readonly failureModeOnset_h: number | null;
  readonly firstCompliance_h: number | null;
  /** The first short's onset, hours since the start. */
  readonly firstShort_h: number | null;
  readonly regimeDurations_h: Record<RegimeLabel, number>;
  readonly rest_h: number;
  readonly gaps: number;
  readonly gap_h: number;
  /** Data gaps against the cell's own rhythm (`data-gap` alerts) and the samples they miss. */
  readonly dataGaps: number;
  readonly missingSamples: number;
  readonly shortCount: number;
  readonly isolatedShortCount: number;
  /** Isolated shorts per 100 h after the first one: the pace of the polarization/short loop. */
  readonly isolatedShortRate_per100h: number | null;
  readonly softShortCount: number;
  readonly firstSoftShort: string | null;
  readonly halfCycles: number;
  readonly cumulativeCapacity_mAh_cm2: number;
  readonly capacityBeforeFailure_mAh_cm2: number | null;
  readonly minContactFraction: number | null;
  /** At the compliance limit R_app is a lower bound, so this minimum is an upper bound of the true one. */
  readonly minContactFractionIsBound: boolean;
  readonly peakJLocal_mA_cm2: number | null;
  readonly peakJLocalIsLowerBound: boolean;
  readonly ccd_mA_cm2: number | null;
  readonly rampDetected: boolean;
  /** The R_ref(25 °C) that judged the cell and where it came from. */
  readonly rRef25_ohm: number | null;
  readonly rRefSource: ReferenceSource;
  readonly rRefCalibrated25_ohm: number | null;
  readonly rRefTheoretical25_ohm: number | null;
  /** Calibrated over theoretical R_ref: above 1, initial contact or an interface resistance (or notebook values). */
  readonly rRefCalibratedOverTheoretical: number | null;
  readonly calibratedAt: string | null;
  readonly temperatureSource: 'telemetry' | 'nominal';
  /** The thermal lag and activation energy measured at chamber steps (medians), null without a fitted step. */
  readonly thermalFit: { readonly lag_min: number; readonly activationEnergyEv: number; readonly steps: number } | null;
  /** Interface growth called on the cell: its growth per 100 h (0.14 = 14 %) and what R_ref now stands at. */
  readonly interfaceGrowth: { readonly growth_per100h: number; readonly referenceFollow: number } | null;
  readonly finalRegime: Regime;
}
export interface LabelledSegment {
  readonly cell: string;
  readonly regime: RegimeLabel;
  readonly start_ms: number;
  readonly end_ms: number;
}
/** End of input: close the open half cycle and freeze the summary and labelled segments. */
export function finishDetector(s: DetectorState, cell: CellConfig, o: DetectorOptions, emit: Emit): { summary: CellSummary; segments: LabelledSegment[] } {
  endBreak(s, cell, o, emit);
  closeHalfCycle(s, cell, o, emit);
  const ref = s.reference;
  // A record that ended before calibration did: report what it measured, with nothing judged by it.
  if (ref.calibrated25_ohm === null) tryCalibrate(s, cell, o, s.clock.last_ms, () => {}, true);
  const clock = s.clock;
  const segments: LabelledSegment[] = s.segments.map((seg, i) => ({
    cell: s.cell,
    regime: seg.regime,
    start_ms: seg.start_ms,
    end_ms: i + 1 < s.segments.length ? s.segments[i + 1]!.start_ms : clock.last_ms,
  }));
  const durations = Object.fromEntries(REGIME_LABELS.map((r) => [r, 0])) as Record<RegimeLabel, number>;
  for (const seg of segments) durations[seg.regime] += (seg.end_ms - seg.start_ms) / 3.6e6;
  const f = s.failure;
  const failure_ms = minOrNull(f.firstCompliance_ms, f.firstShort_ms);
  const symmetric = s.symmetry.verdict === null;
  const failureMode: CellSummary['failureMode'] = !symmetric
    ? 'none'
    : f.isolatedShortCount >= 2
      ? 'short-loop'
      : f.shortCount > 0
        ? 'short'
        : f.firstCompliance_ms !== null
          ? 'polarization'
          : 'none';
  const firstIsolated = segments.find((x) => x.regime === 'isolated-short');
  const modeOnset_ms =
    failureMode === 'short-loop'
      ? (firstIsolated?.start_ms ?? null)
      : failureMode === 'short'
        ? f.firstShort_ms
        : failureMode === 'polarization'
          ? f.firstCompliance_ms
          : null;
  const loopHours = firstIsolated === undefined ? 0 : (clock.last_ms - firstIsolated.start_ms) / 3.6e6;
  const duration_h = clock.samples > 0 ? (clock.last_ms - clock.first_ms) / 3.6e6 : 0;
  const ramp = s.ramp.steps >= o.rampMinSteps;
  const summary: CellSummary = {
    cell: s.cell,
    samples: clock.samples,
    start: clock.samples > 0 ? iso(clock.first_ms) : null,
    end: clock.samples > 0 ? iso(clock.last_ms) : null,
    duration_h,
    judged_h: Math.max(0, duration_h - durations.learning - durations['not-symmetric']),
    symmetric,
    notSymmetricReason: s.symmetry.verdict,
    failureMode,
    timeToFailure_h: failure_ms === null || !symmetric ? null : (failure_ms - clock.first_ms) / 3.6e6,
    timeToFailureBasis: failure_ms === null || !symmetric ? null : failure_ms === f.firstCompliance_ms ? 'compliance' : 'short',
    failureModeOnset_h: modeOnset_ms === null ? null : (modeOnset_ms - clock.first_ms) / 3.6e6,
    firstCompliance_h: f.firstCompliance_ms === null || !symmetric ? null : (f.firstCompliance_ms - clock.first_ms) / 3.6e6,
    firstShort_h: f.firstShort_ms === null || !symmetric ? null : (f.firstShort_ms - clock.first_ms) / 3.6e6,
    regimeDurations_h: durations,
    rest_h: s.rest.rest_ms / 3.6e6,
    gaps: clock.gaps,
    gap_h: clock.gapTime_ms / 3.6e6,
    dataGaps: clock.dataGaps,
    missingSamples: clock.missingSamples,
    shortCount: f.shortCount,
    isolatedShortCount: f.isolatedShortCount,
    isolatedShortRate_per100h: f.isolatedShortCount > 0 && loopHours > 0 ? (100 * f.isolatedShortCount) / loopHours : null,
    softShortCount: s.softShort.episodes,
    firstSoftShort: f.firstSoftShort_ms === null ? null : iso(f.firstSoftShort_ms),
    halfCycles: s.halfCycles,
    cumulativeCapacity_mAh_cm2: s.cumulativeCapacity_mAh_cm2,
    capacityBeforeFailure_mAh_cm2: f.capacityBeforeFailure_mAh_cm2,
    minContactFraction: f.minContactFraction,
    minContactFractionIsBound: f.minContactFractionIsBound,
    peakJLocal_mA_cm2: f.peakJLocal_mA_cm2,
    peakJLocalIsLowerBound: f.peakJLocalIsLowerBound,
    ccd_mA_cm2: ramp ? f.ccd_mA_cm2 : null,
    rampDetected: ramp,
    rRef25_ohm: ref.r25_ohm,
    rRefSource: ref.source,
    rRefCalibrated25_ohm: ref.calibrated25_ohm,
    rRefTheoretical25_ohm: ref.theoretical25_ohm,
    rRefCalibratedOverTheoretical: ref.calibrated25_ohm !== null && ref.theoretical25_ohm !== null ? ref.calibrated25_ohm / ref.theoretical25_ohm : null,
    calibratedAt: ref.calibratedAt_ms === null ? null : iso(ref.calibratedAt_ms),
    temperatureSource: s.thermal.seen ? 'telemetry' : 'nominal',
    thermalFit:
      s.thermalFit?.inUse != null
        ? { lag_min: s.thermalFit.inUse.lag_min, activationEnergyEv: s.thermalFit.inUse.ea_eV, steps: s.thermalFit.fit.fits.length }
        : null,
    interfaceGrowth:
      s.interfaceDrift?.raised === true ? { growth_per100h: s.interfaceDrift.growth_per100h ?? NaN, referenceFollow: s.interfaceDrift.follow } : null,
    finalRegime: s.regime.regime,
    complianceForecast: standingForecast(s),
  };
  return { summary, segments };
}
/** The compliance forecast standing at the end of the record, in hours from the last sample. */
function standingForecast(s: DetectorState): CellSummary['complianceForecast'] {
  const f = s.foresight?.forecast;
  if (f == null || s.regime.regime !== 'polarization') return null;
  const last = s.clock.last_ms;
  return {
    issuedAt: iso(f.t_ms),
    at: iso(f.at_ms),
    low: iso(f.low_ms),
    high: f.high_ms === null ? null : iso(f.high_ms),
    in_h: (f.at_ms - last) / 3.6e6,
    text: describeForecast(f, last),
  };
}
export function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
