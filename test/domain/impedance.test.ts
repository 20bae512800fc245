/**
 * High-frequency intercepts on spectra computed from equivalent circuits, where the right answer is known:
 * R_s + (R_1 ‖ C_1) + (R_2 ‖ C_2), with and without a series inductance (cables).
 */
import { describe, expect, it } from 'vitest';
import { highFrequencyIntercept, ImpedanceBlocks, summarizeBlock, type ImpedancePoint } from '../../src/domain/impedance.js';

interface Circuit {
  readonly rs: number;
  readonly arcs: readonly { r: number; c: number }[];
  readonly l?: number;
}

/** Points per decade from f_max down to f_min, as EC-Lab sweeps them. */
function spectrum(k: Circuit, fMax: number, fMin: number, perDecade = 10, noise = 0, seed = 1): ImpedancePoint[] {
  const out: ImpedancePoint[] = [];
  let s = seed;
  const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const n = Math.round(Math.log10(fMax / fMin) * perDecade);
  for (let i = 0; i <= n; i++) {
    const f = fMax * 10 ** (-i / perDecade);
    const w = 2 * Math.PI * f;
    let re = k.rs;
    let im = w * (k.l ?? 0);
    for (const a of k.arcs) {
      const d = 1 + (w * a.r * a.c) ** 2;
      re += a.r / d;
      im -= (w * a.r * a.r * a.c) / d;
    }
    out.push({ cell: 'c1', t_ms: i * 1000, block: 0, freq_Hz: f, reZ_Ohm: re * (1 + noise * rand()), minusImZ_Ohm: -im + noise * Math.abs(re) * rand() });
  }
  return out;
}

describe('highFrequencyIntercept', () => {
  it('a liquid cell with cable inductance: Re(Z) where −Im(Z) crosses zero, within 1 % of R_s', () => {
    const p = spectrum({ rs: 11, arcs: [{ r: 40, c: 2e-5 }], l: 2e-7 }, 2e5, 1, 6);
    const hf = highFrequencyIntercept(p)!;
    expect(hf.method).toBe('zero-crossing');
    expect(hf.rHf_Ohm).toBeGreaterThan(11 * 0.99);
    expect(hf.rHf_Ohm).toBeLessThan(11 * 1.01);
  });

  it('a solid electrolyte whose bulk arc starts above 1 MHz: the valley between the arcs, near R_s + R_bulk', () => {
    // Li | LLZO-like: bulk 900 Ω at ~100 kHz and above, interface 400 Ω at ~1 Hz.
    const p = spectrum(
      {
        rs: 5,
        arcs: [
          { r: 900, c: 1e-9 },
          { r: 400, c: 4e-4 },
        ],
      },
      1e6,
      0.1,
      10,
    );
    const hf = highFrequencyIntercept(p)!;
    expect(hf.method).toBe('arc-minimum');
    expect(hf.rHf_Ohm).toBeGreaterThan(905 * 0.97);
    expect(hf.rHf_Ohm).toBeLessThan(905 * 1.06);
  });

  it('one noisy point does not pick the valley', () => {
    const p = spectrum(
      {
        rs: 5,
        arcs: [
          { r: 900, c: 1e-9 },
          { r: 400, c: 4e-4 },
        ],
      },
      1e6,
      0.1,
      10,
    );
    // A single outlier far up the bulk arc with −Im(Z) near zero.
    const k = p.findIndex((x) => x.freq_Hz < 2e5);
    p[k] = { ...p[k]!, minusImZ_Ohm: 1 };
    const hf = highFrequencyIntercept(p)!;
    expect(hf.rHf_Ohm).toBeGreaterThan(850);
  });

  it('order of the points does not matter; fewer than 3 usable points give null', () => {
    const p = spectrum({ rs: 11, arcs: [{ r: 40, c: 2e-5 }], l: 2e-7 }, 2e5, 1, 6);
    expect(highFrequencyIntercept([...p].reverse())).toEqual(highFrequencyIntercept(p));
    expect(highFrequencyIntercept(p.slice(0, 2))).toBeNull();
    expect(highFrequencyIntercept(p.map((x) => ({ ...x, reZ_Ohm: NaN })))).toBeNull();
  });
});

describe('ImpedanceBlocks', () => {
  it('closes a spectrum when the block number or the cell changes, and summarises it', () => {
    const a = spectrum({ rs: 11, arcs: [{ r: 40, c: 2e-5 }], l: 2e-7 }, 2e5, 1, 6);
    const b = a.map((x) => ({ ...x, block: 1, t_ms: x.t_ms + 3.6e6 }));
    const c = a.map((x) => ({ ...x, cell: 'c2', block: 1 }));
    const acc = new ImpedanceBlocks();
    const closed = [...a, ...b, ...c].map((p) => acc.push(p)).filter((x) => x !== null);
    closed.push(acc.end()!);
    expect(closed.map((x) => [x!.cell, x!.block, x!.points])).toEqual([
      ['c1', 0, a.length],
      ['c1', 1, a.length],
      ['c2', 1, a.length],
    ]);
    expect(acc.end()).toBeNull();
    const s = summarizeBlock(b);
    expect(s.start_ms).toBe(3.6e6);
    expect(s.end_ms).toBe(3.6e6 + (a.length - 1) * 1000);
    expect(s.fMax_Hz).toBeCloseTo(2e5);
    expect(s.fMin_Hz).toBe(Math.min(...b.map((x) => x.freq_Hz)));
    expect(() => summarizeBlock([])).toThrow(RangeError);
  });
});
