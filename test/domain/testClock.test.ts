/** A record's time from the PC's date and the test clock (domain/testClock.ts), case by case. */
import { describe, expect, it } from 'vitest';
import { nextRecordTime, TEST_CLOCK_START, type TestClockState } from '../../src/domain/testClock.js';

/** Times of records given as [date_ms, test-clock step s]. */
function times(records: readonly [number, number][]): number[] {
  let c: TestClockState = TEST_CLOCK_START;
  return records.map(([d, s]) => (c = nextRecordTime(c, d, s)).last_ms);
}

describe('nextRecordTime', () => {
  it('starts at the first date and counts the test clock between records, finer than the dates', () => {
    // Pulses 4 ms and 458 ms apart, dated to 10 ms.
    expect(
      times([
        [1000, 0],
        [1000, 0.004],
        [1460, 0.4585],
        [1460, 0.004],
      ]),
    ).toEqual([1000, 1004, 1463, 1467]);
  });

  it('keeps counting when the PC’s clock is set back, and takes the date after a pause', () => {
    // Set back 165 s: the dates fall behind; the records stay 10 s apart.
    expect(
      times([
        [0, 0],
        [10_000, 10],
        [-155_000, 10],
        [-145_000, 10],
      ]),
    ).toEqual([0, 10_000, 20_000, 30_000]);
    // Paused 2 h: 0.01 s of test time, 7,200 s of dates.
    expect(
      times([
        [0, 0],
        [10, 0.01],
        [7_200_000, 0.01],
        [7_200_010, 0.01],
      ]),
    ).toEqual([0, 10, 7_200_000, 7_200_010]);
    // Dates within the lead of the count (rounding, a clock that runs a little fast) do not move it.
    expect(
      times([
        [0, 0],
        [1999 + 1000, 1],
      ]),
    ).toEqual([0, 1000]);
  });

  it('places a record at its predecessor’s instant 1 ms after it, and counts on without a date', () => {
    expect(
      times([
        [5000, 0],
        [5000, 0],
        [NaN, 1],
        [NaN, 0.5],
      ]),
    ).toEqual([5000, 5001, 6000, 6500]);
  });
});
