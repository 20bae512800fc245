import type { Metal } from './physics.js';

/** One cell of the registry (SPEC §4), with defaults applied. */
export interface CellConfig {
  readonly id: string;
  /** Nominal electrode area A (cm²); a placeholder of 1 when not known. */
  readonly areaCm2: number;
  /** Pellet thickness d (cm); only needed with sigmaSPerCm. */
  readonly thicknessCm?: number;
  /** Total ionic conductivity at 25 °C (S cm⁻¹). Without it R_ref is learned from the data. */
  readonly sigmaSPerCm?: number;
  readonly activationEnergyEv: number;
  readonly metal: Metal;
  readonly complianceV: number;
  readonly pressureMPa?: { readonly min: number; readonly max: number };
  readonly temperatureC?: { readonly min: number; readonly max: number };
  /** Set current (mA) for exports that carry no current column. */
  readonly setCurrentMa?: number;
  /** Wall-clock seconds without telemetry before the stale alert (live monitor only). */
  readonly staleAfterS?: number;
}

export const CELL_DEFAULTS = {
  areaCm2: 1,
  activationEnergyEv: 0.3,
  metal: 'Na' as Metal,
  complianceV: 8,
} as const;

/** A registry entry for a cell the registry does not list: what the analysis then assumes. */
export function assumedCell(id: string, overrides: Partial<CellConfig> = {}): CellConfig {
  return { id, ...CELL_DEFAULTS, ...overrides };
}
