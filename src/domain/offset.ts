/**
 * The instrument's voltage offset. Every cycler reads the voltage with an offset of up to about a millivolt (its
 * accuracy spec). Against a 70 mV plateau that is nothing; against the 3.5 mV plateau of a rate test's
 * 0.1 mA cm⁻² step it is ±30 % of R_app, alternating with the polarity. A reference calibrated there is then
 * off by as much, and the ratio moves with the current density although R is ohmic (SPEC §2).
 *
 * A symmetric cell's plateau is V = I·R + V_off on both polarities, so a positive and a negative half cycle at
 * the same |I| give V_off = (V₊ + V₋) / 2. The median of the latest such pairs is the offset; above `max_V` it is no
 * offset but a cell whose two sides differ (then nothing is subtracted). Only plateaus below `maxPlateau_V` are
 * used: there the offset matters, above it a resistive asymmetry would dominate the difference.
 */
import { median } from './stats.js';

export interface OffsetOptions {
  /** Largest offset believed (V): an instrument's. */
  readonly max_V: number;
  /** Plateaus up to this |V| (V) estimate it. */
  readonly maxPlateau_V: number;
  /** Pairs whose median is the estimate; the estimate stands once this many agree. */
  readonly pairs: number;
}

export const DEFAULT_OFFSET: OffsetOptions = { max_V: 0.002, maxPlateau_V: 0.05, pairs: 3 };

export interface OffsetState {
  /** The last plateau offered: its current sign, |I| (mA) and mean |V| (V). */
  last: { sign: number; absI_mA: number; absV_V: number } | null;
  /** The latest pair estimates (V), oldest first. */
  pairs: number[];
  /** The offset in use (V): 0 until estimated. */
  offset_V: number;
}

export function offsetState(): OffsetState {
  return { last: null, pairs: [], offset_V: 0 };
}

/**
 * A steady half cycle's plateau: its current sign, mean |I| and mean |V| as logged. Returns the new offset when the
 * one in use changed, else null.
 */
export function observePlateau(s: OffsetState, sign: number, absI_mA: number, absV_V: number, o: OffsetOptions): number | null {
  const last = s.last;
  s.last = { sign, absI_mA, absV_V };
  if (last === null || last.sign === sign || Math.abs(absI_mA - last.absI_mA) > 0.1 * last.absI_mA) return null;
  // Both plateaus above the largest offset: their signs are the current's, so V₊ = |V₊| and V₋ = −|V₋|.
  if (absV_V > o.maxPlateau_V || last.absV_V > o.maxPlateau_V || absV_V < o.max_V || last.absV_V < o.max_V) return null;
  const positive = sign > 0 ? absV_V : last.absV_V;
  const negative = sign > 0 ? last.absV_V : absV_V;
  s.pairs.push((positive - negative) / 2);
  if (s.pairs.length > 2 * o.pairs) s.pairs.shift();
  if (s.pairs.length < o.pairs) return null;
  const estimate = median(s.pairs);
  const next = Math.abs(estimate) <= o.max_V ? estimate : 0;
  // Below a tenth of a millivolt a change is noise, not worth moving every ratio for.
  if (Math.abs(next - s.offset_V) < 1e-4) return null;
  s.offset_V = next;
  return next;
}
