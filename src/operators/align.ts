import { Observable, type OperatorFunction } from 'rxjs';
import type { AlignedSample, Sample } from '../domain/sample.js';
import type { OnReject } from './reorder.js';

/**
 * Joins one cell's electrochemical samples with the latest pressure and temperature as of their event time.
 * Auxiliary readings older than `staleness_ms` are not carried forward: a dead force sensor must show as
 * missing, not as its last value. Input must be in event-time order (see `reorderWithin`).
 */
export function alignAux(staleness_ms: number, onReject: OnReject): OperatorFunction<Sample, AlignedSample> {
  return (source) =>
    new Observable<AlignedSample>((subscriber) => {
      let pressure: number | undefined;
      let pressure_ms = -Infinity;
      let temperature: number | undefined;
      let temperature_ms = -Infinity;
      return source.subscribe({
        next(s) {
          if (s.pressure_MPa !== undefined) {
            pressure = s.pressure_MPa;
            pressure_ms = s.t_ms;
          }
          if (s.temperature_C !== undefined) {
            temperature = s.temperature_C;
            temperature_ms = s.t_ms;
          }
          if (s.voltage_V === undefined && s.current_mA === undefined) return;
          if (s.voltage_V === undefined || s.current_mA === undefined) {
            onReject('no-current', s, s.voltage_V === undefined ? 'current without voltage' : 'voltage without current');
            return;
          }
          subscriber.next({
            cell: s.cell,
            t_ms: s.t_ms,
            voltage_V: s.voltage_V,
            current_mA: s.current_mA,
            pressure_MPa: s.t_ms - pressure_ms <= staleness_ms ? pressure : undefined,
            temperature_C: s.t_ms - temperature_ms <= staleness_ms ? temperature : undefined,
          });
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}
