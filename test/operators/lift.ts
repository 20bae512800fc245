/**
 * The reordering and alignment step functions lifted on their own into RxJS operators, so that their marble tests
 * document each step alone (the monitor runs them fused in one operator, see src/operators/monitor.ts).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { AlignedSample, Sample } from '../../src/domain/sample.js';
import { alignSample, alignState, type AlignState } from '../../src/operators/align.js';
import { admitSample, releaseUpTo, reorderState, type OnReject, type ReorderState } from '../../src/operators/reorder.js';

export function reorderWithin(
  window_ms: number,
  onReject: OnReject,
  state: ReorderState = reorderState(),
  onAdmit?: (s: Sample) => void,
): OperatorFunction<Sample, Sample> {
  return (source) =>
    new Observable<Sample>((subscriber) => {
      const next = (s: Sample): void => subscriber.next(s);
      return source.subscribe({
        next: (s) => admitSample(state, window_ms, s, onReject, onAdmit, next),
        error: (e) => subscriber.error(e),
        complete() {
          releaseUpTo(state, Infinity, next);
          subscriber.complete();
        },
      });
    });
}

export function alignAux(staleness_ms: number, onReject: OnReject, state: AlignState = alignState()): OperatorFunction<Sample, AlignedSample> {
  return (source) =>
    new Observable<AlignedSample>((subscriber) =>
      source.subscribe({
        next(s) {
          const a = alignSample(state, staleness_ms, s, onReject);
          if (a !== null) subscriber.next(a);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
}
