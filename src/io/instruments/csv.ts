/** Canonical CSV (SPEC §4): `timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C`. */
import type { Sample } from '../../domain/sample.js';

export const CSV_HEADER = 'timestamp,cell,voltage_V,current_mA,pressure_MPa,temperature_C';

const num = (x: number | undefined, digits: number): string => (x === undefined ? '' : String(Number(x.toFixed(digits))));

export function formatCsvRow(s: Sample): string {
  return `${new Date(s.t_ms).toISOString()},${s.cell},${num(s.voltage_V, 6)},${num(s.current_mA, 5)},${num(s.pressure_MPa, 3)},${num(s.temperature_C, 3)}`;
}
