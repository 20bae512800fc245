/**
 * A run of samples that satisfy a condition, tolerant of a few contrary samples in between
 * (single-sample spikes and noise must neither start nor break a sustained condition).
 */
export interface Run {
  readonly start_ms: number;
  readonly last_ms: number;
  readonly count: number;
  /** Contrary samples seen since the last sample that satisfied the condition. */
  readonly misses: number;
  /** Largest observed value inside the run (what the run looked like, e.g. the ratio it rebounded to). */
  readonly peak: number;
}

export function advanceRun(run: Run | null, holds: boolean, t_ms: number, value: number, graceSamples: number): Run | null {
  if (holds) {
    if (run === null) return { start_ms: t_ms, last_ms: t_ms, count: 1, misses: 0, peak: value };
    return { start_ms: run.start_ms, last_ms: t_ms, count: run.count + 1, misses: 0, peak: value > run.peak ? value : run.peak };
  }
  if (run === null) return null;
  if (run.misses >= graceSamples) return null;
  return { ...run, misses: run.misses + 1 };
}

/** Sustained: lasted at least `duration_ms` of event time and holds at least `minSamples` samples. */
export function isSustained(run: Run | null, duration_ms: number, minSamples: number): boolean {
  return run !== null && run.count >= minSamples && run.last_ms - run.start_ms >= duration_ms;
}
