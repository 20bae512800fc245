/**
 * An instrument record's time from its two clocks: the date the PC stamped on it, and the test clock, which counts
 * time between records precisely. Neither alone is right in a lab:
 * - dates are coarse (to the second, or 10 ms: coarser than pulses), and labs see the PC's clock set back or forward
 *   during a run (a real Neware file steps back 165 s);
 * - the test clock stops while a test is paused (a real Maccor file pauses 2 h with 0.45 s of test time).
 * So a record is at its predecessor's time plus the test clock's step, unless its date is later than that by more
 * than `dateLead_ms` (a pause, a clock set forward): then at its date. Records are kept strictly in order: one at the
 * instant of its predecessor (a step's first record is the instant the last one ended) is placed 1 ms after it.
 */
export interface TestClockState {
  /** The last record's time, unrounded. */
  readonly exact_ms: number;
  /** The last record's time as given (whole ms). */
  readonly last_ms: number;
}

export const DATE_LEAD_MS = 2000;

export const TEST_CLOCK_START: TestClockState = { exact_ms: NaN, last_ms: -Infinity };

/**
 * The next record's time (whole ms) and the clock's new state. `date_ms` may be NaN (no date on this record), and
 * `step_s` is the test clock's advance since the previous record (ignored for the first record, which is at its date).
 */
export function nextRecordTime(state: TestClockState, date_ms: number, step_s: number, dateLead_ms = DATE_LEAD_MS): TestClockState {
  const counted_ms = state.exact_ms + Math.max(0, step_s) * 1000;
  const exact_ms = Number.isNaN(state.exact_ms) || date_ms > counted_ms + dateLead_ms ? date_ms : counted_ms;
  let t_ms = Math.round(exact_ms);
  if (t_ms <= state.last_ms) t_ms = state.last_ms + 1;
  return { exact_ms, last_ms: t_ms };
}
