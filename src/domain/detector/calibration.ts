/**
 * The reference resistance over a run: calibration on the cell's own plateau, the instrument's offset and the
 * reference re-checked at a higher current, interface growth followed, and the thermal lag fitted at chamber steps.
 */
import type { CellConfig } from '../cell.js';
import { calibratedReference, calibrationState } from '../reference.js';
import { referenceReady, type RegimeChange } from '../regime.js';
import { observePlateau, offsetState } from '../offset.js';
import { observeCheckedHalfCycle, referenceCheckState } from '../referenceCheck.js';
import { interfaceDriftState, observeInterfaceLevel } from '../interfaceDrift.js';
import { observeThermalPoint, thermalFitState } from '../thermalFit.js';
import { median } from '../stats.js';
import type { DetectorOptions, HalfCycleAcc, DetectorState, Emit } from './state.js';
import { when, formatOhm, alert, applyChanges } from './alerts.js';

/** A stable cell's plateau, summed per minute for the thermal fit; a fitted chamber step is said once. */
export function observeThermal(s: DetectorState, cell: CellConfig, o: DetectorOptions, t: number, logged_C: number, rApp_ohm: number, emit: Emit): void {
  const th = (s.thermalFit ??= { fit: thermalFitState(), inUse: null, minute_ms: NaN, sumR_ohm: 0, n: 0, nR: 0, logged_C: NaN });
  const minute_ms = Math.floor(t / 60_000) * 60_000;
  if (minute_ms !== th.minute_ms) {
    if (th.n > 0) {
      const fit = observeThermalPoint(
        th.fit,
        { t_ms: th.minute_ms + 30_000, logged_C: th.logged_C, lnR: (th.nR ?? 0) > 0 ? Math.log(th.sumR_ohm / th.nR!) : NaN },
        o.thermalFit,
      );
      if (fit !== null) {
        const fits = th.fit.fits;
        th.inUse = { lag_min: median(fits.map((f) => f.lag_min)), ea_eV: median(fits.map((f) => f.ea_eV)) };
        alert(
          s,
          emit,
          t,
          'info',
          'thermal-fit',
          `the chamber step ${fit.from_C.toFixed(0)} → ${fit.to_C.toFixed(0)} °C at ${when(s, cell, fit.step_ms)}: the cell follows with a ` +
            `${fit.lag_min.toFixed(0)} min lag, Ea ${fit.ea_eV.toFixed(2)} eV (R² ${fit.r2.toFixed(3)}; registry: ${cell.thermalLag_min} min, ` +
            `${cell.activationEnergyEv} eV); compensation uses the steps' median from now on`,
        );
      }
    }
    th.minute_ms = minute_ms;
    th.sumR_ohm = 0;
    th.n = 0;
    th.nR = 0;
  }
  if (rApp_ohm > 0) {
    th.sumR_ohm += rApp_ohm;
    th.nR = (th.nR ?? 0) + 1;
  }
  th.n++;
  th.logged_C = logged_C;
}
/**
 * A steady half cycle's plateau for the instrument's offset (learned on both polarities), and for the reference's
 * re-check when the current has stepped up to a better plateau.
 */
export function observeOffsetAndReference(
  s: DetectorState,
  cell: CellConfig,
  o: DetectorOptions,
  hc: HalfCycleAcc,
  j: number,
  cut: boolean,
  noise: number,
  emit: Emit,
): void {
  const regime = s.regime.regime;
  const nSettled = hc.nSettled ?? 0;
  if (cut || nSettled < 10 || (regime !== 'stable' && regime !== 'learning')) return;
  const plateau_V = hc.sumSettledAbsV! / nSettled;
  const absI = hc.sumAbsI_mA / hc.n;
  const offset = (s.offset ??= offsetState());
  const before = offset.offset_V;
  const changed = observePlateau(offset, hc.sign, absI, plateau_V, o.offset);
  const ref = s.reference;
  if (changed !== null) {
    // Chunks measured with the old offset are not the cell's: calibration starts again.
    if (ref.calibrated25_ohm === null) ref.calibration = calibrationState();
    if (before === 0)
      alert(
        s,
        emit,
        hc.last_ms,
        'info',
        'voltage-offset',
        `the voltage reads ${(changed * 1000).toFixed(2)} mV ${changed > 0 ? 'high' : 'low'} on positive currents and as much the other way on negative ones ` +
          `(the instrument's offset, from ${offset.pairs.length} pairs of half cycles at ${(plateau_V * 1000).toFixed(1)} mV plateaus): subtracted before R_app`,
      );
  }
  const check = s.referenceCheck;
  if (check == null || ref.source !== 'calibrated' || !(hc.judged > 0)) return;
  const steady =
    regime === 'stable' &&
    !(noise > o.noisyPlateau) &&
    hc.lowSmoothRatio !== undefined &&
    hc.peakSmoothRatio !== undefined &&
    hc.peakSmoothRatio <= (1 + o.interfaceDrift.maxRiseWithin) * hc.lowSmoothRatio;
  const remeasured = observeCheckedHalfCycle(check, { sign: hc.sign, j_mA_cm2: j, plateau_V, ratio: hc.sumRatio! / hc.judged, steady }, o.referenceCheck);
  if (remeasured === null) return;
  const was = ref.r25_ohm!;
  ref.r25_ohm = was * remeasured.factor;
  alert(
    s,
    emit,
    hc.last_ms,
    'info',
    'reference-remeasured',
    `at ${remeasured.to_mA_cm2.toPrecision(2)} mA/cm² (a ${(remeasured.toPlateau_V * 1000).toFixed(1)} mV plateau) the healthy cell reads ` +
      `${remeasured.factor.toFixed(2)}× the reference measured at ${remeasured.from_mA_cm2.toPrecision(2)} mA/cm² (a ${(remeasured.fromPlateau_V * 1000).toFixed(1)} mV plateau); ` +
      `R is ohmic, so the better plateau measures it: R_ref ${formatOhm(was)} → ${formatOhm(ref.r25_ohm)} at 25 °C`,
  );
}
/** A stable half cycle's level for the interface drift; once growth is called, the reference follows it. */
export function followInterface(s: DetectorState, cell: CellConfig, o: DetectorOptions, hc: HalfCycleAcc, emit: Emit): void {
  if (hc.lowSmoothRatio === undefined || hc.peakSmoothRatio === undefined || hc.temperatureMin_C === undefined) return;
  const drift = (s.interfaceDrift ??= interfaceDriftState());
  const before = drift.follow;
  const growth = observeInterfaceLevel(
    drift,
    {
      t_ms: hc.last_ms,
      lowRatio: hc.lowSmoothRatio,
      highRatio: hc.peakSmoothRatio,
      temperatureMin_C: hc.temperatureMin_C,
      temperatureMax_C: hc.temperatureMax_C!,
      reference_C: cell.nominalTemperatureC ?? 25,
    },
    o.interfaceDrift,
  );
  const ref = s.reference;
  if (drift.follow !== before && ref.r25_ohm !== null) ref.r25_ohm *= drift.follow / before;
  if (growth !== null)
    alert(
      s,
      emit,
      hc.last_ms,
      'info',
      'interface-growth',
      `R_app has grown ${(100 * growth.growth).toFixed(0)} % in ${growth.span_h.toFixed(0)} h (${(100 * growth.growth_per100h).toFixed(1)} % per 100 h), evenly: flat within each half cycle and no recovery at reversal, near ${cell.nominalTemperatureC ?? 25} °C — interface or interphase growth, not contact loss; the reference follows it (now R_ref = ${formatOhm(ref.r25_ohm!)} at 25 °C)`,
    );
}
/** End calibration when the plateau is reached (or at the time cap); say how it compares with the registry. */
export function tryCalibrate(s: DetectorState, cell: CellConfig, o: DetectorOptions, t: number, emit: Emit, final = false): void {
  const ref = s.reference;
  const measured = calibratedReference(ref.calibration, o.calibration, final);
  if (measured === null) return;
  ref.calibrated25_ohm = measured;
  ref.calibratedAt_ms = t;
  if (!s.thermal.seen && !s.failure.noTemperatureNoted) {
    s.failure.noTemperatureNoted = true;
    alert(
      s,
      emit,
      t,
      'info',
      'no-temperature',
      `no temperature telemetry: R_ref is referred to 25 °C from the nominal ${cell.nominalTemperatureC} °C (registry nominalTemperatureC)`,
    );
  }
  const theory = ref.theoretical25_ohm;
  if (theory !== null && Math.abs(measured / theory - 1) > o.referenceMismatch) {
    const trusted = ref.source === 'configured';
    alert(
      s,
      emit,
      t,
      'warning',
      'reference-mismatch',
      `registry σ, d, A imply R_ref = ${formatOhm(theory)}, the cell measures ${formatOhm(measured)} at 25 °C ` +
        `(×${(measured / theory).toFixed(2)}: initial contact, interface resistance or notebook values): ` +
        (trusted ? 'using the configured value (referenceMode: configured)' : 'using the measured value'),
    );
  }
  if (ref.source === 'configured' || final) return;
  ref.r25_ohm = measured;
  ref.source = 'calibrated';
  const hc = s.halfCycle;
  const nSettled = hc?.nSettled ?? 0;
  if (hc !== null && nSettled > 0) s.referenceCheck = referenceCheckState(hc.sumAbsI_mA / hc.n / cell.areaCm2, hc.sumSettledAbsV! / nSettled);
  else if (s.lastPlateau != null) s.referenceCheck = referenceCheckState(s.lastPlateau.j_mA_cm2, s.lastPlateau.plateau_V);
  const changes: RegimeChange[] = [];
  s.regime = referenceReady(s.regime, t, changes);
  if (changes.length > 0) applyChanges(s, cell, changes, emit);
}
