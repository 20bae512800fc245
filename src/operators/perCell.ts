import { Observable, Subscription, type Subscriber, type OperatorFunction } from 'rxjs';
import type { Sample } from '../domain/sample.js';

/**
 * One cell's samples: an observable with a single subscriber (its pipeline), fed directly. A Subject and its
 * `asObservable()` would add a loop over observers and a subscriber hop to every sample.
 */
class CellInput {
  private target: Subscriber<Sample> | null = null;
  readonly samples = new Observable<Sample>((s) => {
    this.target = s;
    return () => {
      if (this.target === s) this.target = null;
    };
  });
  next(s: Sample): void {
    this.target?.next(s);
  }
  error(e: unknown): void {
    this.target?.error(e);
  }
  complete(): void {
    this.target?.complete();
  }
}

/**
 * Splits a multi-cell stream by cell and runs `pipeline` on each cell's own stream, merging the results.
 * Like `groupBy` + `mergeMap`, with a fast path for runs of samples from the same cell (the common case
 * in files and bursts), since it sits on the per-sample path.
 *
 * The end of the input completes every cell's stream (its pipeline finishes: an analysis's last half cycle, its
 * summary); unsubscribing only stops them, as a monitor's planned stop must: the state stays as the last sample left
 * it, to be checkpointed and continued after the restart.
 */
export function perCell<R>(pipeline: (cell: string, samples: Observable<Sample>) => Observable<R>): OperatorFunction<Sample, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const groups = new Map<string, CellInput>();
      const pipelines = new Subscription();
      let lastCell: string | null = null;
      let lastGroup: CellInput | null = null;
      let open = 0;
      let sourceDone = false;
      const inner = { next: (r: R) => subscriber.next(r), error: (e: unknown) => subscriber.error(e) };
      const groupFor = (cell: string): CellInput => {
        let g = groups.get(cell);
        if (g === undefined) {
          g = new CellInput();
          groups.set(cell, g);
          open++;
          pipelines.add(
            pipeline(cell, g.samples).subscribe({
              ...inner,
              complete: () => {
                if (--open === 0 && sourceDone) subscriber.complete();
              },
            }),
          );
        }
        return g;
      };
      const sub = source.subscribe({
        next(s) {
          if (s.cell !== lastCell) {
            lastGroup = groupFor(s.cell);
            lastCell = s.cell;
          }
          lastGroup!.next(s);
        },
        error: (e) => {
          for (const g of groups.values()) g.error(e);
          subscriber.error(e);
        },
        complete() {
          sourceDone = true;
          if (open === 0) subscriber.complete();
          for (const g of groups.values()) g.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        pipelines.unsubscribe();
      };
    });
}
