/**
 * The programmed protocol of an EC-Lab GCPL technique (galvanostatic cycling, the technique of symmetric-cell
 * tests), from the `.mpt` header's parameter table or the `.mpr` settings module: per sequence (`Ns`) the set
 * current and the longest a step may last (`t1`), so Eq. 1 can be checked before the first sample arrives.
 *
 * `.mpr` layout (from public readers, checked against the `.mpt` headers of the real files in the tests): the
 * sequence count (u16) and parameter count (u16) sit at one of a few offsets of the settings module, followed by
 * the packed parameters of each sequence; GCPL has 32 parameters in EC-Lab 10.x, 33 from "delta SoC" on, and from
 * the ≥ 11.50 module layout two of them widened to u32. The battery capacity (for C-rate currents) is a float32
 * at byte 0x25C with its unit at 0x260.
 */

export interface ProtocolStep {
  /** The sequence number `Ns`. */
  readonly sequence: number;
  /** Set current (mA, signed); null when it is a C-rate and the battery capacity is unknown. */
  readonly current_mA: number | null;
  /** `I`, or the C-rate as the header writes it (`C x N` with N, `C / N`). */
  readonly setBy: string;
  /** The step's time limit `t1` (s); null or 0: no limit. */
  readonly duration_s: number | null;
  /** The potential limit `EM` (V). */
  readonly voltageLimit_V: number | null;
}

export interface Protocol {
  readonly technique: 'GCPL';
  readonly steps: readonly ProtocolStep[];
}

const CURRENT_UNIT_mA: Record<string, number> = { A: 1000, mA: 1, µA: 1e-3, uA: 1e-3, nA: 1e-6, pA: 1e-9 };
const CURRENT_UNIT_IDS = [1000, 1, 1e-3, 1e-6, 1e-9];
const CHARGE_UNIT_IDS_mAh = [1000, 1, 1e-3, 1e-6, 1e-9];
const SET_BY = ['I', 'C / N', 'C x N'];

/** `h:m:s` as EC-Lab writes it (`1:10:0.0000`, `50:00:0.0000`) → seconds. */
export function hms_s(text: string): number | null {
  const m = /^(\d+):(\d+):(\d+(?:\.\d*)?)$/.exec(text.trim());
  return m === null ? null : Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

function currentOf(setBy: string, is_mA: number | null, n: number | null, capacity_mAh: number | null): number | null {
  if (setBy === 'I') return is_mA;
  if (capacity_mAh === null || n === null || !(n > 0)) return null;
  // A C-rate current is |capacity × N| (or / N) in mA for a capacity in mA·h; its sign is the step's `I sign`,
  // which the header states as "> 0" or "< 0" and EC-Lab also gives `Is` (stale, but signed) by.
  // Float32 settings: 7 significant digits.
  return Number((setBy === 'C x N' ? capacity_mAh * n : capacity_mAh / n).toPrecision(7));
}

/** From an `.mpt` header (the text before the column names); undefined when it holds no GCPL table. */
export function gcplFromMptHeader(header: string): Protocol | undefined {
  if (!/^Galvanostatic Cycling with Potential Limitation\s*$/m.test(header)) return undefined;
  const table = new Map<string, string[]>();
  for (const line of header.split(/\r?\n/)) {
    if (line.length <= 20 || line.indexOf(' : ') >= 0) continue;
    const key = line.slice(0, 20).trim();
    const values: string[] = [];
    for (let at = 20; at < line.length; at += 20) values.push(line.slice(at, at + 20).trim());
    if (!table.has(key)) table.set(key, values);
  }
  const ns = table.get('Ns');
  if (ns === undefined) return undefined;
  // Numbers may carry a decimal comma, by the PC's locale.
  const dec = (x: string | undefined): number => (x === undefined || x.length === 0 ? NaN : Number(x.replace(',', '.')));
  const capacity = /^Battery capacity : ([\d.,]+) (A\.h|mA\.h|µA\.h)/m.exec(header);
  const capacity_mAh = capacity === null ? null : dec(capacity[1]) * (capacity[2] === 'A.h' ? 1000 : capacity[2] === 'mA.h' ? 1 : 1e-3);
  const num = (k: string, i: number): number | null => {
    const v = dec(table.get(k)?.[i]);
    return Number.isFinite(v) ? v : null;
  };
  const steps = ns.map((seq, i): ProtocolStep => {
    const setBy = table.get('Set I/C')?.[i] ?? 'I';
    const unit = CURRENT_UNIT_mA[table.get('unit Is')?.[i] ?? 'mA'];
    const is = num('Is', i);
    const is_mA = is === null || unit === undefined ? null : is * unit;
    const sign = table.get('I sign')?.[i] === '< 0' ? -1 : 1;
    const c = currentOf(setBy, is_mA, num('N', i), capacity_mAh);
    return {
      sequence: Number(seq),
      current_mA: setBy === 'I' ? c : c === null ? null : sign * c,
      setBy: setBy === 'I' ? 'I' : `${setBy} (N = ${num('N', i)})`,
      duration_s: hms_s(table.get('t1 (h:m:s)')?.[i] ?? ''),
      voltageLimit_V: num('EM (V)', i),
    };
  });
  return { technique: 'GCPL', steps };
}

type Field = 'u1' | 'u4' | 'f4';
/** GCPL parameters in stored order, with the names the `.mpt` header gives them. */
function gcplLayout(deltaSoc: boolean, wide: boolean): [string, Field][] {
  return [
    ['Set I/C', 'u1'],
    ['Is', 'f4'],
    ['unit Is', 'u1'],
    ['unit Is vs.', wide ? 'u4' : 'u1'],
    ['N', 'f4'],
    ['I sign', wide ? 'u4' : 'u1'],
    ['t1 (h:m:s)', 'f4'],
    ['I Range', 'u1'],
    ['Bandwidth', 'u1'],
    ['dE1 (mV)', 'f4'],
    ['dt1 (s)', 'f4'],
    ['EM (V)', 'f4'],
    ['tM (h:m:s)', 'f4'],
    ['Im', 'f4'],
    ['unit Im', 'u1'],
    ['dI/dt', 'f4'],
    ['dunit dI/dt', 'u1'],
    ['E range min (V)', 'f4'],
    ['E range max (V)', 'f4'],
    ['dq', 'f4'],
    ['unit dq', 'u1'],
    ['dtq (s)', 'f4'],
    ['dQM', 'f4'],
    ['unit dQM', 'u1'],
    ['dxM', 'f4'],
    ...(deltaSoc ? [['delta SoC (%)', 'f4'] as [string, Field]] : []),
    ['tR (h:m:s)', 'f4'],
    ['dER/dt (mV/h)', 'f4'],
    ['dER (mV)', 'f4'],
    ['dtR (s)', 'f4'],
    ['EL (V)', 'f4'],
    ["goto Ns'", 'u4'],
    ['nc cycles', 'u4'],
  ];
}

const SIZE: Record<Field, number> = { u1: 1, u4: 4, f4: 4 };

/**
 * From the settings module of an `.mpr` (technique byte 0x04 or 0x77); `wideLayout`: the module header has the
 * EC-Lab ≥ 11.50 form. Undefined when no offset holds a GCPL table of a known size that fits the module.
 */
export function gcplFromMprSettings(settings: Buffer, wideLayout: boolean): Protocol | undefined {
  if (settings.length < 0x262 || (settings[0] !== 0x04 && settings[0] !== 0x77)) return undefined;
  const capacity = settings.readFloatLE(0x25c);
  const capacityUnit = CHARGE_UNIT_IDS_mAh[settings[0x260]!];
  const capacity_mAh = capacity > 0 && Number.isFinite(capacity) && capacityUnit !== undefined ? capacity * capacityUnit : null;
  for (const at of [0x572, 0x1845, 0x1846, 0x1847]) {
    if (at + 4 > settings.length) continue;
    const ns = settings.readUInt16LE(at);
    const n = settings.readUInt16LE(at + 2);
    const layout = n === 32 ? gcplLayout(false, false) : n === 33 ? gcplLayout(true, wideLayout) : undefined;
    if (layout === undefined || ns === 0 || ns > 100) continue;
    const size = layout.reduce((s, [, f]) => s + SIZE[f], 0);
    if (at + 4 + ns * size > settings.length) continue;
    const steps: ProtocolStep[] = [];
    for (let k = 0; k < ns; k++) {
      let p = at + 4 + k * size;
      const v = new Map<string, number>();
      for (const [name, f] of layout) {
        v.set(name, f === 'u1' ? settings[p]! : f === 'u4' ? settings.readUInt32LE(p) : settings.readFloatLE(p));
        p += SIZE[f];
      }
      const setBy = SET_BY[v.get('Set I/C')!];
      const unit = CURRENT_UNIT_IDS[v.get('unit Is')!];
      if (setBy === undefined || unit === undefined) return undefined; // not a GCPL table after all
      const f32 = (x: number): number => Number(x.toPrecision(7));
      const is_mA = f32(v.get('Is')!) * unit;
      const nC = f32(v.get('N')!);
      const c = currentOf(setBy, is_mA, nC, capacity_mAh);
      const sign = v.get('I sign') === 1 ? -1 : 1;
      steps.push({
        sequence: k,
        current_mA: setBy === 'I' ? c : c === null ? null : sign * c,
        setBy: setBy === 'I' ? 'I' : `${setBy} (N = ${nC})`,
        duration_s: f32(v.get('t1 (h:m:s)')!),
        voltageLimit_V: f32(v.get('EM (V)')!),
      });
    }
    return { technique: 'GCPL', steps };
  }
  return undefined;
}
