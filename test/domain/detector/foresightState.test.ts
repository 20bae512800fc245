/**
 * The foresight's state (forecast points, noise windows, stack pressure) lives in the detector's state: a checkpoint
 * written before it existed resumes, and makes the same forecasts and noise windows as a state made today.
 */
import { expect, it } from 'vitest';
import type { CellConfig } from '../../../src/domain/cell.js';
import { createDetectorState, DEFAULT_DETECTOR_OPTIONS as O, derivedState, stepDetector, type DetectorState } from '../../../src/domain/detector/index.js';
import type { CellEvent } from '../../../src/domain/events.js';

const cell: CellConfig = {
  id: 'c1',
  areaCm2: 1,
  thicknessCm: 0.23,
  sigmaSPerCm: 0.23 / 35,
  activationEnergyEv: 0.3,
  metal: 'Na',
  electrolyte: 'solid',
  complianceV: 8,
  nominalTemperatureC: 25,
  thermalLag_min: 0,
  referenceMode: 'configured',
};

/** 40 h of 1 h half cycles at 2 mA, stable for 10 h, then voids doubling the excess resistance every 4 h. */
function feed(s: DetectorState): { events: CellEvent[]; forecast_h: number | null } {
  const events: CellEvent[] = [];
  let last = null;
  for (let t = 0; t < 40 * 3600; t += 10) {
    const h = t / 3600;
    const I = Math.floor(h) % 2 === 0 ? 2 : -2;
    const excess = h < 10 ? 0 : 0.5 * 2 ** ((h - 10) / 4);
    const V = (I / 1000) * 35 * (1 + excess * ((t % 3600) / 3600)) * (1 + 0.002 * Math.sin(t));
    last = stepDetector(s, cell, O, { cell: 'c1', t_ms: t * 1000, voltage_V: V, current_mA: I, pressure_MPa: 10, temperature_C: undefined }, (e) =>
      events.push(e),
    );
  }
  return { events, forecast_h: derivedState(s, cell, last!).forecast_h };
}

it('resumes a checkpoint from before the foresight, with the same forecasts and noise windows', () => {
  const today = feed(createDetectorState(cell));
  const old = structuredClone(createDetectorState(cell)) as DetectorState & Record<string, unknown>;
  delete old['foresight'];
  delete old['noise'];
  delete old['stack'];
  const resumed = feed(old);
  const kinds = (es: CellEvent[]): Record<string, number> => es.reduce<Record<string, number>>((a, e) => ({ ...a, [e.type]: (a[e.type] ?? 0) + 1 }), {});
  expect(kinds(today.events)['forecast']).toBeGreaterThan(5);
  expect(kinds(today.events)['noise']).toBeGreaterThan(20);
  expect(resumed.events).toEqual(today.events);
  expect(today.forecast_h).not.toBeNull();
  expect(resumed.forecast_h).toBe(today.forecast_h);
});
