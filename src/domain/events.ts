import type { ForecastBasis } from './forecast.js';
import type { RegimeLabel } from './regime.js';

export type Severity = 'info' | 'warning' | 'critical';

export type AlertCode =
  | 'polarization-onset'
  | 'compliance'
  | 'short'
  | 'isolated-short'
  | 'short-loop'
  | 'soft-short'
  | 'noise-rising'
  | 'pressure-contact'
  | 'pressure-range'
  | 'temperature-range'
  | 'stale'
  | 'tmax-exceeded'
  | 'protocol-exceeds-tmax'
  | 'not-symmetric'
  | 'reference-mismatch'
  | 'interface-growth'
  | 'voltage-offset'
  | 'reference-remeasured'
  | 'thermal-fit'
  | 'reversed-polarity'
  | 'no-temperature'
  | 'data-gap'
  | 'cell-error';

/** SPEC §5 regime event. Times are epoch ms here and ISO strings once serialised. */
export interface RegimeEvent {
  readonly type: 'regime';
  readonly cell: string;
  readonly regime: RegimeLabel;
  readonly onset_ms: number;
  readonly detectedAt_ms: number;
  readonly end_ms?: number;
}

export interface HalfCycleEvent {
  readonly type: 'half-cycle';
  readonly cell: string;
  readonly index: number;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly duration_s: number;
  /** Mean set current over the half cycle, signed. */
  readonly current_mA: number;
  readonly currentDensity_mA_cm2: number;
  readonly charge_mAh_cm2: number;
  /** Null when the metal is unknown. */
  readonly metalThickness_um: number | null;
  readonly cumulativeCapacity_mAh_cm2: number;
  readonly plateauAbsVoltage_V: number | null;
  readonly peakAbsVoltage_V: number;
  /** Spike-filtered peak of R_app/R_ref(T); null while the cell is learning (no reference yet). */
  readonly rRatioPeak: number | null;
  readonly contactFractionMin: number | null;
  readonly jLocalPeak_mA_cm2: number | null;
  /** The cycler hit the compliance limit: the true j_local was higher than reported. */
  readonly jLocalIsLowerBound: boolean;
  readonly cutByCompliance: boolean;
  /** Eq. 1 for this half cycle's current; null when it does not apply (liquid electrolyte or unknown metal). */
  readonly tMax_s: number | null;
  /**
   * The voltage's noise per row at the half cycle's current (σ from second differences, so a trend is no noise);
   * null with fewer than 10 rows. Rising against the cell's own history, it is a soft-short precursor.
   */
  readonly voltageNoise_mV: number | null;
  /** The cell's temperature at the half cycle's end (°C; the nominal one without telemetry). */
  readonly temperature_C: number | null;
}

export interface AlertEvent {
  readonly type: 'alert';
  readonly cell: string;
  readonly t_ms: number;
  readonly severity: Severity;
  readonly code: AlertCode;
  /** `raised` for a new condition or event, `cleared` when a condition alert's cause has gone. */
  readonly state: 'raised' | 'cleared';
  readonly message: string;
  /** Estimated start of the condition, where it began before it could be decided (e.g. a soft short). */
  readonly onset_ms?: number;
}

/**
 * SPEC §5 forecast, issued at a half cycle's end while the cell polarizes: when its peak |V| is expected to reach the
 * compliance limit, with an 80 % interval (domain/forecast.ts). The latest one stands until the next.
 */
export interface ForecastEvent {
  readonly type: 'forecast';
  readonly cell: string;
  readonly t_ms: number;
  readonly target: 'compliance';
  readonly at_ms: number;
  readonly low_ms: number;
  /** Null when no upper bound can be given (the growth may be stalling). */
  readonly high_ms: number | null;
  readonly basis: ForecastBasis;
}

/** One window of active current's voltage noise (domain/noise.ts), against the cell's own quiet history. */
export interface NoiseEvent {
  readonly type: 'noise';
  readonly cell: string;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly rows: number;
  readonly voltageNoise_mV: number;
  readonly absCurrent_mA: number;
  readonly temperature_C: number | null;
  /** The median of the cell's quiet windows at this current and temperature; null while there are too few. */
  readonly baseline_mV: number | null;
}

export type CellEvent = RegimeEvent | HalfCycleEvent | AlertEvent | ForecastEvent | NoiseEvent;

/** The event time by which events are ordered in outputs. */
export function eventTime_ms(e: CellEvent): number {
  switch (e.type) {
    case 'regime':
      return e.detectedAt_ms;
    case 'half-cycle':
      return e.end_ms;
    case 'alert':
    case 'forecast':
      return e.t_ms;
    case 'noise':
      return e.end_ms;
  }
}
