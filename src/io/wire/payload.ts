/**
 * The wire format of telemetry messages (SPEC §4): `encodeMessage` for replay and the bridge, `decodeMessages`
 * for the live MQTT input and JSON Lines captures. Decoding returns a sample or a rejection; it never throws.
 */
import type { ImpedancePoint } from '../../domain/impedance.js';
import type { ProgrammedStep } from '../../domain/protocol.js';
import { iso, type Sample } from '../../domain/sample.js';
import type { RejectReason } from '../../domain/reject.js';
import { timestampOf, timestampOfBytes } from './timestamp.js';
import { parseTimeZone } from '../../domain/labTime.js';
import { POW10, rememberArrivedText, type ArrivedNumbers } from '../numbers.js';

export type Decoded = { readonly ok: true; readonly sample: Sample } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export const MAX_PAYLOAD_BYTES = 16 * 1024;

const FIELDS = ['voltage_V', 'current_mA', 'pressure_MPa', 'temperature_C'] as const;
type Field = (typeof FIELDS)[number];

/** Which fields each topic kind may carry; `telemetry` (one topic with all fields) takes any. */
const KIND_FIELDS: Record<string, readonly Field[]> = {
  ec: ['voltage_V', 'current_mA'],
  pressure: ['pressure_MPa'],
  temperature: ['temperature_C'],
  telemetry: FIELDS,
};

/** A cell id ends up in tags, file names and topics: printable, no separators, bounded. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
const CELL_ID = /^[^\s\u0000-\u001f\u007f/#+\\]{1,64}$/;

// Ids already checked: a live monitor sees the same few hundred ids again and again.
const checkedIds = new Set<string>();
function validCellId(id: string): boolean {
  if (checkedIds.has(id)) return true;
  if (!CELL_ID.test(id)) return false;
  if (checkedIds.size >= 10_000) checkedIds.clear();
  checkedIds.add(id);
  return true;
}

/** `cells/<cell>/<kind>` → cell and kind, or null. */
export function parseTopic(topic: string, prefix = 'cells'): { cell: string; kind: string } | null {
  // Every live message goes through here: no split of the topic, the prefix normalized once.
  const head = normalizedPrefix(prefix);
  if (!topic.startsWith(head)) return null;
  const slash = topic.indexOf('/', head.length);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return null;
  const cell = topic.slice(head.length, slash);
  const kind = topic.slice(slash + 1);
  if (cell.length === 0 || !Object.hasOwn(KIND_FIELDS, kind)) return null;
  return { cell, kind };
}

let lastPrefix = '';
let lastHead = '';
/** `cells` → `cells/`; empty segments dropped (`/lab//cells/` → `lab/cells/`), as MQTT topics never hold them here. */
function normalizedPrefix(prefix: string): string {
  if (prefix !== lastPrefix) {
    const parts = prefix.split('/').filter((p) => p.length > 0);
    lastHead = parts.length === 0 ? '' : parts.join('/') + '/';
    lastPrefix = prefix;
  }
  return lastHead;
}

export function decodePayload(cell: string, kind: string, payload: unknown): Decoded {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, reason: 'malformed', detail: 'payload is not a JSON object' };
  }
  const p = payload as Record<string, unknown>;
  const t_ms = timestampOf(p['t']);
  if (!Number.isFinite(t_ms)) return { ok: false, reason: 'bad-timestamp', detail: `"t" is ${JSON.stringify(p['t']) ?? 'missing'}` };
  const allowed = KIND_FIELDS[kind] ?? FIELDS;
  const values: Partial<Record<Field, number>> = {};
  let any = false;
  for (const f of allowed) {
    const v = p[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, reason: 'bad-number', detail: `${f} is ${JSON.stringify(v) ?? String(v)}` };
    values[f] = v;
    any = true;
  }
  if (!any) return { ok: false, reason: 'no-quantity', detail: `no ${allowed.join('/')} in the payload` };
  if ((values.voltage_V === undefined) !== (values.current_mA === undefined) && kind === 'ec') {
    return { ok: false, reason: 'no-current', detail: 'an ec message needs both voltage_V and current_mA' };
  }
  return {
    ok: true,
    sample: {
      cell,
      t_ms,
      voltage_V: values.voltage_V,
      current_mA: values.current_mA,
      pressure_MPa: values.pressure_MPa,
      temperature_C: values.temperature_C,
    },
  };
}

/**
 * A raw MQTT message of one sample or of a batch (a JSON array of sample objects, as the bridge sends when it is
 * behind): calls `onSample` for each good one and `onReject` for each bad one (the others in the batch are kept).
 */
export function decodeMessages(
  topic: string,
  payload: string | Uint8Array,
  prefix: string,
  onSample: (s: Sample) => void,
  onReject: (reason: RejectReason, detail: string) => void,
  arrived?: ArrivedNumbers,
): void {
  const where = locateMessage(topic, payload, prefix);
  if (!where.ok) return onReject(where.reason, where.detail);
  // The usual single ec message straight from its bytes; anything else through JSON.parse.
  if (where.kind === 'ec' && Buffer.isBuffer(payload)) {
    const s = readEcBytes(payload, where.cell, arrived);
    if (s !== null) return onSample(s);
  }
  const body = parseJson(payload);
  if (!body.ok) return onReject(body.reason, body.detail);
  const json = body.json;
  if (!Array.isArray(json)) {
    const d = decodePayload(where.cell, where.kind, json);
    return d.ok ? onSample(d.sample) : onReject(d.reason, d.detail);
  }
  // A batch holds sample objects: anything else makes the whole message malformed (one rejection, not one per item).
  if (json.length === 0) return onReject('malformed', 'an empty batch');
  const odd = json.findIndex((x) => typeof x !== 'object' || x === null || Array.isArray(x));
  if (odd >= 0) return onReject('malformed', `batch item ${odd + 1} of ${json.length} is not a JSON object`);
  for (let i = 0; i < json.length; i++) {
    const d = decodePayload(where.cell, where.kind, json[i]);
    if (d.ok) onSample(d.sample);
    else onReject(d.reason, `batch item ${i + 1} of ${json.length}: ${d.detail}`);
  }
}

type Rejected = { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const EC_OPEN = ascii('{"t":"');
const EC_VOLTAGE = ascii('","voltage_V":');
const EC_CURRENT = ascii(',"current_mA":');

function bytesAt(b: Uint8Array, at: number, what: Uint8Array): boolean {
  if (at + what.length > b.length) return false;
  for (let k = 0; k < what.length; k++) if (b[at + k] !== what[k]) return false;
  return true;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** Where a JSON number starting at `at` ends (RFC 8259 grammar), or -1 if none starts there. */
function jsonNumberEnd(b: Uint8Array, at: number): number {
  let k = at;
  if (b[k] === 0x2d) k++;
  if (b[k] === 0x30) k++;
  else if (isDigit(b[k]) && b[k] !== 0x30) while (isDigit(b[k])) k++;
  else return -1;
  if (b[k] === 0x2e) {
    k++;
    if (!isDigit(b[k])) return -1;
    while (isDigit(b[k])) k++;
  }
  if (b[k] === 0x65 || b[k] === 0x45) {
    k++;
    if (b[k] === 0x2b || b[k] === 0x2d) k++;
    if (!isDigit(b[k])) return -1;
    while (isDigit(b[k])) k++;
  }
  return k;
}

/**
 * The usual ec message, `{"t":"<ISO time>","voltage_V":<number>,"current_mA":<number>}` exactly as `encodeMessage`
 * writes it, read from its bytes without a string or a JSON object per message (a live monitor takes tens of
 * thousands a second). Anything else (another order, spaces, more fields, escapes, a number a double cannot hold, a
 * time that is no instant) gives null and goes through JSON.parse, so the result is always the one JSON.parse gives.
 */
export function readEcBytes(b: Buffer, cell: string, arrived?: ArrivedNumbers): Sample | null {
  if (!bytesAt(b, 0, EC_OPEN)) return null;
  let p = EC_OPEN.length;
  // The time: printable ASCII without escapes up to its closing quote (a JSON string that reads as itself).
  const tStart = p;
  while (p < b.length && p - tStart <= 40 && b[p] !== 0x22) {
    const c = b[p]!;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return null;
    p++;
  }
  if (!bytesAt(b, p, EC_VOLTAGE)) return null;
  const tEnd = p;
  p += EC_VOLTAGE.length;
  const vEnd = jsonNumberEnd(b, p);
  if (vEnd < 0 || !bytesAt(b, vEnd, EC_CURRENT)) return null;
  const vStart = p;
  const voltage_V = jsonNumberValue(b, vStart, vEnd);
  p = vEnd + EC_CURRENT.length;
  const iEnd = jsonNumberEnd(b, p);
  if (iEnd < 0 || iEnd !== b.length - 1 || b[iEnd] !== 0x7d) return null;
  const current_mA = jsonNumberValue(b, p, iEnd);
  if (!Number.isFinite(voltage_V) || !Number.isFinite(current_mA)) return null;
  const t_ms = timestampOfBytes(b, tStart, tEnd);
  if (!Number.isFinite(t_ms)) return null;
  // The raw telemetry line of this sample copies these digits rather than formatting the doubles again.
  if (arrived !== undefined) {
    rememberArrivedText(arrived.voltage, voltage_V, b, vStart, vEnd);
    rememberArrivedText(arrived.current, current_mA, b, p, iEnd);
  }
  return { cell, t_ms, voltage_V, current_mA, pressure_MPa: undefined, temperature_C: undefined };
}

/**
 * The double a JSON number `b[start, end)` (already checked by `jsonNumberEnd`) stands for. Up to 15 significant
 * digits and a decimal exponent within ±22 it is computed from the digits: the digits and the power of ten are
 * exact doubles, so one multiplication or division rounds exactly as parsing the text does (Clinger's fast path).
 * Anything else is parsed from its text.
 */
function jsonNumberValue(b: Buffer, start: number, end: number): number {
  let k = start;
  const negative = b[k] === 0x2d;
  if (negative) k++;
  let m = 0;
  let digits = 0;
  let exponent = 0;
  let c = b[k]!;
  for (; k < end && c >= 0x30 && c <= 0x39; c = b[++k]!) {
    m = m * 10 + (c - 0x30);
    if (m !== 0) digits++;
  }
  if (c === 0x2e) {
    for (c = b[++k]!; k < end && c >= 0x30 && c <= 0x39; c = b[++k]!) {
      m = m * 10 + (c - 0x30);
      if (m !== 0) digits++;
      exponent--;
    }
  }
  if (k !== end || digits > 15 || exponent < -22) return Number(b.toString('latin1', start, end));
  const x = exponent === 0 ? m : m / POW10[-exponent]!;
  return negative ? -x : x;
}

type Located = { readonly ok: true; readonly cell: string; readonly kind: string };
// Topics already located, for the prefix they were located under: a live monitor sees the same few thousand
// topics again and again, and this is on the path of every message.
const locatedTopics = new Map<string, Located>();
let locatedPrefix = '';

/** The cell and kind of a telemetry message, or why it is refused before its payload is read. */
function locateMessage(topic: string, payload: string | Uint8Array, prefix: string): Located | Rejected {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'too-large', detail: `${size} bytes > ${MAX_PAYLOAD_BYTES}` };
  if (prefix !== locatedPrefix) {
    locatedTopics.clear();
    locatedPrefix = prefix;
  }
  const known = locatedTopics.get(topic);
  if (known !== undefined) return known;
  const where = parseTopic(topic, prefix);
  if (where === null) return { ok: false, reason: 'unknown-topic', detail: JSON.stringify(topic) };
  if (!validCellId(where.cell)) {
    return {
      ok: false,
      reason: 'bad-cell-id',
      detail: `${JSON.stringify(where.cell)}: a cell id is 1–64 characters, no spaces, control characters, "/", "#" or "+"`,
    };
  }
  const located: Located = { ok: true, cell: where.cell, kind: where.kind };
  if (locatedTopics.size >= 10_000) locatedTopics.clear();
  locatedTopics.set(topic, located);
  return located;
}

function parseJson(payload: string | Uint8Array): { ok: true; json: unknown } | Rejected {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: (e as Error).message };
  }
}

/**
 * Consecutive messages to the same telemetry topic joined into one message whose payload is a JSON array of their
 * objects (at most `maxRows` and `maxBytes` each): one MQTT message per row caps a broker at some 20k rows/s, which
 * a backlog of millions of rows must not wait on. A lone message stays a plain object. Other topics pass as they are.
 */
export function* batchMessages<M extends { readonly topic: string; readonly payload: string; readonly retain?: boolean }>(
  messages: Iterable<M>,
  maxRows: number,
  maxBytes = MAX_PAYLOAD_BYTES - 1024,
): Generator<M | { topic: string; payload: string }> {
  let topic = '';
  let parts: string[] = [];
  let bytes = 0;
  function* flush(): Generator<M | { topic: string; payload: string }> {
    if (parts.length === 1) yield { topic, payload: parts[0]! };
    else if (parts.length > 1) yield { topic, payload: `[${parts.join(',')}]` };
    parts = [];
    bytes = 0;
  }
  for (const m of messages) {
    const batchable = maxRows > 1 && m.retain !== true && isTelemetryTopic(m.topic);
    if (!batchable || m.topic !== topic || parts.length >= maxRows || bytes + m.payload.length + 1 > maxBytes) yield* flush();
    if (!batchable) {
      yield m;
      continue;
    }
    topic = m.topic;
    parts.push(m.payload);
    bytes += m.payload.length + 1;
  }
  yield* flush();
}

const isTelemetryTopic = (topic: string): boolean => {
  const kind = topic.slice(topic.lastIndexOf('/') + 1);
  return kind !== '' && Object.hasOwn(KIND_FIELDS, kind);
};

/**
 * One message per sample: `ec` when it carries only voltage and current, the all-fields `telemetry` topic
 * otherwise. `decodeMessages` gives the sample back.
 */
export function encodeMessage(s: Sample, prefix = 'cells'): { topic: string; payload: string } {
  // ISO for a person reading the broker; epoch milliseconds when the time has a fraction of a millisecond to keep.
  const t = Number.isInteger(s.t_ms) ? `"${new Date(s.t_ms).toISOString()}"` : String(s.t_ms);
  const onlyEc = s.pressure_MPa === undefined && s.temperature_C === undefined && s.voltage_V !== undefined && s.current_mA !== undefined;
  if (onlyEc) return { topic: `${prefix}/${s.cell}/ec`, payload: `{"t":${t},"voltage_V":${s.voltage_V},"current_mA":${s.current_mA}}` };
  const body: Record<string, unknown> = { t: Number.isInteger(s.t_ms) ? new Date(s.t_ms).toISOString() : s.t_ms };
  if (s.voltage_V !== undefined) body['voltage_V'] = s.voltage_V;
  if (s.current_mA !== undefined) body['current_mA'] = s.current_mA;
  if (s.pressure_MPa !== undefined) body['pressure_MPa'] = s.pressure_MPa;
  if (s.temperature_C !== undefined) body['temperature_C'] = s.temperature_C;
  return { topic: `${prefix}/${s.cell}/telemetry`, payload: JSON.stringify(body) };
}

/** An impedance point as it travels: no spectrum number (the monitor numbers the sweeps of each cell itself). */
export type ImpedanceReading = Omit<ImpedancePoint, 'block'>;

export type DecodedImpedance =
  { readonly ok: true; readonly point: ImpedanceReading } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export const IMPEDANCE_KIND = 'impedance';

/** `cells/<cell>/impedance` — `{"t": …, "freq_Hz": 1e5, "ReZ_Ohm": 905.2, "minusImZ_Ohm": 12.5}`. */
export function encodeImpedance(p: ImpedanceReading, prefix = 'cells'): { topic: string; payload: string } {
  const t = Number.isInteger(p.t_ms) ? `"${new Date(p.t_ms).toISOString()}"` : String(p.t_ms);
  return {
    topic: `${prefix}/${p.cell}/${IMPEDANCE_KIND}`,
    payload: `{"t":${t},"freq_Hz":${p.freq_Hz},"ReZ_Ohm":${p.reZ_Ohm},"minusImZ_Ohm":${p.minusImZ_Ohm}}`,
  };
}

/** The cell and JSON object of a `<prefix>/<cell>/<kind>` message beside the telemetry, or why it is refused. */
function sideMessage(
  topic: string,
  payload: string | Uint8Array,
  prefix: string,
  kind: string,
): { ok: true; cell: string; body: Record<string, unknown> } | Rejected {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'too-large', detail: `${size} bytes > ${MAX_PAYLOAD_BYTES}` };
  const head = normalizedPrefix(prefix);
  const tail = '/' + kind;
  const cell = topic.startsWith(head) && topic.endsWith(tail) ? topic.slice(head.length, topic.length - tail.length) : '';
  if (cell.length === 0 || cell.indexOf('/') >= 0) return { ok: false, reason: 'unknown-topic', detail: JSON.stringify(topic) };
  if (!validCellId(cell)) return { ok: false, reason: 'bad-cell-id', detail: JSON.stringify(cell) };
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  const body = parsed.json;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'malformed', detail: 'payload is not a JSON object' };
  return { ok: true, cell, body: body as Record<string, unknown> };
}

export function decodeImpedance(topic: string, payload: string | Uint8Array, prefix = 'cells'): DecodedImpedance {
  const msg = sideMessage(topic, payload, prefix, IMPEDANCE_KIND);
  if (!msg.ok) return msg;
  const { cell, body: o } = msg;
  const t_ms = timestampOf(o['t']);
  if (!Number.isFinite(t_ms)) return { ok: false, reason: 'bad-timestamp', detail: `"t" is ${JSON.stringify(o['t']) ?? 'missing'}` };
  const values: number[] = [];
  for (const k of ['freq_Hz', 'ReZ_Ohm', 'minusImZ_Ohm']) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, reason: 'bad-number', detail: `${k} is ${JSON.stringify(v) ?? 'missing'}` };
    values.push(v);
  }
  if (!(values[0]! > 0)) return { ok: false, reason: 'bad-number', detail: `freq_Hz is ${values[0]}: a frequency is above 0` };
  return { ok: true, point: { cell, t_ms, freq_Hz: values[0]!, reZ_Ohm: values[1]!, minusImZ_Ohm: values[2]! } };
}

export const META_KIND = 'meta';

/** What an instrument file's header says about a cell's run (the bridge's retained `<prefix>/<cell>/meta`). */
export interface CellMeta {
  readonly cell: string;
  readonly file: string | null;
  readonly start_ms: number | null;
  readonly areaCm2: number | null;
  readonly complianceV: number | null;
  readonly protocol: { readonly technique: string; readonly steps: readonly ProgrammedStep[] } | null;
  /** The zone the bridge read the instrument's local times in: the lab's, for the times people read. */
  readonly timeZone: string | null;
}

/** What a file's header gives for its cell's meta message (the bridge and `replay` send it). */
export interface CellMetaSource {
  readonly file: string;
  readonly format: string;
  readonly technique?: string;
  readonly channel?: string;
  readonly start_ms?: number;
  readonly timeZone: string;
  readonly timeZoneSource: string;
  readonly areaCm2?: number;
  readonly complianceV?: number;
  readonly protocol?: unknown;
}

/** The retained `<prefix>/<cell>/meta` payload: what the file's header says about the cell and the run. */
export function encodeCellMeta(cell: string, m: CellMetaSource): string {
  return JSON.stringify({
    cell,
    file: m.file,
    format: m.format,
    technique: m.technique ?? null,
    channel: m.channel ?? null,
    start: m.start_ms === undefined ? null : iso(m.start_ms),
    timeZone: m.timeZone,
    timeZoneSource: m.timeZoneSource,
    areaCm2: m.areaCm2 ?? null,
    complianceV: m.complianceV ?? null,
    protocol: m.protocol ?? null,
  });
}

/** A zone a meta message names, if it is one the platform knows. */
function knownZone(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  try {
    return parseTimeZone(v);
  } catch {
    return null;
  }
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function decodeCellMeta(topic: string, payload: string | Uint8Array, prefix = 'cells'): { ok: true; value: CellMeta } | Rejected {
  const msg = sideMessage(topic, payload, prefix, META_KIND);
  if (!msg.ok) return msg;
  const { cell, body: m } = msg;
  const start = m['start'] === null || m['start'] === undefined ? null : timestampOf(m['start']);
  const area = finiteOrNull(m['areaCm2']);
  const compliance = finiteOrNull(m['complianceV']);
  let protocol: CellMeta['protocol'] = null;
  const p = m['protocol'] as { technique?: unknown; steps?: unknown } | null | undefined;
  if (p !== null && p !== undefined) {
    if (typeof p !== 'object' || !Array.isArray(p.steps)) return { ok: false, reason: 'malformed', detail: 'protocol.steps is not a list' };
    const steps = (p.steps as unknown[]).map((x) => {
      const s = (x ?? {}) as Record<string, unknown>;
      return { sequence: finiteOrNull(s['sequence']) ?? 0, current_mA: finiteOrNull(s['current_mA']), duration_s: finiteOrNull(s['duration_s']) };
    });
    protocol = { technique: typeof p.technique === 'string' ? p.technique : 'unknown', steps };
  }
  return {
    ok: true,
    value: {
      cell,
      file: typeof m['file'] === 'string' ? m['file'] : null,
      start_ms: start !== null && Number.isFinite(start) ? start : null,
      areaCm2: area !== null && area > 0 ? area : null,
      complianceV: compliance !== null && compliance > 0 ? compliance : null,
      protocol,
      timeZone: knownZone(m['timeZone']),
    },
  };
}
