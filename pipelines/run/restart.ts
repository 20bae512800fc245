/**
 * The live monitor's restart: the state an earlier run left (the last checkpoint and the journal written after it),
 * events.jsonl cut back to what that checkpoint had decided, and the checkpoints saved from here on. Together they
 * make a restart, even after SIGKILL, continue exactly where the last run stopped.
 */
import { closeSync, existsSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Subject } from 'rxjs';
import type { RunConfig } from '../../src/config/schema.js';
import { isCurrentDetectorState } from '../../src/domain/detector/index.js';
import type { CellEvent } from '../../src/domain/events.js';
import type { Sample } from '../../src/domain/sample.js';
import type { PointSink } from '../../src/io/influx/sinks.js';
import type { Metrics } from '../../src/io/ops/metrics.js';
import { eventToJson } from '../../src/io/outputs/analysisFiles.js';
import { StateStore, stringifyState, type Checkpoint } from '../../src/io/state/checkpoint.js';
import type { CellPipelineState } from '../../src/operators/monitor.js';

export interface RestartState {
  readonly store: StateStore<CellPipelineState>;
  readonly checkpoint: Checkpoint<CellPipelineState> | null;
  /** Samples accepted after the checkpoint, to be decided again before the live ones. */
  readonly journal: readonly Sample[];
  /** Every cell's chain state: the checkpointed ones, and each new cell as it starts (kept up to date by the chain). */
  readonly states: Map<string, CellPipelineState>;
  /** A cell's first sample (its start, for elapsed hours), from its detector: checkpointed with it. */
  startOf(cell: string): number | undefined;
  /** events.jsonl, appended one event at a time; its size goes into each checkpoint. */
  appendEvent(e: CellEvent): void;
  eventsBytes(): number;
  /** Closes events.jsonl (the monitor's shutdown). */
  close(): void;
}

export function openRestartState(config: RunConfig, log: (m: string) => void): RestartState {
  const eventsPath = join(config.dataDir, 'events.jsonl');
  const store = new StateStore<CellPipelineState>(config.stateDir ?? join(config.dataDir, 'state'));
  const { checkpoint, journal } = store.load();
  if (checkpoint !== null) {
    // Events written after the checkpoint are decided again, identically, from the journal.
    if (existsSync(eventsPath) && statSync(eventsPath).size > checkpoint.eventsBytes) truncateSync(eventsPath, checkpoint.eventsBytes);
    log(`restored ${Object.keys(checkpoint.cells).length} cells from the checkpoint of ${checkpoint.savedAt}; replaying ${journal.length} journalled samples`);
  } else if (journal.length > 0) {
    // Killed before the first checkpoint: the journal holds everything since the start, so every event is decided again.
    if (existsSync(eventsPath)) truncateSync(eventsPath, 0);
    log(`no checkpoint: replaying ${journal.length} journalled samples`);
  }
  // Every checkpointed cell stays in the next checkpoint, also the ones that send nothing after this restart.
  const states = new Map<string, CellPipelineState>();
  for (const [cell, state] of Object.entries(checkpoint?.cells ?? {})) if (isCurrentDetectorState(state.detector)) states.set(cell, state);
  const startOf = (cell: string): number | undefined => states.get(cell)?.detector.clock.first_ms;
  let eventsBytes = existsSync(eventsPath) ? statSync(eventsPath).size : 0;
  // Held open: opening the file for each event cost more than writing it (a noise window closes every hour of each
  // cell). Each event is written at once, as before: nothing waits in this process.
  let fd: number | null = null;
  return {
    store,
    checkpoint,
    journal,
    states,
    startOf,
    appendEvent(e) {
      const text = JSON.stringify(eventToJson(e, { start_ms: startOf(e.cell) })) + '\n';
      fd ??= openSync(eventsPath, 'a');
      writeSync(fd, text);
      eventsBytes += Buffer.byteLength(text);
    },
    eventsBytes: () => eventsBytes,
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/**
 * Saves a checkpoint: the journal rotated and every cell's state snapshotted together, synchronously (the snapshot
 * covers exactly the closed journal segments), then the sink's queue made durable and the checkpoint written. One at
 * a time: a call while one is being saved waits for it.
 */
export function checkpointer(o: {
  readonly restart: RestartState;
  readonly sink: PointSink;
  readonly metrics: Metrics;
  readonly log: (m: string) => void;
  /** Samples held for a header go on first: the state saved must hold them. */
  readonly releaseHeld: Subject<void>;
}): { save(): Promise<void>; settled(): Promise<void> } {
  const { store, states } = o.restart;
  let saving: Promise<void> | null = null;
  const save = (): Promise<void> => {
    if (saving !== null) return saving;
    let seq: number;
    let snapshot: string;
    try {
      o.releaseHeld.next();
      seq = store.rotate();
      snapshot = stringifyState(Object.fromEntries(states));
    } catch (e) {
      // A full disk under the journal: the samples since the last checkpoint stay unacknowledged and buffered.
      o.log(`checkpoint failed: ${(e as Error).message}`);
      return Promise.resolve();
    }
    const bytes = o.restart.eventsBytes();
    // Points queued for the database are made durable (spooled) at once: a slow or absent database must not hold
    // checkpoints back, and the journal behind this checkpoint may then go.
    saving = Promise.resolve()
      .then(() => {
        o.sink.persist();
        store.save(snapshot, seq, bytes, o.sink.position?.());
        o.metrics.inc('cyclewatch_checkpoints_total', 'Checkpoints saved');
      })
      .catch((e: unknown) => o.log(`checkpoint failed: ${(e as Error).message}`))
      .finally(() => {
        saving = null;
      });
    return saving;
  };
  return { save, settled: async () => void (await saving) };
}
