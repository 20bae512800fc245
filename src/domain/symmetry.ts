/**
 * Is this a symmetric metal | electrolyte | metal cell at all (SPEC §3)? In one, the voltage follows the current's
 * sign (or its opposite, with the leads reversed) and relaxes to ~0 V at rest. A half cell or a full cell keeps a
 * rest voltage far from 0 V, or its EMF crosses 0 V within a half cycle: R_app = V/I means nothing there.
 */
export interface SymmetryOptions {
  /** |V| above this counts as a sign (below it, noise and shorts). */
  readonly signMin_V: number;
  /** A sign seen on this many samples of a half cycle counts (spikes and transients do not). */
  readonly signSamples: number;
  /** A rest voltage above this, after `restSettle_s` into the rest, is not a symmetric cell. */
  readonly restMax_V: number;
  readonly restSettle_s: number;
}

export const DEFAULT_SYMMETRY: SymmetryOptions = { signMin_V: 0.02, signSamples: 3, restMax_V: 0.05, restSettle_s: 10 };

export interface SymmetryState {
  /** Settled samples of the current half cycle with V·I > 0 and < 0 (|V| above the sign threshold). */
  agree: number;
  disagree: number;
  /** Per current sign (+, −): the voltage polarity of the last half cycle with a clear one (0: none yet). */
  polarityPos: number;
  polarityNeg: number;
  /** Rest samples after the settle time with |V| above the limit, and in all. */
  restHigh: number;
  restN: number;
  restStart_ms: number;
  verdict: string | null;
}

export function symmetryState(): SymmetryState {
  return { agree: 0, disagree: 0, polarityPos: 0, polarityNeg: 0, restHigh: 0, restN: 0, restStart_ms: NaN, verdict: null };
}

/** A settled active sample. Returns a reason when the cell is found not symmetric (once). */
export function observeActive(s: SymmetryState, voltage_V: number, current_mA: number, o: SymmetryOptions): string | null {
  if (s.verdict !== null || !(voltage_V > o.signMin_V || voltage_V < -o.signMin_V)) return null;
  if (voltage_V * current_mA > 0) s.agree++;
  else s.disagree++;
  const n = o.signSamples;
  if (s.agree >= n && s.disagree >= n) {
    return (s.verdict = `its voltage crosses 0 V within a half cycle at constant current (an EMF, not an ohmic drop)`);
  }
  // The other current sign already showed the opposite polarity: V does not follow I.
  const other = current_mA > 0 ? s.polarityNeg : s.polarityPos;
  const clear = s.agree >= n && s.disagree === 0 ? 1 : s.disagree >= n && s.agree === 0 ? -1 : 0;
  if (other !== 0 && clear !== 0 && clear !== other) return (s.verdict = `its voltage keeps one sign when the current reverses`);
  return null;
}

/** A half cycle of sign `sign` ended: a symmetric cell's polarity is the same for both current signs. */
export function observeHalfCycleSigns(s: SymmetryState, sign: number, o: SymmetryOptions): string | null {
  const clear = s.agree >= o.signSamples && s.disagree === 0 ? 1 : s.disagree >= o.signSamples && s.agree === 0 ? -1 : 0;
  s.agree = 0;
  s.disagree = 0;
  if (s.verdict !== null || clear === 0) return null;
  if (sign > 0) s.polarityPos = clear;
  else s.polarityNeg = clear;
  if (s.polarityPos !== 0 && s.polarityNeg !== 0 && s.polarityPos !== s.polarityNeg) {
    return (s.verdict = `its voltage keeps one sign when the current reverses`);
  }
  return null;
}

/** A rest sample (|I| ≈ 0). */
export function observeRest(s: SymmetryState, t_ms: number, voltage_V: number, o: SymmetryOptions): string | null {
  if (s.restStart_ms !== s.restStart_ms) {
    s.restStart_ms = t_ms;
    s.restHigh = 0;
    s.restN = 0;
  }
  if (s.verdict !== null || t_ms - s.restStart_ms < o.restSettle_s * 1000) return null;
  s.restN++;
  if (voltage_V > o.restMax_V || voltage_V < -o.restMax_V) s.restHigh++;
  if (s.restN >= o.signSamples && s.restHigh === s.restN) {
    return (s.verdict = `its rest voltage stays at ${voltage_V.toFixed(3)} V (a symmetric cell relaxes to ~0 V)`);
  }
  return null;
}

/**
 * The voltage has so far run against the current (V·I < 0) and no reversal has yet shown it following the current:
 * reversed leads or a half cell, not yet told apart.
 */
export function reversedLeadsUnconfirmed(s: SymmetryState, o: SymmetryOptions): boolean {
  if (s.verdict !== null || (s.polarityPos !== 0 && s.polarityNeg !== 0)) return false;
  return s.polarityPos === -1 || s.polarityNeg === -1 || (s.disagree >= o.signSamples && s.agree === 0);
}
