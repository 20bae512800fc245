import { describe, expect, it } from 'vitest';
import { eventLines } from '../../../src/io/influx/lineProtocol.js';
import { derivedLine, telemetryLine } from '../../support/lines.js';
import type { DerivedState } from '../../../src/domain/detector/index.js';
import { REGIME_CODES } from '../../../src/domain/regime.js';
import { sample } from '../../../src/domain/sample.js';

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

  it('writes the derived state of a sample (9 significant digits), its per-cell cached texts following every change of R_ref and j_set', () => {
    const d: DerivedState = {
      t_ms: 1767225600000.4,
      regime: 'polarization',
      halfCycleIndex: 4,
      resting: false,
      rApp_ohm: 71.2,
      rRef_ohm: 35.6,
      rRefSource: 'calibrated',
      ratio: 2,
      contactFraction: 0.5,
      aEff_cm2: 0.55,
      jSet_mA_cm2: 1.8181818181818181,
      jLocal_mA_cm2: 3.6363636363636362,
      atCompliance: false,
      forecast_h: null,
    };
    expect(derivedLine('c 1', d)).toBe(
      'derived,cell=c\\ 1 regime="polarization",regimeCode=2i,resting=false,rRefSource="calibrated",jLocalIsLowerBound=false,halfCycleIndex=4i,rApp_ohm=71.2,rRef_ohm=35.6,ratio=2,contactFraction=0.5,aEff_cm2=0.55,jSet_mA_cm2=1.81818182,jLocal_mA_cm2=3.63636364 1767225600000',
    );
    // Another cell, then the same cell with a new reference and current: no text of one leaks into the other.
    expect(derivedLine('c2', { ...d, rRef_ohm: 40, jSet_mA_cm2: 2 })).toContain('rRef_ohm=40,ratio=2,contactFraction=0.5,aEff_cm2=0.55,jSet_mA_cm2=2,');
    const next = derivedLine('c 1', {
      ...d,
      rRef_ohm: 35.65,
      jSet_mA_cm2: -1.8181818181818181,
      rApp_ohm: null,
      ratio: null,
      contactFraction: null,
      aEff_cm2: null,
      jLocal_mA_cm2: null,
      atCompliance: true,
    });
    expect(next).toBe(
      'derived,cell=c\\ 1 regime="polarization",regimeCode=2i,resting=false,rRefSource="calibrated",jLocalIsLowerBound=true,halfCycleIndex=4i,rRef_ohm=35.65,jSet_mA_cm2=-1.81818182 1767225600000',
    );
    expect(derivedLine('c 1', { ...d, rRef_ohm: null })).not.toContain('rRef_ohm');
    // A standing compliance forecast: hours to it, at the end.
    expect(derivedLine('c 1', { ...d, forecast_h: 31.25 })).toMatch(/,jLocal_mA_cm2=3\.63636364,forecast_h=31\.25 1767225600000$/);
    // Every combination of the few-valued fields, each in its own field.
    for (const [regime, code] of Object.entries(REGIME_CODES) as [DerivedState['regime'], number][])
      for (const rRefSource of ['calibrated', 'configured', 'provisional', 'none'] as const)
        for (const resting of [false, true])
          for (const atCompliance of [false, true]) {
            const fields = Object.fromEntries(
              derivedLine('c2', { ...d, regime, rRefSource, resting, atCompliance })
                .split(' ')[1]!
                .split(',')
                .map((f) => f.split('=')),
            );
            expect(fields).toMatchObject({
              regime: `"${regime}"`,
              regimeCode: `${code}i`,
              rRefSource: `"${rRefSource}"`,
              resting: String(resting),
              jLocalIsLowerBound: String(atCompliance),
              halfCycleIndex: '4i',
            });
          }
    expect(derivedLine('c 1', d)).toContain(',rRef_ohm=35.6,');
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
      voltageNoise_mV: 0.5,
      temperature_C: null,
    });
    expect(l).toMatch(/^half_cycle,cell=c1 index=3i,duration_s=0.01,/);
    expect(l).toMatch(/voltageNoise_mV=0.5/);
    expect(l).not.toMatch(/temperature_C/);
    expect(l).toMatch(/cutByCompliance=true/);
    expect(l).not.toMatch(/plateauAbsVoltage_V/);
  });
});
