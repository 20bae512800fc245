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
   * Once per cell (for the first `maxUnlistedCells` cells): its samples are ahead of the clock by close to a whole
   * number of hours — the instrument's local time read in the wrong zone. `offset_h` is how far ahead.
   */
  readonly onClockOffset?: (cell: string, offset_h: number) => void;
}

/**
 * Lets through the samples a live monitor should take on: not stamped in the future or before 2000, of a known
 * cell or of a new one while fewer than `maxUnlistedCells` unlisted ones are tracked. Each other sample is
 * reported to `onReject` with its reason, so that a hostile or misconfigured publisher cannot grow memory, logs
 * and alerts without bound.
 */
export function admitTelemetry(o: AdmitOptions): MonoTypeOperatorFunction<Sample> {
  let unlisted = o.unlistedSoFar;
  const told = new Set<string>();
  return filter((s: Sample): boolean => {
    const ahead_ms = s.t_ms - o.now();
    // A zone misread is a whole number of hours ahead (checked from 58 min, inside the skew allowed too).
    const offset_h = ahead_ms > 3_600_000 - ZONE_TOLERANCE_MS ? zoneLikeOffset_h(ahead_ms) : null;
    if (offset_h !== null) {
      o.onReject('clock-offset', `${s.cell}: ${iso(s.t_ms)} is ${offset_h} h ahead of the clock (local time read in the wrong zone?)`, s.cell);
      if (!told.has(s.cell) && told.size < o.maxUnlistedCells) {
        told.add(s.cell);
        o.onClockOffset?.(s.cell, offset_h);
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
    if (o.known(s.cell)) return true;
    if (o.unknownCells === 'reject') {
      o.onReject('unknown-cell', `${s.cell} is not in the registry`, s.cell);
      return false;
    }
    if (unlisted >= o.maxUnlistedCells) {
      o.onReject('too-many-cells', `${s.cell}: already ${unlisted} cells not in the registry (maxUnlistedCells)`, s.cell);
      return false;
    }
    unlisted++;
    return true;
  });
}
