/** Per-cell display series for reports, downsampled as they stream by (see Envelope). */
import type { CellConfig } from './cell.js';
import type { DetectorState, StepResult } from './detector/index.js';
import { contactFraction, localCurrentDensity_mA_cm2 } from './physics.js';
import { Envelope } from './envelope.js';
import type { AlignedSample } from './sample.js';

export const SERIES_NAMES = [
  'voltage_V',
  'current_mA',
  'ratio',
  'rApp_Ohm',
  'contactFraction',
  'jLocal_mA_cm2',
  'jLocalLowerBound_mA_cm2',
  'pressure_MPa',
  'temperature_C',
] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

export interface CellSeriesData {
  readonly cell: string;
  readonly complianceV: number;
  readonly areaCm2: number;
  readonly bucketWidth_ms: number;
  readonly series: Record<SeriesName, [number, number][]>;
}

export class CellSeries {
  private readonly e: Record<SeriesName, Envelope>;

  constructor(
    private readonly cell: CellConfig,
    target = 1500,
  ) {
    this.e = Object.fromEntries(SERIES_NAMES.map((n) => [n, new Envelope(target)])) as Record<SeriesName, Envelope>;
  }

  /** After the detector has taken the sample: its derived values are in `state.last` (null: not accepted). */
  push(x: AlignedSample, state: DetectorState, step: StepResult | null): void {
    const t = x.t_ms;
    this.e.voltage_V.push(t, x.voltage_V);
    this.e.current_mA.push(t, x.current_mA);
    if (x.pressure_MPa !== undefined) this.e.pressure_MPa.push(t, x.pressure_MPa);
    if (x.temperature_C !== undefined) this.e.temperature_C.push(t, x.temperature_C);
    if (step === null || state.rest.resting) return;
    // R_app needs no reference: it is drawn from the first hour, while the reference is still being learned.
    if (step.rApp_ohm > 0 && Number.isFinite(step.rApp_ohm)) this.e.rApp_Ohm.push(t, step.rApp_ohm);
    if (Number.isNaN(step.rRef_ohm)) return;
    const ratio = step.rApp_ohm / step.rRef_ohm;
    if (!(ratio > 0)) return;
    this.e.ratio.push(t, ratio);
    // Through a short, Eq. 2 says nothing of the contact area.
    if (step.shorted) return;
    const f = contactFraction(step.rApp_ohm, step.rRef_ohm);
    this.e.contactFraction.push(t, f);
    const j = localCurrentDensity_mA_cm2(Math.abs(step.jSet_mA_cm2), f);
    // At the compliance limit the true voltage is higher than measured: j_local is only a lower bound there.
    (step.atCompliance ? this.e.jLocalLowerBound_mA_cm2 : this.e.jLocal_mA_cm2).push(t, j);
  }

  data(): CellSeriesData {
    const series = Object.fromEntries(SERIES_NAMES.map((n) => [n, this.e[n].points()])) as Record<SeriesName, [number, number][]>;
    return { cell: this.cell.id, complianceV: this.cell.complianceV, areaCm2: this.cell.areaCm2, bucketWidth_ms: this.e.voltage_V.bucketWidth_ms, series };
  }
}
