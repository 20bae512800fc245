/**
 * Why the resistance rose: the DC resistance R_app = V/I of the half cycles beside the AC high-frequency intercept
 * R_hf of impedance spectra taken in the same run (SPEC §2: they differ during polarization). Constriction at a
 * shrinking contact raises R_app and leaves the pellet's R_hf; a degrading electrolyte (bulk, grain boundaries)
 * raises both. Each is compared between the half cycles nearest the first and the last spectrum.
 */

export interface Reading {
  readonly t_ms: number;
  readonly r_ohm: number;
}

export interface ResistanceRise {
  /** `interface`: R_app rose, R_hf did not; `bulk`: both rose alike; `none`: neither rose; `mixed`: both rose, R_app more. */
  readonly kind: 'interface' | 'bulk' | 'mixed' | 'none';
  /** Relative change between the first and the last spectrum's time (0.35 = +35 %). */
  readonly dcChange: number;
  readonly acChange: number;
  readonly spectra: number;
  readonly text: string;
}

/** A rise smaller than this is no rise (noise of plateaus, spectra and temperature). */
const RISE = 0.1;

/** The classification, or null with fewer than two spectra or no DC reading near them. */
export function classifyResistanceRise(dc: readonly Reading[], ac: readonly Reading[]): ResistanceRise | null {
  if (ac.length < 2 || dc.length < 2) return null;
  const first = ac[0]!;
  const last = ac[ac.length - 1]!;
  const nearest = (t: number): Reading => dc.reduce((a, b) => (Math.abs(b.t_ms - t) < Math.abs(a.t_ms - t) ? b : a));
  const dc0 = nearest(first.t_ms);
  const dc1 = nearest(last.t_ms);
  if (dc0 === dc1) return null;
  const dcChange = dc1.r_ohm / dc0.r_ohm - 1;
  const acChange = last.r_ohm / first.r_ohm - 1;
  const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(0)} %`;
  const both = `R_app ${pct(dcChange)}, R_hf ${pct(acChange)} over ${ac.length} spectra`;
  let kind: ResistanceRise['kind'];
  let why: string;
  if (dcChange < RISE && acChange < RISE) [kind, why] = ['none', 'no resistance rise'];
  else if (acChange < RISE) [kind, why] = ['interface', 'an interface or contact rise: the DC resistance rose, the pellet’s did not'];
  else if (dcChange < 2 * acChange) [kind, why] = ['bulk', 'a bulk rise: the electrolyte’s own resistance rose with the DC one'];
  else [kind, why] = ['mixed', 'both rose, the DC resistance more: a bulk rise and an interface one'];
  return { kind, dcChange, acChange, spectra: ac.length, text: `${why} (${both})` };
}
