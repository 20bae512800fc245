import type { AlignedSample, Sample } from '../domain/sample.js';
import type { OnReject } from './reorder.js';

/**
 * Joins one cell's electrochemical samples with the latest pressure and temperature as of their event time.
 * Auxiliary readings older than `staleness_ms` are not carried forward: a dead force sensor must show as
 * missing, not as its last value. Input must be in event-time order (see `admitSample`).
 */
/** The latest auxiliary readings; plain data, so a checkpoint can carry it over a restart. */
export interface AlignState {
  /** Current carried forward from current-only rows (record-on-change cyclers log it only when it changes). */
  current: number | null;
  current_ms: number;
  pressure: number | null;
  pressure_ms: number;
  temperature: number | null;
  temperature_ms: number;
}

export function alignState(): AlignState {
  return { current: null, current_ms: -Infinity, pressure: null, pressure_ms: -Infinity, temperature: null, temperature_ms: -Infinity };
}

/**
 * One sample through the join: updates the latest readings and returns the aligned electrochemical sample, or
 * null (an auxiliary-only or current-only message, or a voltage with no current to go with it: rejected).
 */
export function alignSample(st: AlignState, staleness_ms: number, s: Sample, onReject: OnReject, into?: Mutable<AlignedSample>): AlignedSample | null {
  if (s.pressure_MPa !== undefined) {
    st.pressure = s.pressure_MPa;
    st.pressure_ms = s.t_ms;
  }
  if (s.temperature_C !== undefined) {
    st.temperature = s.temperature_C;
    st.temperature_ms = s.t_ms;
  }
  if (s.current_mA !== undefined) {
    st.current = s.current_mA;
    st.current_ms = s.t_ms;
  }
  if (s.voltage_V === undefined) return null;
  const current = s.current_mA ?? (st.current !== null && s.t_ms - st.current_ms <= staleness_ms ? st.current : undefined);
  if (current === undefined) {
    onReject('no-current', s, 'voltage without a current (none in this message, none recent enough to carry forward)');
    return null;
  }
  const pressure_MPa = st.pressure !== null && s.t_ms - st.pressure_ms <= staleness_ms ? st.pressure : undefined;
  const temperature_C = st.temperature !== null && s.t_ms - st.temperature_ms <= staleness_ms ? st.temperature : undefined;
  if (into === undefined) return { cell: s.cell, t_ms: s.t_ms, voltage_V: s.voltage_V, current_mA: current, pressure_MPa, temperature_C };
  // Reused by a caller that keeps nothing of it (offline analysis): millions of short-lived objects less.
  into.cell = s.cell;
  into.t_ms = s.t_ms;
  into.voltage_V = s.voltage_V;
  into.current_mA = current;
  into.pressure_MPa = pressure_MPa;
  into.temperature_C = temperature_C;
  return into;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
