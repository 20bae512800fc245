import { Observable } from 'rxjs';

/**
 * Emits the items of an async iterable of batches one by one. The next batch is read only after the
 * previous one has been pushed through the pipeline, so a file is never read faster than it is analysed.
 */
export function fromBatches<T>(batches: AsyncIterable<T[]>): Observable<T> {
  return new Observable<T>((subscriber) => {
    let stopped = false;
    (async () => {
      for await (const batch of batches) {
        for (let i = 0; i < batch.length; i++) {
          if (stopped) return;
          subscriber.next(batch[i]!);
        }
      }
      subscriber.complete();
    })().catch((e: unknown) => subscriber.error(e));
    return () => {
      stopped = true;
    };
  });
}
