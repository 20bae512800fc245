import { groupBy, mergeMap, type Observable, type OperatorFunction } from 'rxjs';
import type { Sample } from '../domain/sample.js';

/** Splits a multi-cell stream by cell and runs `pipeline` on each cell's own ordered stream. */
export function perCell<R>(pipeline: (cell: string, samples: Observable<Sample>) => Observable<R>): OperatorFunction<Sample, R> {
  return (source) =>
    source.pipe(
      groupBy((s) => s.cell),
      mergeMap((group) => pipeline(group.key, group)),
    );
}
