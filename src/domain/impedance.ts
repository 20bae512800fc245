/**
 * Impedance spectra recorded inside a cycling run (PEIS/GEIS blocks between half cycles). For the detector they are
 * rests; as context they give an AC resistance beside the DC one (SPEC §2: the two differ during polarization,
 * where constriction raises R_app but hardly the high-frequency resistance).
 */

export interface ImpedancePoint {
  readonly cell: string;
  readonly t_ms: number;
  /** Spectra in one file are numbered from 0 in the order they were recorded. */
  readonly block: number;
  readonly freq_Hz: number;
  readonly reZ_Ohm: number;
  /** −Im(Z): positive for capacitive behaviour, as Nyquist plots draw it. */
  readonly minusImZ_Ohm: number;
}

export type InterceptMethod = 'zero-crossing' | 'arc-minimum';

export interface ImpedanceBlock {
  readonly cell: string;
  readonly block: number;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly points: number;
  readonly fMax_Hz: number;
  readonly fMin_Hz: number;
  /** Re(Z) where the spectrum meets the real axis at its high-frequency end; null with fewer than 3 points. */
  readonly rHf_Ohm: number | null;
  readonly method: InterceptMethod | null;
}

/**
 * The high-frequency intercept of one spectrum. Scanning from the highest frequency down:
 * - where −Im(Z) turns from ≤ 0 (inductive: cables, liquid cells) to > 0, Re(Z) interpolated at −Im(Z) = 0;
 * - otherwise (solid electrolytes whose bulk arc lies above the analyser's top frequency) Re(Z) where −Im(Z) is
 *   smallest, after a 3-point running mean so one noisy point cannot pick it: where the high-frequency arc comes
 *   down to the real axis before the electrode arc or diffusion tail rises again.
 */
export function highFrequencyIntercept(
  points: readonly Pick<ImpedancePoint, 'freq_Hz' | 'reZ_Ohm' | 'minusImZ_Ohm'>[],
): { rHf_Ohm: number; method: InterceptMethod } | null {
  const p = points.filter((x) => x.freq_Hz > 0 && Number.isFinite(x.reZ_Ohm) && Number.isFinite(x.minusImZ_Ohm)).sort((a, b) => b.freq_Hz - a.freq_Hz);
  if (p.length < 3) return null;
  for (let k = 1; k < p.length; k++) {
    const a = p[k - 1]!;
    const b = p[k]!;
    if (a.minusImZ_Ohm <= 0 && b.minusImZ_Ohm > 0) {
      const w = a.minusImZ_Ohm === b.minusImZ_Ohm ? 0 : -a.minusImZ_Ohm / (b.minusImZ_Ohm - a.minusImZ_Ohm);
      return { rHf_Ohm: a.reZ_Ohm + w * (b.reZ_Ohm - a.reZ_Ohm), method: 'zero-crossing' };
    }
  }
  let best = 0;
  let bestMean = Infinity;
  for (let k = 0; k < p.length; k++) {
    const lo = Math.max(0, k - 1);
    const hi = Math.min(p.length - 1, k + 1);
    let sum = 0;
    for (let m = lo; m <= hi; m++) sum += p[m]!.minusImZ_Ohm;
    const mean = sum / (hi - lo + 1);
    if (mean < bestMean) {
      bestMean = mean;
      best = k;
    }
  }
  return { rHf_Ohm: p[best]!.reZ_Ohm, method: 'arc-minimum' };
}

/** The summary of one spectrum (all points of one cell and block). */
export function summarizeBlock(points: readonly ImpedancePoint[]): ImpedanceBlock {
  if (points.length === 0) throw new RangeError('an impedance block needs at least one point');
  let start_ms = Infinity;
  let end_ms = -Infinity;
  let fMax_Hz = -Infinity;
  let fMin_Hz = Infinity;
  for (const x of points) {
    start_ms = Math.min(start_ms, x.t_ms);
    end_ms = Math.max(end_ms, x.t_ms);
    fMax_Hz = Math.max(fMax_Hz, x.freq_Hz);
    fMin_Hz = Math.min(fMin_Hz, x.freq_Hz);
  }
  const hf = highFrequencyIntercept(points);
  return {
    cell: points[0]!.cell,
    block: points[0]!.block,
    start_ms,
    end_ms,
    points: points.length,
    fMax_Hz,
    fMin_Hz,
    rHf_Ohm: hf?.rHf_Ohm ?? null,
    method: hf?.method ?? null,
  };
}

/**
 * Groups a stream of points (in recording order) into spectra: a block ends when the block number or the cell
 * changes. Small mutable state, one per file: `push` returns the block that a point closed, `end` the last one.
 */
export class ImpedanceBlocks {
  private current: ImpedancePoint[] = [];

  push(p: ImpedancePoint): ImpedanceBlock | null {
    const head = this.current[0];
    let closed: ImpedanceBlock | null = null;
    if (head !== undefined && (head.block !== p.block || head.cell !== p.cell)) closed = this.end();
    this.current.push(p);
    return closed;
  }

  end(): ImpedanceBlock | null {
    if (this.current.length === 0) return null;
    const b = summarizeBlock(this.current);
    this.current = [];
    return b;
  }
}

/**
 * Numbers the spectra of one cell as their points arrive: a new one starts after a gap (any non-impedance row of a
 * file, or `maxPointGap_ms` of event time between points live), or when the frequency jumps back by more than ×2
 * against the sweep's direction because a loop started the next sweep at once.
 */
export class SweepNumbering {
  private block = -1;
  private inSweep = false;
  private lastF = NaN;
  private lastT = NaN;
  private direction = 0;

  constructor(private readonly maxPointGap_ms = Infinity) {}

  /** The spectrum the point belongs to. */
  number(t_ms: number, freq_Hz: number): number {
    const late = t_ms - this.lastT > this.maxPointGap_ms;
    const jumpedBack = this.direction !== 0 && (this.direction < 0 ? freq_Hz > 2 * this.lastF : freq_Hz < this.lastF / 2);
    if (!this.inSweep || late || jumpedBack) {
      this.block++;
      this.direction = 0;
    } else if (this.direction === 0 && freq_Hz !== this.lastF) this.direction = freq_Hz < this.lastF ? -1 : 1;
    this.inSweep = true;
    this.lastF = freq_Hz;
    this.lastT = t_ms;
    return this.block;
  }

  /** A row that is not part of a spectrum. */
  gap(): void {
    this.inSweep = false;
  }
}
