import { describe, expect, it } from 'vitest';
import { eventLines, telemetryLine } from '../../src/io/lineProtocol.js';
import { sample } from '../../src/domain/sample.js';

describe('line protocol', () => {
  it('writes telemetry with the cell as tag, leaves out missing fields, ms timestamps', () => {
    expect(telemetryLine(sample('c1', 1767225600000, { voltage_V: 0.0712, current_mA: 2 }))).toBe(
      'telemetry,cell=c1 voltage_V=0.0712,current_mA=2 1767225600000',
    );
    expect(telemetryLine(sample('c1', 1, {}))).toBeNull();
  });

  it('escapes tag values and string fields', () => {
    expect(telemetryLine(sample('a b,c=d', 5, { pressure_MPa: 9 }))).toBe('telemetry,cell=a\\ b\\,c\\=d pressure_MPa=9 5');
    const [l] = eventLines({ type: 'alert', cell: 'c1', t_ms: 7, severity: 'critical', code: 'short', state: 'raised', message: 'say "hi"\nnow' });
    expect(l).toBe('events,cell=c1,type=alert,code=short title="short",text="say \\"hi\\" now",severity="critical",state="raised",active=1i 7');
  });

  it('never splits a record on a control character in a tag (an id from an embedded broker topic)', () => {
    const l = telemetryLine(sample('a\nb\tc\u0001', 5, { pressure_MPa: 9 }))!;
    expect(l.split('\n')).toHaveLength(1);
    expect(l).toBe('telemetry,cell=a\\ b\\ c\\  pressure_MPa=9 5');
  });

  it('writes integers with the i suffix and booleans as such', () => {
    const [l] = eventLines({
      type: 'half-cycle',
      cell: 'c1',
      index: 3,
      start_ms: 0,
      end_ms: 10,
      duration_s: 0.01,
      current_mA: 2,
      currentDensity_mA_cm2: 2,
      charge_mAh_cm2: 1,
      metalThickness_um: 8.8,
      cumulativeCapacity_mAh_cm2: 4,
      plateauAbsVoltage_V: null,
      peakAbsVoltage_V: 8,
      rRatioPeak: null,
      contactFractionMin: null,
      jLocalPeak_mA_cm2: null,
      jLocalIsLowerBound: false,
      cutByCompliance: true,
      tMax_s: 100,
    });
    expect(l).toMatch(/^half_cycle,cell=c1 index=3i,duration_s=0.01,/);
    expect(l).toMatch(/cutByCompliance=true/);
    expect(l).not.toMatch(/plateauAbsVoltage_V/);
  });
});
