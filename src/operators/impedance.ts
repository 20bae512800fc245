import { map, type OperatorFunction } from 'rxjs';
import { SweepNumbering, summarizeBlock, type ImpedanceBlock, type ImpedancePoint } from '../domain/impedance.js';

export interface SpectraOptions {
  /** Event time between two points beyond which the next point starts a new spectrum. */
  readonly maxPointGap_ms: number;
}

/**
 * Numbers live impedance points into spectra per cell and gives each with its spectrum's summary so far: the
 * spectrum's high-frequency intercept is known (and kept up to date) without waiting for the next spectrum.
 *
 * ```
 * point:  a(1 MHz) b(100 kHz) c(10 kHz) … d(1 MHz, an hour later)
 * out:    {a, block 0 (1 pt)} {b, block 0 (2 pts)} {c, block 0 (3 pts, R_hf)} … {d, block 1 (1 pt)}
 * ```
 */
export function impedanceSpectra(o: SpectraOptions): OperatorFunction<Omit<ImpedancePoint, 'block'>, { point: ImpedancePoint; block: ImpedanceBlock }> {
  return (source) => {
    const cells = new Map<string, { sweeps: SweepNumbering; points: ImpedancePoint[] }>();
    return source.pipe(
      map((r) => {
        let c = cells.get(r.cell);
        if (c === undefined) cells.set(r.cell, (c = { sweeps: new SweepNumbering(o.maxPointGap_ms), points: [] }));
        const point: ImpedancePoint = { ...r, block: c.sweeps.number(r.t_ms, r.freq_Hz) };
        if (c.points.length > 0 && c.points[0]!.block !== point.block) c.points = [];
        c.points.push(point);
        return { point, block: summarizeBlock(c.points) };
      }),
    );
  };
}
