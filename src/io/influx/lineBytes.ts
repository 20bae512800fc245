/**
 * The per-sample lines (`telemetry`, `derived`) encoded straight into a sink's byte buffer. They are written for
 * every message the monitor receives, and turning doubles into strings, joining them and encoding the result was
 * a fifth of the monitor's CPU: here digits are written as bytes, and whatever stays the same from one sample of a
 * cell to the next (its tag, R_ref, j_set) is encoded once.
 *
 * Raw telemetry keeps every digit of its values (JavaScript's shortest round-trip text). Derived values are written
 * with 9 significant digits: they are estimates from measured voltages and currents of 4 to 6 digits, and the
 * last place of a double says nothing about a cell.
 */
import type { DerivedState } from '../../domain/detector/index.js';
import { REGIME_CODES, type Regime } from '../../domain/regime.js';
import type { ReferenceSource } from '../../domain/reference.js';
import type { AlignedSample, Sample } from '../../domain/sample.js';
import { NUMBER_BYTES, POW10, type ArrivedNumbers, type ArrivedText } from '../numbers.js';

/** Room for one line in a sink's buffer: bytes go from `at`; `commitLine` is told where they end. */
export interface LineSlot {
  buf: Buffer;
  at: number;
}

/** Where encoded lines go (a point sink). */
export interface LineTarget {
  /** Room for a line of at most `maxBytes` bytes (newline excluded) with time `t_ms`. */
  reserveLine(t_ms: number, maxBytes: number): LineSlot;
  /** The reserved line ends at `end` (exclusive). */
  commitLine(end: number): void;
}

const SIGNIFICANT_DIGITS = 9;
const MANTISSA_MAX = 10 ** SIGNIFICANT_DIGITS;
const MANTISSA_MIN = MANTISSA_MAX / 10;

const scale = (x: number, k: number): number => (k >= 0 ? x * POW10[k]! : x / POW10[-k]!);

/** `x` (finite) with 9 significant digits, trailing zeros dropped, in plain decimal notation for 1e-7 ≤ |x| < 1e21. */
export function writeDecimal(b: Buffer, at: number, x: number): number {
  if (x === 0) {
    b[at] = 48;
    return at + 1;
  }
  if (x < 0) {
    b[at++] = 45;
    x = -x;
  }
  if (!(x >= 1e-7 && x < 1e21)) return at + b.write(x.toPrecision(SIGNIFICANT_DIGITS).replace(/\.?0+e/, 'e'), at, 'latin1');
  // x ≈ m · 10^(e - 8) with m of 9 digits. The decade is found by comparison (cheaper than Math.log10); below 1 the
  // products are not exact and e may be one off: m is checked.
  let e = 0;
  if (x >= 1) while (x >= POW10[e + 1]!) e++;
  else {
    e = -1;
    while (x * POW10[-e]! < 1) e--;
  }
  let m = Math.round(scale(x, SIGNIFICANT_DIGITS - 1 - e));
  if (m < MANTISSA_MIN) {
    e--;
    m = Math.round(scale(x, SIGNIFICANT_DIGITS - 1 - e));
  }
  if (m >= MANTISSA_MAX) {
    m = Math.round(m / 10);
    e++;
  }
  // Below 10^9 < 2^31: the digit arithmetic runs on 32-bit integers.
  m |= 0;
  let digits = SIGNIFICANT_DIGITS;
  while (digits > 1) {
    const q = (m / 10) | 0;
    if (m !== 10 * q) break;
    m = q;
    digits--;
  }
  if (e < 0) {
    // 0.000ddd
    b[at++] = 48;
    b[at++] = 46;
    for (let z = -1; z > e; z--) b[at++] = 48;
    return writeDigits(b, at + digits, m, digits);
  }
  if (e >= digits - 1) {
    // ddd000
    at = writeDigits(b, at + digits, m, digits);
    for (let z = digits - 1; z < e; z++) b[at++] = 48;
    return at;
  }
  // dd.ddd
  const fraction = digits - 1 - e;
  const end = at + digits + 1;
  writeDigits(b, end, m, fraction);
  b[end - fraction - 1] = 46;
  writeDigits(b, end - fraction - 1, (m / POW10[fraction]!) | 0, e + 1);
  return end;
}

/** The lowest `count` digits of the integer `m`, ending just before `end`; returns `end`. */
function writeDigits(b: Buffer, end: number, m: number, count: number): number {
  let i = end - 1;
  // Above 2^31 in 8-digit halves, so that the digit loop runs on small integers (integer division, not floating).
  while (m >= 2 ** 31 && i >= end - count) {
    const high = Math.floor(m / 1e8);
    let low = m - high * 1e8;
    for (let k = 0; k < 8 && i >= end - count; k++, i--) {
      const q = (low / 10) | 0;
      b[i] = 48 + (low - 10 * q);
      low = q;
    }
    m = high;
  }
  for (; i >= end - count; i--) {
    const q = (m / 10) | 0;
    b[i] = 48 + (m - 10 * q);
    m = q;
  }
  return end;
}

/** An integer (a time in ms, an index), every digit. */
export function writeInteger(b: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n)) return at + b.write(String(n), at, 'latin1');
  if (n < 0) {
    b[at++] = 45;
    n = -n;
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  return writeDigits(b, at + digits, n, digits);
}

/** A double with every digit (as it arrived, or JavaScript's shortest text that reads back to the same double). */
function writeExact(b: Buffer, at: number, x: number, arrived?: ArrivedText): number {
  if (arrived !== undefined && arrived.length > 0 && Object.is(arrived.value, x)) {
    const n = arrived.length;
    for (let i = 0; i < n; i++) b[at + i] = arrived.bytes[i]!;
    return at + n;
  }
  // Copied char by char: for a short ASCII text this beats a call into Buffer's native write.
  const text = String(x);
  for (let i = 0; i < text.length; i++) b[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * A field key is copied byte by byte (for a dozen bytes a loop beats a call into TypedArray.set); longer pieces
 * (a cell's prefix, the state fields) with `set`, which is several times faster past a few dozen bytes.
 */
function put(b: Buffer, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 16) b.set(bytes, at);
  else for (let i = 0; i < n; i++) b[at + i] = bytes[i]!;
  return at + n;
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * A measurement, tag key, tag value or field key. Line protocol cannot escape a newline there: control characters
 * become spaces (then escaped), so one record can never be split in two, whatever an id or a message holds.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
export const escapeKey = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[,= \\]/g, (c) => '\\' + c);

/** What is encoded once per cell. */
interface CellBytes {
  readonly telemetry: Buffer;
  readonly derived: Buffer;
  rRef_ohm: number;
  rRef: Buffer;
  jSet_mA_cm2: number;
  jSet: Buffer;
}
/** A bounded memo of each cell's byte prefixes and last formatted values: the same bytes for the same id and value. */
const cells = new Map<string, CellBytes>();
const scratch = Buffer.allocUnsafe(64);

function bytesOf(cell: string): CellBytes {
  let c = cells.get(cell);
  if (c === undefined) {
    if (cells.size >= 10_000) cells.clear();
    const tag = Buffer.from(escapeKey(cell), 'utf8');
    c = {
      telemetry: Buffer.concat([ascii('telemetry,cell='), tag, ascii(' ')]),
      derived: Buffer.concat([ascii('derived,cell='), tag, ascii(' regime="')]),
      rRef_ohm: NaN,
      rRef: Buffer.alloc(0),
      jSet_mA_cm2: NaN,
      jSet: Buffer.alloc(0),
    };
    cells.set(cell, c);
  }
  return c;
}

const decimalBytes = (name: string, x: number): Buffer => {
  const head = ascii(`,${name}=`);
  const end = writeDecimal(scratch, 0, x);
  return Buffer.concat([head, scratch.subarray(0, end)]);
};

// The fields that take a few values each (regime, rest, reference source, compliance) come first, encoded once
// per combination: line protocol does not care about the order of fields.
const REGIMES = Object.keys(REGIME_CODES) as Regime[];
const SOURCES = ['calibrated', 'configured', 'provisional', 'none'] as const satisfies readonly ReferenceSource[];
const stateFields: Buffer[] = [];
function stateFieldsOf(d: DerivedState): Buffer {
  const r = REGIMES.indexOf(d.regime);
  const src = SOURCES.indexOf(d.rRefSource as (typeof SOURCES)[number]);
  const key = ((r * SOURCES.length + src) * 2 + (d.resting ? 1 : 0)) * 2 + (d.atCompliance ? 1 : 0);
  return (stateFields[key] ??= ascii(
    `${d.regime}",regimeCode=${REGIME_CODES[d.regime]}i,resting=${d.resting},rRefSource="${d.rRefSource}",jLocalIsLowerBound=${d.atCompliance}`,
  ));
}
const HALF_CYCLE = ascii(',halfCycleIndex=');
const R_APP = ascii(',rApp_ohm=');
const RATIO = ascii(',ratio=');
const CONTACT = ascii(',contactFraction=');
const A_EFF = ascii(',aEff_cm2=');
const J_LOCAL = ascii(',jLocal_mA_cm2=');
const FORECAST = ascii(',forecast_h=');
const VOLTAGE = ascii('voltage_V=');
const CURRENT = ascii('current_mA=');
const PRESSURE = ascii('pressure_MPa=');
const TEMPERATURE = ascii('temperature_C=');

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The `derived` point of a sample's state. */
export function writeDerivedLine(target: LineTarget, cell: string, d: DerivedState): void {
  const c = bytesOf(cell);
  if (finite(d.rRef_ohm) && d.rRef_ohm !== c.rRef_ohm) c.rRef = decimalBytes('rRef_ohm', (c.rRef_ohm = d.rRef_ohm));
  if (finite(d.jSet_mA_cm2) && d.jSet_mA_cm2 !== c.jSet_mA_cm2) c.jSet = decimalBytes('jSet_mA_cm2', (c.jSet_mA_cm2 = d.jSet_mA_cm2));
  const slot = target.reserveLine(d.t_ms, c.derived.length + c.rRef.length + c.jSet.length + 220 + 7 * NUMBER_BYTES);
  const b = slot.buf;
  let at = put(b, slot.at, c.derived);
  at = put(b, at, stateFieldsOf(d));
  if (finite(d.halfCycleIndex)) {
    at = writeInteger(b, put(b, at, HALF_CYCLE), Math.round(d.halfCycleIndex));
    b[at++] = 105; // i
  }
  if (finite(d.rApp_ohm)) at = writeDecimal(b, put(b, at, R_APP), d.rApp_ohm);
  if (finite(d.rRef_ohm)) at = put(b, at, c.rRef);
  if (finite(d.ratio)) at = writeDecimal(b, put(b, at, RATIO), d.ratio);
  if (finite(d.contactFraction)) at = writeDecimal(b, put(b, at, CONTACT), d.contactFraction);
  if (finite(d.aEff_cm2)) at = writeDecimal(b, put(b, at, A_EFF), d.aEff_cm2);
  if (finite(d.jSet_mA_cm2)) at = put(b, at, c.jSet);
  if (finite(d.jLocal_mA_cm2)) at = writeDecimal(b, put(b, at, J_LOCAL), d.jLocal_mA_cm2);
  if (finite(d.forecast_h)) at = writeDecimal(b, put(b, at, FORECAST), d.forecast_h);
  b[at++] = 32;
  target.commitLine(writeInteger(b, at, Math.round(d.t_ms)));
}

/** The raw `telemetry` point of a sample; nothing when it has no value (line protocol has no null). */
/**
 * The `telemetry` line of a sample. With `arrived` (the texts its message's numbers arrived as, see io/numbers.ts),
 * voltage and current keep the digits they arrived with.
 */
export function writeTelemetryLine(target: LineTarget, s: Sample | AlignedSample, arrived?: ArrivedNumbers): void {
  const v = finite(s.voltage_V);
  const i = finite(s.current_mA);
  const p = finite(s.pressure_MPa);
  const T = finite(s.temperature_C);
  if (!(v || i || p || T)) return;
  const c = bytesOf(s.cell);
  const slot = target.reserveLine(s.t_ms, c.telemetry.length + 100 + 4 * NUMBER_BYTES);
  const b = slot.buf;
  let at = put(b, slot.at, c.telemetry);
  const start = at;
  if (v) at = writeExact(b, put(b, at, VOLTAGE), s.voltage_V!, arrived?.voltage);
  if (i) {
    if (at > start) b[at++] = 44;
    at = writeExact(b, put(b, at, CURRENT), s.current_mA!, arrived?.current);
  }
  if (p) {
    if (at > start) b[at++] = 44;
    at = writeExact(b, put(b, at, PRESSURE), s.pressure_MPa!);
  }
  if (T) {
    if (at > start) b[at++] = 44;
    at = writeExact(b, put(b, at, TEMPERATURE), s.temperature_C!);
  }
  b[at++] = 32;
  target.commitLine(writeInteger(b, at, Math.round(s.t_ms)));
}
