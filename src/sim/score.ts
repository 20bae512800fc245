/**
 * A run's detection marked against the simulator's ground truth on a 0–100 scale, the way an expert reading the same
 * run would mark it. Four parts:
 * - **regime** (40): the share of the judged time whose label equals the truth's. Not judged: a band of one
 *   tolerance around each true change (an onset is a matter of definition within it), and the opening calibration
 *   (`learning`) up to a tenth of the run; learning beyond that is wrong time.
 * - **events** (25): the share of true onsets (polarization, each short, a soft short) found within one tolerance;
 * - **failure** (20): the failure mode (10) and the time to failure within one tolerance (10);
 * - **false alarms** (15): 5 off for each call with no truth behind it, down to 0 — a change into polarization or a
 *   short, or a soft-short alert, where the truth has none within one tolerance.
 * The tolerance at a time t is the larger of one nominal half cycle and 2 % of the time since the start (SPEC §3's
 * accuracy of an onset read off a plot of a long run).
 */
import type { AlertEvent, CellEvent, RegimeEvent } from '../domain/events.js';
import type { CellSummary, LabelledSegment } from '../domain/detector/index.js';
import type { RegimeLabel } from '../domain/regime.js';
import type { CellTruth } from './simulate.js';

export interface DetectionScore {
  /** 0–100, the sum of the four parts. */
  readonly score: number;
  /** Share of the judged time labelled as the truth (0–1) and the hours judged. */
  readonly regimeAccuracy: number;
  readonly judged_h: number;
  readonly events: { readonly expected: number; readonly found: number; readonly missed: readonly string[] };
  readonly failure: { readonly mode: boolean; readonly timeToFailure: boolean };
  readonly falseAlarms: readonly string[];
}

interface TruthChange {
  readonly t_ms: number;
  readonly label: RegimeLabel;
}

const ms = (iso: string): number => Date.parse(iso);

/** The true regime as a step function: its changes in time order (the first at the start). */
export function truthTimeline(truth: CellTruth): TruthChange[] {
  const start_ms = ms(truth.start);
  const onset_ms = truth.polarizationOnset === null ? Infinity : ms(truth.polarizationOnset);
  const between = (t: number): RegimeLabel => (t >= onset_ms ? 'polarization' : 'stable');
  const changes: TruthChange[] = [{ t_ms: start_ms, label: 'stable' }];
  const shorts = truth.shorts.map((s) => ({ from_ms: ms(s.start), to_ms: s.end === null ? Infinity : ms(s.end) }));
  if (Number.isFinite(onset_ms) && !shorts.some((s) => onset_ms >= s.from_ms && onset_ms < s.to_ms)) changes.push({ t_ms: onset_ms, label: 'polarization' });
  for (const s of shorts) {
    changes.push({ t_ms: s.from_ms, label: Number.isFinite(s.to_ms) ? 'isolated-short' : 'short' });
    if (Number.isFinite(s.to_ms)) changes.push({ t_ms: s.to_ms, label: between(s.to_ms) });
  }
  changes.sort((a, b) => a.t_ms - b.t_ms);
  return changes.filter((c, i) => i === 0 || c.label !== changes[i - 1]!.label);
}

const labelAt = (changes: readonly TruthChange[], t: number): RegimeLabel => {
  let label = changes[0]!.label;
  for (const c of changes) if (c.t_ms <= t) label = c.label;
  return label;
};

/** Marks one cell's detection (its events, labelled segments and summary) against its truth. */
export function scoreDetection(truth: CellTruth, events: readonly CellEvent[], segments: readonly LabelledSegment[], summary: CellSummary): DetectionScore {
  const start_ms = ms(truth.start);
  const end_ms = ms(truth.end);
  const tolerance = (t: number): number => Math.max(truth.nominalHalfCycle_s * 1000, 0.02 * Math.max(0, t - start_ms));
  const changes = truthTimeline(truth);

  // Regime: integrate over the pieces between every change of either timeline and every band edge.
  const bands = changes.slice(1).map((c) => [c.t_ms - tolerance(c.t_ms), c.t_ms + tolerance(c.t_ms)] as const);
  const learningAllowance_ms = 0.1 * (end_ms - start_ms);
  const opening = segments[0]?.regime === 'learning' ? Math.min(segments[0].end_ms, start_ms + learningAllowance_ms) : start_ms;
  const cuts = new Set<number>([start_ms, end_ms, opening, ...changes.map((c) => c.t_ms), ...bands.flat(), ...segments.flatMap((s) => [s.start_ms, s.end_ms])]);
  const points = [...cuts].filter((t) => t >= start_ms && t <= end_ms).sort((a, b) => a - b);
  let judged = 0;
  let right = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i]!, points[i + 1]!];
    const mid = (a + b) / 2;
    if (mid < opening || bands.some(([lo, hi]) => mid > lo && mid < hi)) continue;
    const seg = segments.find((s) => mid >= s.start_ms && mid < s.end_ms);
    if (seg === undefined) continue; // no data there: nothing to call
    judged += b - a;
    if (seg.regime === labelAt(changes, mid)) right += b - a;
  }
  const regimeAccuracy = judged > 0 ? right / judged : 1;

  // Events: each true onset, matched to the nearest call of its kind within one tolerance.
  const regimeEvents = events.filter((e): e is RegimeEvent => e.type === 'regime');
  const softAlerts = events.filter((e): e is AlertEvent => e.type === 'alert' && e.code === 'soft-short' && e.state === 'raised');
  const expected: { kind: 'polarization' | 'short' | 'soft-short'; t_ms: number }[] = [];
  if (truth.polarizationOnset !== null) expected.push({ kind: 'polarization', t_ms: ms(truth.polarizationOnset) });
  for (const s of truth.shorts) expected.push({ kind: 'short', t_ms: ms(s.start) });
  if (truth.softShortOnset !== null) expected.push({ kind: 'soft-short', t_ms: ms(truth.softShortOnset) });
  const calls = [
    ...regimeEvents
      .filter((e) => e.regime === 'polarization' || e.regime === 'short')
      .map((e) => ({ kind: e.regime as 'polarization' | 'short', t_ms: e.onset_ms, used: false })),
    ...softAlerts.map((a) => ({ kind: 'soft-short' as const, t_ms: a.onset_ms ?? a.t_ms, used: false })),
  ];
  const missed: string[] = [];
  for (const x of expected) {
    const tol = tolerance(x.t_ms);
    const near = calls
      .filter((c) => !c.used && c.kind === x.kind && Math.abs(c.t_ms - x.t_ms) <= tol)
      .sort((a, b) => Math.abs(a.t_ms - x.t_ms) - Math.abs(b.t_ms - x.t_ms))[0];
    if (near === undefined) missed.push(`${x.kind} at ${hoursAfter(x.t_ms, start_ms)}`);
    else near.used = true;
  }

  // False alarms: an unmatched call where the truth, within one tolerance, never was what it says.
  const truthWithin = (t: number, kind: string): boolean => {
    const tol = tolerance(t);
    const said = (l: RegimeLabel): boolean => (kind === 'short' ? l === 'short' || l === 'isolated-short' : l === kind);
    if (said(labelAt(changes, t - tol)) || said(labelAt(changes, t + tol))) return true;
    return changes.some((c) => c.t_ms >= t - tol && c.t_ms <= t + tol && said(c.label));
  };
  const falseAlarms = calls
    .filter((c) => !c.used && (c.kind === 'soft-short' || !truthWithin(c.t_ms, c.kind)))
    .map((c) => `${c.kind} at ${hoursAfter(c.t_ms, start_ms)}`);

  // Failure: the mode, and the time to failure (first compliance or first short) within one tolerance.
  const trueFailure_ms = Math.min(
    truth.firstCompliance === null ? Infinity : ms(truth.firstCompliance),
    truth.shorts.length > 0 ? ms(truth.shorts[0]!.start) : Infinity,
  );
  const mode = summary.failureMode === truth.failureMode;
  const timeToFailure = Number.isFinite(trueFailure_ms)
    ? summary.timeToFailure_h !== null && Math.abs(start_ms + summary.timeToFailure_h * 3_600_000 - trueFailure_ms) <= tolerance(trueFailure_ms)
    : summary.timeToFailure_h === null;

  const found = expected.length - missed.length;
  const score =
    40 * regimeAccuracy +
    25 * (expected.length > 0 ? found / expected.length : 1) +
    10 * Number(mode) +
    10 * Number(timeToFailure) +
    Math.max(0, 15 - 5 * falseAlarms.length);
  return {
    score: Math.round(score * 10) / 10,
    regimeAccuracy,
    judged_h: judged / 3_600_000,
    events: { expected: expected.length, found, missed },
    failure: { mode, timeToFailure },
    falseAlarms,
  };
}

const hoursAfter = (t: number, start_ms: number): string => `${((t - start_ms) / 3_600_000).toFixed(1)} h`;

/** One line for a bench or test log. */
export function formatScore(name: string, s: DetectionScore): string {
  const parts = [
    `regime ${(100 * s.regimeAccuracy).toFixed(1)} % of ${s.judged_h.toFixed(0)} h`,
    `events ${s.events.found}/${s.events.expected}${s.events.missed.length > 0 ? ` (missed ${s.events.missed.join(', ')})` : ''}`,
    `failure mode ${s.failure.mode ? 'right' : 'wrong'}, time ${s.failure.timeToFailure ? 'right' : 'wrong'}`,
    `false alarms ${s.falseAlarms.length}${s.falseAlarms.length > 0 ? ` (${s.falseAlarms.join(', ')})` : ''}`,
  ];
  return `${name}: ${s.score.toFixed(1)} / 100 — ${parts.join('; ')}`;
}
