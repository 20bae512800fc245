import type { Metal } from './physics.js';

export type Electrolyte = 'solid' | 'liquid';
/**
 * `calibrated`: R_ref is measured on the cell's own early stable plateau (a configured σ, d, A only serve until
 * then, flagged provisional, and as the theoretical figure beside it). `configured`: trust the registry's σ, d, A.
 */
export type ReferenceMode = 'calibrated' | 'configured';

/** One cell of the registry (SPEC §4), with defaults applied. */
export interface CellConfig {
  readonly id: string;
  /** Nominal electrode area A (cm²); a placeholder of 1 when not known. */
  readonly areaCm2: number;
  /** Pellet thickness d (cm); only needed with sigmaSPerCm. */
  readonly thicknessCm?: number;
  /** Total ionic conductivity at 25 °C (S cm⁻¹): the theoretical R_ref = d / (σ·A). */
  readonly sigmaSPerCm?: number;
  readonly activationEnergyEv: number;
  /** Unknown for a cell the registry does not list: then no Eq. 1 check and no metal thickness. */
  readonly metal?: Metal;
  /** Eq. 1 (void formation) applies to solid electrolytes only; unknown: not checked. */
  readonly electrolyte?: Electrolyte;
  readonly complianceV: number;
  readonly pressureMPa?: { readonly min: number; readonly max: number };
  readonly temperatureC?: { readonly min: number; readonly max: number };
  /** Cell temperature when no temperature telemetry arrives (°C). */
  readonly nominalTemperatureC: number;
  /** First-order lag between the logged (chamber) temperature and the cell (min); 0: the sensor is on the cell. */
  readonly thermalLag_min: number;
  readonly referenceMode: ReferenceMode;
  /** Set current (mA) for exports that carry no current column. */
  readonly setCurrentMa?: number;
  /** Header names of a table export's columns, by quantity (time, voltage, current, …), where they are not recognised. */
  readonly columns?: Readonly<Record<string, string>>;
  /** Wall-clock seconds without telemetry before the stale alert (live monitor only). */
  readonly staleAfterS?: number;
  /** The electrolyte batch or protocol the cell belongs to: its lives are fitted with the group's. */
  readonly group?: string;
  /**
   * The lab's time zone for this cell (IANA name or fixed offset, src/domain/labTime.ts): the instrument's local
   * times are read in it and people are shown times in it. UTC when not set.
   */
  readonly timeZone?: string;
}

export const CELL_DEFAULTS = {
  areaCm2: 1,
  activationEnergyEv: 0.3,
  complianceV: 8,
  nominalTemperatureC: 25,
  thermalLag_min: 30,
  referenceMode: 'calibrated' as ReferenceMode,
} as const;

/** A registry entry for a cell the registry does not list: what the analysis then assumes (metal unknown). */
export function assumedCell(id: string, overrides: Partial<CellConfig> = {}): CellConfig {
  return { id, ...CELL_DEFAULTS, ...overrides };
}
