import type { Sample } from '../domain/sample.js';
import type { RejectReason } from '../domain/reject.js';

export type OnReject = (reason: RejectReason, sample: Sample, detail: string) => void;

/** Two electrochemical readings at one instant: only one can be analysed. */
function conflicting(a: Sample, b: Sample): boolean {
  return a.t_ms === b.t_ms && a.voltage_V !== undefined && b.voltage_V !== undefined;
}

function sameSample(a: Sample, b: Sample): boolean {
  return (
    a.t_ms === b.t_ms &&
    a.voltage_V === b.voltage_V &&
    a.current_mA === b.current_mA &&
    a.pressure_MPa === b.pressure_MPa &&
    a.temperature_C === b.temperature_C
  );
}

/**
 * Puts one cell's samples in event-time order within a bounded window and drops exact duplicates.
 *
 * A sample is held until a sample `window_ms` newer has arrived (or the source completes), so messages up to
 * `window_ms` late still land in place. Later ones cannot be placed any more: they are rejected as `late`,
 * never silently reordered behind decisions already taken. Memory is bounded by the samples in one window.
 */
/** What `admitSample` holds between samples; plain data, so a checkpoint can carry it over a restart. */
export interface ReorderState {
  buf: Sample[];
  head: number;
  emitted_ms: number;
  lastEmitted: Sample | null;
}

export function reorderState(): ReorderState {
  return { buf: [], head: 0, emitted_ms: -Infinity, lastEmitted: null };
}

/** Hand on every held sample up to `limit_ms` (Infinity: all of them, at the end of input). */
export function releaseUpTo(st: ReorderState, limit_ms: number, next: (s: Sample) => void): void {
  while (st.head < st.buf.length && st.buf[st.head]!.t_ms <= limit_ms) {
    const s = st.buf[st.head++]!;
    st.emitted_ms = s.t_ms;
    st.lastEmitted = s;
    next(s);
  }
  // Samples handed on are let go soon: a cell holds about one window of samples (memory, and what a checkpoint
  // writes for it, across a thousand cells), at an amortised cost of one move per held sample.
  if (st.head === st.buf.length) {
    st.buf.length = 0;
    st.head = 0;
  } else if (st.head >= 16 && st.head * 2 >= st.buf.length) {
    st.buf.splice(0, st.head);
    st.head = 0;
  }
}

/**
 * One sample into the window: rejected when late or a duplicate; otherwise admitted (`onAdmit` sees it at once:
 * what may be written as raw telemetry, while a rejected duplicate never is), and every sample now `window_ms`
 * older than the newest is handed on in order.
 */
export function admitSample(
  st: ReorderState,
  window_ms: number,
  s: Sample,
  onReject: OnReject,
  onAdmit: ((s: Sample) => void) | undefined,
  next: (s: Sample) => void,
): void {
  if (s.t_ms < st.emitted_ms) {
    onReject('late', s, `${s.t_ms - st.emitted_ms} ms behind samples already processed (window ${window_ms} ms)`);
    return;
  }
  if (st.lastEmitted !== null && s.t_ms === st.emitted_ms && (sameSample(st.lastEmitted, s) || conflicting(st.lastEmitted, s))) {
    onReject(
      'duplicate',
      s,
      sameSample(st.lastEmitted, s) ? 'same timestamp and values as an earlier message' : 'another voltage reading at the same timestamp',
    );
    return;
  }
  // Insert from the end: in-order input costs O(1).
  const buf = st.buf;
  let k = buf.length;
  while (k > st.head && buf[k - 1]!.t_ms > s.t_ms) k--;
  for (let j = k - 1; j >= st.head && buf[j]!.t_ms === s.t_ms; j--) {
    if (sameSample(buf[j]!, s) || conflicting(buf[j]!, s)) {
      onReject('duplicate', s, sameSample(buf[j]!, s) ? 'same timestamp and values as an earlier message' : 'another voltage reading at the same timestamp');
      return;
    }
  }
  if (k === buf.length) buf.push(s);
  else buf.splice(k, 0, s);
  onAdmit?.(s);
  releaseUpTo(st, buf[buf.length - 1]!.t_ms - window_ms, next);
}
