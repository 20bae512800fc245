import { Observable, type OperatorFunction } from 'rxjs';
import type { Sample } from '../domain/sample.js';
import type { RejectReason } from '../io/report.js';

export type OnReject = (reason: RejectReason, sample: Sample, detail: string) => void;

function sameSample(a: Sample, b: Sample): boolean {
  return (
    a.t_ms === b.t_ms &&
    a.voltage_V === b.voltage_V &&
    a.current_mA === b.current_mA &&
    a.pressure_MPa === b.pressure_MPa &&
    a.temperature_C === b.temperature_C
  );
}

/**
 * Puts one cell's samples in event-time order within a bounded window and drops exact duplicates.
 *
 * A sample is held until a sample `window_ms` newer has arrived (or the source completes), so messages up to
 * `window_ms` late still land in place. Later ones cannot be placed any more: they are rejected as `late`,
 * never silently reordered behind decisions already taken. Memory is bounded by the samples in one window.
 */
export function reorderWithin(window_ms: number, onReject: OnReject): OperatorFunction<Sample, Sample> {
  return (source) =>
    new Observable<Sample>((subscriber) => {
      let buf: Sample[] = [];
      let head = 0;
      let emitted_ms = -Infinity;
      let lastEmitted: Sample | null = null;
      const flushUpTo = (limit_ms: number): void => {
        while (head < buf.length && buf[head]!.t_ms <= limit_ms) {
          const s = buf[head++]!;
          emitted_ms = s.t_ms;
          lastEmitted = s;
          subscriber.next(s);
        }
        if (head > 1024 && head * 2 > buf.length) {
          buf = buf.slice(head);
          head = 0;
        }
      };
      return source.subscribe({
        next(s) {
          if (s.t_ms < emitted_ms) {
            onReject('late', s, `${s.t_ms - emitted_ms} ms behind samples already processed (window ${window_ms} ms)`);
            return;
          }
          if (lastEmitted !== null && s.t_ms === emitted_ms && sameSample(lastEmitted, s)) {
            onReject('duplicate', s, 'same timestamp and values as an earlier message');
            return;
          }
          // Insert from the end: in-order input costs O(1).
          let k = buf.length;
          while (k > head && buf[k - 1]!.t_ms > s.t_ms) k--;
          for (let j = k - 1; j >= head && buf[j]!.t_ms === s.t_ms; j--) {
            if (sameSample(buf[j]!, s)) {
              onReject('duplicate', s, 'same timestamp and values as an earlier message');
              return;
            }
          }
          if (k === buf.length) buf.push(s);
          else buf.splice(k, 0, s);
          flushUpTo(buf[buf.length - 1]!.t_ms - window_ms);
        },
        error: (e) => subscriber.error(e),
        complete() {
          flushUpTo(Infinity);
          subscriber.complete();
        },
      });
    });
}
