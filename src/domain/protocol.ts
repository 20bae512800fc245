/**
 * The programmed protocol against Eq. 1, before the first half cycle is run (SPEC §2: a protocol whose half cycle
 * exceeds t_max will polarize: warn at the start of the run).
 */
import type { CellConfig } from './cell.js';
import type { AlertEvent } from './events.js';
import { tMax_s } from './physics.js';

export interface ProgrammedStep {
  readonly sequence: number;
  /** Set current (mA, signed); null when not known (a C-rate without the battery capacity). */
  readonly current_mA: number | null;
  /** The step's time limit (s); null or 0: none. */
  readonly duration_s: number | null;
}

export interface CheckedStep extends ProgrammedStep {
  readonly currentDensity_mA_cm2: number | null;
  /** Eq. 1 for the cell's metal; null when the metal is unknown or the electrolyte is not solid. */
  readonly tMax_s: number | null;
  readonly exceedsTMax: boolean;
}

export interface ProtocolCheck {
  readonly steps: readonly CheckedStep[];
  /** Three or more current steps of rising magnitude: a critical-current-density (CCD) ramp. */
  readonly ccdRamp: boolean;
}

export function checkProtocol(steps: readonly ProgrammedStep[], cell: CellConfig): ProtocolCheck {
  const eq1 = cell.electrolyte === 'solid' && cell.metal !== undefined;
  const checked = steps.map((s): CheckedStep => {
    const j = s.current_mA === null ? null : Math.abs(s.current_mA) / cell.areaCm2;
    const limit = eq1 && j !== null && j > 0 ? tMax_s(j, cell.metal) : null;
    return { ...s, currentDensity_mA_cm2: j, tMax_s: limit, exceedsTMax: limit !== null && s.duration_s !== null && s.duration_s > limit };
  });
  const levels: number[] = [];
  for (const s of checked) {
    const j = s.currentDensity_mA_cm2;
    if (j !== null && j > 0 && levels.at(-1) !== j) levels.push(j);
  }
  const ccdRamp = levels.length >= 3 && levels.every((j, k) => k === 0 || j > levels[k - 1]!);
  return { steps: checked, ccdRamp };
}

/**
 * One warning per programmed level (current density and time limit) that exceeds t_max, naming its sequences
 * (a symmetric cell's charge and discharge steps share one), stamped at the start of the run.
 */
export function protocolAlerts(cell: string, check: ProtocolCheck, start_ms: number): AlertEvent[] {
  const levels = new Map<string, CheckedStep[]>();
  for (const s of check.steps.filter((x) => x.exceedsTMax)) {
    const key = `${s.currentDensity_mA_cm2!.toPrecision(3)}/${s.duration_s}`;
    levels.set(key, [...(levels.get(key) ?? []), s]);
  }
  return [...levels.values()].map((group): AlertEvent => {
    const s = group[0]!;
    const which = group.length === 1 ? `sequence ${s.sequence} runs` : `sequences ${group.map((g) => g.sequence).join(', ')} run`;
    return {
      type: 'alert',
      cell,
      t_ms: start_ms,
      severity: 'warning',
      code: 'protocol-exceeds-tmax',
      state: 'raised',
      message: `the protocol's ${which} up to ${((s.duration_s ?? 0) / 60).toFixed(1)} min at ${s.currentDensity_mA_cm2!.toPrecision(3)} mA/cm², longer than t_max = ${(s.tMax_s! / 60).toFixed(1)} min (Eq. 1): expect polarization from void formation`,
    };
  });
}
