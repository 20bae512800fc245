/**
 * The bridge's memory across restarts: per followed file, the offset up to which its records were acknowledged by
 * the broker. Written whole to a temporary file, flushed to disk and renamed over the old one, so a power cut
 * leaves either the old or the new state, never half of one.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface FollowedFile {
  /** Next byte (text) or row (`.mpr`) to publish. */
  readonly offset: number;
  /** Hex of the file's first bytes: another file under the same name starts differently. */
  readonly signature: string;
  readonly cell: string;
  /** Rows published from this file so far. */
  readonly published: number;
  /** Event time of the last row published (epoch ms). */
  readonly lastSample_ms: number | null;
  /** The retained `meta` payload last published for this file. */
  readonly meta: string | null;
}

export interface BridgeState {
  readonly version: 1;
  readonly files: Record<string, FollowedFile>;
}

export class BridgeStateError extends Error {
  override name = 'BridgeStateError';
}

export function loadBridgeState(path: string): Map<string, FollowedFile> {
  if (!existsSync(path)) return new Map();
  let doc: BridgeState;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as BridgeState;
  } catch (e) {
    // Starting afresh would publish every file again: a person must decide.
    throw new BridgeStateError(`${path}: the bridge state is not readable (${(e as Error).message}); move it away to publish every file from its start again`);
  }
  if (doc.version !== 1 || typeof doc.files !== 'object' || doc.files === null) {
    throw new BridgeStateError(`${path}: not a cyclewatch bridge state (version ${String(doc.version)})`);
  }
  return new Map(Object.entries(doc.files));
}

export function saveBridgeState(path: string, files: ReadonlyMap<string, FollowedFile>): void {
  const doc: BridgeState = { version: 1, files: Object.fromEntries(files) };
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(doc, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
