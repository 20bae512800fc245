/**
 * A bounded sample of a series for order statistics: keeps every `stride`-th value and, when full,
 * halves itself and doubles the stride, so memory stays flat however long a half cycle lasts.
 */
export interface DecimatedSeries {
  values: number[];
  stride: number;
  skipped: number;
}

export const DECIMATED_CAPACITY = 2048;

export function decimatedSeries(): DecimatedSeries {
  return { values: [], stride: 1, skipped: 0 };
}

export function pushDecimated(series: DecimatedSeries, value: number): void {
  if (++series.skipped < series.stride) return;
  series.skipped = 0;
  series.values.push(value);
  if (series.values.length >= DECIMATED_CAPACITY) {
    series.values = series.values.filter((_, i) => i % 2 === 0);
    series.stride *= 2;
  }
}

/** Quantile q ∈ [0, 1] by nearest rank; null for an empty series. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[rank]!;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const v = Float64Array.from(values).sort();
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}
