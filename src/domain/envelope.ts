/**
 * Streaming downsampling for display that keeps spikes and shorts visible: per time bucket the first, last,
 * minimum and maximum sample (M4). The bucket width doubles whenever the buckets exceed twice the target, so
 * memory is bounded by the target however long the run, and no extreme is ever dropped.
 */
export class Envelope {
  private t0 = NaN;
  private width_ms: number;
  // Per bucket: first, last, min, max as (t, v) pairs, in flat arrays for compactness.
  private idx: number[] = [];
  private v: number[] = [];
  private t: number[] = [];

  constructor(
    readonly target = 2000,
    initialWidth_ms = 1000,
  ) {
    this.width_ms = initialWidth_ms;
  }

  push(t_ms: number, value: number): void {
    if (!Number.isFinite(value)) return;
    if (Number.isNaN(this.t0)) this.t0 = t_ms;
    let k = Math.floor((t_ms - this.t0) / this.width_ms);
    while (k >= 2 * this.target) {
      this.halve();
      k = Math.floor((t_ms - this.t0) / this.width_ms);
    }
    const n = this.idx.length;
    if (n === 0 || this.idx[n - 1] !== k) {
      this.idx.push(k);
      for (let j = 0; j < 4; j++) {
        this.t.push(t_ms);
        this.v.push(value);
      }
      return;
    }
    const b = (n - 1) * 4; // first, last, min, max
    this.t[b + 1] = t_ms;
    this.v[b + 1] = value;
    if (value < this.v[b + 2]!) {
      this.v[b + 2] = value;
      this.t[b + 2] = t_ms;
    }
    if (value > this.v[b + 3]!) {
      this.v[b + 3] = value;
      this.t[b + 3] = t_ms;
    }
  }

  /** Merge neighbouring buckets pairwise and double the width. */
  private halve(): void {
    const idx: number[] = [];
    const v: number[] = [];
    const t: number[] = [];
    for (let i = 0; i < this.idx.length; i++) {
      const k = Math.floor(this.idx[i]! / 2);
      const b = i * 4;
      const last = idx.length - 1;
      if (last >= 0 && idx[last] === k) {
        const c = last * 4;
        t[c + 1] = this.t[b + 1]!;
        v[c + 1] = this.v[b + 1]!;
        if (this.v[b + 2]! < v[c + 2]!) {
          v[c + 2] = this.v[b + 2]!;
          t[c + 2] = this.t[b + 2]!;
        }
        if (this.v[b + 3]! > v[c + 3]!) {
          v[c + 3] = this.v[b + 3]!;
          t[c + 3] = this.t[b + 3]!;
        }
      } else {
        idx.push(k);
        for (let j = 0; j < 4; j++) {
          t.push(this.t[b + j]!);
          v.push(this.v[b + j]!);
        }
      }
    }
    this.idx = idx;
    this.v = v;
    this.t = t;
    this.width_ms *= 2;
  }

  /** The kept points in time order, each at most once: [t_ms, value][]. */
  points(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.idx.length; i++) {
      const b = i * 4;
      const four: [number, number][] = [0, 1, 2, 3].map((j) => [this.t[b + j]!, this.v[b + j]!]);
      four.sort((x, y) => x[0] - y[0]);
      for (const p of four) {
        const prev = out[out.length - 1];
        if (prev === undefined || prev[0] !== p[0] || prev[1] !== p[1]) out.push(p);
      }
    }
    return out;
  }

  get bucketWidth_ms(): number {
    return this.width_ms;
  }
}
