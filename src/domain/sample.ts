/**
 * A telemetry sample as it arrives: any subset of the quantities, at one event time.
 * Missing quantities are `undefined`; every field is always present so that objects keep one shape.
 */
export interface Sample {
  readonly cell: string;
  /** Event time, epoch milliseconds. */
  readonly t_ms: number;
  readonly voltage_V: number | undefined;
  readonly current_mA: number | undefined;
  readonly pressure_MPa: number | undefined;
  readonly temperature_C: number | undefined;
}

/** An electrochemical sample joined with the latest pressure and temperature as of its time. */
export interface AlignedSample {
  readonly cell: string;
  readonly t_ms: number;
  readonly voltage_V: number;
  readonly current_mA: number;
  readonly pressure_MPa: number | undefined;
  readonly temperature_C: number | undefined;
}

export function sample(cell: string, t_ms: number, fields: Partial<Omit<Sample, 'cell' | 't_ms'>> = {}): Sample {
  return {
    cell,
    t_ms,
    voltage_V: fields.voltage_V,
    current_mA: fields.current_mA,
    pressure_MPa: fields.pressure_MPa,
    temperature_C: fields.temperature_C,
  };
}

/** ISO-8601 for messages and outputs; never throws (a time no Date can hold is named, not formatted). */
export const iso = (t_ms: number): string => (t_ms >= -8.64e15 && t_ms <= 8.64e15 ? new Date(t_ms).toISOString() : `${t_ms} ms (not a valid time)`);
