import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { RejectReason } from '../domain/reject.js';
import { iso, type Sample } from '../domain/sample.js';
import { ZONE_TOLERANCE_MS, zoneLikeOffset_h } from '../domain/labTime.js';

export interface AdmitOptions {
  /** Wall clock, for the one check that needs it: a time ahead of the clock is a misconfigured publisher. */
  readonly now: () => number;
  readonly maxFutureSkew_ms: number;
  /** Earlier than this is taken for seconds sent as milliseconds. */
  readonly earliest_ms: number;
  /** Whether the registry lists the cell, or it has already been taken on. */
  readonly known: (cell: string) => boolean;
  /** Cells the registry does not list: taken on (with assumptions) or rejected. */
  readonly unknownCells: 'accept' | 'reject';
  /** Unlisted cells already taken on (from a checkpoint). */
  readonly unlistedSoFar: number;
  readonly maxUnlistedCells: number;
  readonly onReject: (reason: RejectReason, detail: string, cell: string) => void;
  /**
   * Once per cell (for the first `maxUnlistedCells` cells): its samples have stayed ahead of the clock by close to
   * one whole number of hours for `CLOCK_OFFSET_HELD_MS` — the instrument's local time read in the wrong zone.
   * `offset_h` is how far ahead.
   */
  readonly onClockOffset?: (cell: string, offset_h: number) => void;
}

/** How long (wall clock) a cell's samples must stay ahead by one zone's offset before the misread is named. */
export const CLOCK_OFFSET_HELD_MS = 30_000;

/**
 * Lets through the samples a live monitor should take on: not stamped in the future or before 2000, of a known
 * cell or of a new one while fewer than `maxUnlistedCells` unlisted ones are tracked. Each other sample is
 * reported to `onReject` with its reason, so that a hostile or misconfigured publisher cannot grow memory, logs
 * and alerts without bound.
 */
export function admitTelemetry(o: AdmitOptions): MonoTypeOperatorFunction<Sample> {
  let unlisted = o.unlistedSoFar;
  /** Unlisted cells admitted here (at most `maxUnlistedCells`): downstream may not have taken them on yet. */
  const takenOn = new Set<string>();
  const told = new Set<string>();
  /** Per cell, its current run of samples ahead by one zone-like offset: since when (wall clock) and how many. */
  const runs = new Map<string, { offset_h: number; since_ms: number; samples: number }>();
  return filter((s: Sample): boolean => {
    const now = o.now();
    const ahead_ms = s.t_ms - now;
    // A zone misread is a whole number of hours ahead (checked from 58 min, inside the skew allowed too).
    const offset_h = ahead_ms > 3_600_000 - ZONE_TOLERANCE_MS ? zoneLikeOffset_h(ahead_ms) : null;
    if (offset_h !== null) {
      o.onReject('clock-offset', `${s.cell}: ${iso(s.t_ms)} is ${offset_h} h ahead of the clock (local time read in the wrong zone?)`, s.cell);
      if (!told.has(s.cell) && told.size < o.maxUnlistedCells) {
        // Named once the offset holds while the clock runs: a backlog sent at once (a bridge catching up) passes
        // through every whole hour of its span in moments, a misread live stream stays at one.
        let run = runs.get(s.cell);
        if (run === undefined || run.offset_h !== offset_h) {
          if (run === undefined && runs.size >= o.maxUnlistedCells) return false;
          runs.set(s.cell, (run = { offset_h, since_ms: now, samples: 0 }));
        }
        run.samples++;
        if (run.samples >= 2 && now - run.since_ms >= CLOCK_OFFSET_HELD_MS) {
          told.add(s.cell);
          runs.delete(s.cell);
          o.onClockOffset?.(s.cell, offset_h);
        }
      }
      return false;
    }
    if (ahead_ms > o.maxFutureSkew_ms) {
      o.onReject('future', `${s.cell}: ${iso(s.t_ms)} is ahead of the clock`, s.cell);
      return false;
    }
    if (s.t_ms < o.earliest_ms) {
      o.onReject('past', `${s.cell}: ${s.t_ms} ms is before ${iso(o.earliest_ms)} (seconds sent as milliseconds?)`, s.cell);
      return false;
    }
    if (o.known(s.cell) || takenOn.has(s.cell)) return true;
    if (o.unknownCells === 'reject') {
      o.onReject('unknown-cell', `${s.cell} is not in the registry`, s.cell);
      return false;
    }
    if (unlisted >= o.maxUnlistedCells) {
      o.onReject('too-many-cells', `${s.cell}: already ${unlisted} cells not in the registry (maxUnlistedCells)`, s.cell);
      return false;
    }
    unlisted++;
    takenOn.add(s.cell);
    return true;
  });
}
