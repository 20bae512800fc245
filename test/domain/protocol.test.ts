import { describe, expect, it } from 'vitest';
import { assumedCell } from '../../src/domain/cell.js';
import { tMax_s } from '../../src/domain/physics.js';
import { checkProtocol, protocolAlerts } from '../../src/domain/protocol.js';

const na = assumedCell('c1', { areaCm2: 0.5, metal: 'Na', electrolyte: 'solid' });

describe('checkProtocol (Eq. 1 before the first half cycle)', () => {
  it('flags the steps longer than t_max at their current density, once per level', () => {
    // ±2.5 mA on 0.5 cm² = 5 mA/cm²: t_max 47 min (SPEC §2); 1 h steps exceed it, 30 min steps do not.
    const steps = [
      { sequence: 0, current_mA: 0, duration_s: 600 },
      { sequence: 1, current_mA: 2.5, duration_s: 3600 },
      { sequence: 2, current_mA: -2.5, duration_s: 3600 },
      { sequence: 3, current_mA: 2.5, duration_s: 1800 },
    ];
    const c = checkProtocol(steps, na);
    expect(c.steps.map((s) => s.exceedsTMax)).toEqual([false, true, true, false]);
    expect(c.steps[1]!.currentDensity_mA_cm2).toBe(5);
    expect(c.steps[1]!.tMax_s).toBeCloseTo(tMax_s(5, 'Na'));
    expect(c.steps[1]!.tMax_s! / 60).toBeGreaterThan(45);
    expect(c.steps[1]!.tMax_s! / 60).toBeLessThan(49);
    const alerts = protocolAlerts('c1', c, 1000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ cell: 'c1', t_ms: 1000, severity: 'warning', code: 'protocol-exceeds-tmax', state: 'raised' });
    expect(alerts[0]!.message).toMatch(/sequences 1, 2 run up to 60\.0 min at 5\.00 mA\/cm², longer than t_max = 4\d\.\d min/);
  });

  it('checks nothing without a known metal, for liquid electrolytes, or without a current', () => {
    const steps = [{ sequence: 1, current_mA: 2.5, duration_s: 36_000 }];
    for (const cell of [assumedCell('c', { areaCm2: 0.5 }), assumedCell('c', { areaCm2: 0.5, metal: 'Li', electrolyte: 'liquid' })]) {
      const c = checkProtocol(steps, cell);
      expect(c.steps[0]!.tMax_s).toBeNull();
      expect(protocolAlerts('c', c, 0)).toEqual([]);
    }
    expect(checkProtocol([{ sequence: 1, current_mA: null, duration_s: 36_000 }], na).steps[0]!.exceedsTMax).toBe(false);
    expect(checkProtocol([{ sequence: 1, current_mA: 2.5, duration_s: null }], na).steps[0]!.exceedsTMax).toBe(false);
  });

  it('recognises a CCD ramp: three or more rising current levels', () => {
    const ramp = [0.1, 0.2, 0.2, 0.4, 0.8].map((i, k) => ({ sequence: k, current_mA: i, duration_s: 600 }));
    expect(checkProtocol(ramp, na).ccdRamp).toBe(true);
    expect(checkProtocol(ramp.slice(0, 3), na).ccdRamp).toBe(false);
    expect(checkProtocol([...ramp].reverse(), na).ccdRamp).toBe(false);
  });
});
