/**
 * The reference re-checked when the current changes. R is ohmic (SPEC §2): a healthy cell's ratio must read the same
 * at every current density. A reference measured on a plateau of a few millivolts (a rate test's first step) carries
 * that plateau's noise and any offset; when the current steps up to a plateau at least `snrGain` times higher, the
 * first positive and negative half cycles there (steady, flat) measure it again, and a ratio off by more than
 * `tolerance` re-measures the reference by that ratio. Stepping down never re-measures: the plateau is worse there,
 * and a cell damaged at a higher step must keep reading damaged (Eq. 1: t_max per step).
 */

export interface ReferenceCheckOptions {
  /** A change of the current density by more than this fraction is a new level. */
  readonly levelChange: number;
  /** The new plateau must be this many times the one the reference was measured on. */
  readonly snrGain: number;
  /** Mean ratio of the pair beyond 1 ± this re-measures the reference… */
  readonly tolerance: number;
  /** …unless it is beyond this factor either way: that is no measurement error. */
  readonly maxFactor: number;
}

export const DEFAULT_REFERENCE_CHECK: ReferenceCheckOptions = { levelChange: 0.2, snrGain: 1.5, tolerance: 0.05, maxFactor: 1.5 };

export interface ReferenceCheckState {
  /** Current density (mA cm⁻²) and mean plateau |V| (V) the reference was last measured or checked at. */
  level_mA_cm2: number;
  plateau_V: number;
  /** The new level's half cycles so far: their signs and mean ratios. */
  pending: { level_mA_cm2: number; signs: number[]; ratios: number[] } | null;
}

export function referenceCheckState(level_mA_cm2: number, plateau_V: number): ReferenceCheckState {
  return { level_mA_cm2, plateau_V, pending: null };
}

/** A judged half cycle as the check sees it. */
export interface CheckedHalfCycle {
  readonly sign: number;
  readonly j_mA_cm2: number;
  /** Mean |V| of its plateau (V). */
  readonly plateau_V: number;
  /** Its mean ratio against the reference in use. */
  readonly ratio: number;
  /** Steady: stable regime, not cut, not noisy, flat within (no contact loss growing in it). */
  readonly steady: boolean;
}

export interface ReferenceRemeasured {
  readonly factor: number;
  readonly from_mA_cm2: number;
  readonly fromPlateau_V: number;
  readonly to_mA_cm2: number;
  readonly toPlateau_V: number;
}

/** Returns the factor to multiply the reference by when the new level re-measured it, else null. */
export function observeCheckedHalfCycle(s: ReferenceCheckState, h: CheckedHalfCycle, o: ReferenceCheckOptions): ReferenceRemeasured | null {
  if (!(Math.abs(h.j_mA_cm2 - s.level_mA_cm2) > o.levelChange * s.level_mA_cm2)) {
    s.pending = null;
    return null;
  }
  if (!(h.plateau_V >= o.snrGain * s.plateau_V)) {
    // A lower or similar plateau: nothing better to measure with; the level is noted.
    s.level_mA_cm2 = h.j_mA_cm2;
    s.pending = null;
    return null;
  }
  if (!h.steady) return null;
  let p = s.pending;
  if (p === null || Math.abs(h.j_mA_cm2 - p.level_mA_cm2) > o.levelChange * p.level_mA_cm2) p = s.pending = { level_mA_cm2: h.j_mA_cm2, signs: [], ratios: [] };
  p.signs.push(h.sign);
  p.ratios.push(h.ratio);
  const pos = p.signs.lastIndexOf(1);
  const neg = p.signs.lastIndexOf(-1);
  if (pos < 0 || neg < 0) return null;
  // Both polarities: what one reads high from an offset the other reads low.
  const mean = (p.ratios[pos]! + p.ratios[neg]!) / 2;
  const from = { from_mA_cm2: s.level_mA_cm2, fromPlateau_V: s.plateau_V };
  s.level_mA_cm2 = h.j_mA_cm2;
  s.plateau_V = h.plateau_V;
  s.pending = null;
  if (Math.abs(mean - 1) <= o.tolerance || mean > o.maxFactor || mean < 1 / o.maxFactor) return null;
  return { factor: mean, ...from, to_mA_cm2: h.j_mA_cm2, toPlateau_V: h.plateau_V };
}
