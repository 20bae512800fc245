/**
 * Which cell a followed file feeds: the mapping's first matching rule, else the EC-Lab run name. EC-Lab names the
 * files of one run `<run>_<NN>_<technique>_C<channel>` (linked techniques: `_01_OCV_C05`, `_02_GCPL_C05`, …), so the
 * default id drops `_<NN>_<technique>` and a run that continues in its next file stays one cell.
 */
import { basename } from 'node:path';
import type { MappingRule } from '../../config/schema.js';
import { segmentPattern } from './fileWatch.js';

/** `NaSICON-07_02_GCPL_C05.mpr` → `NaSICON-07_C05`; other names lose their extension only. */
export function runName(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '');
  const m = /^(.+?)_\d{2}_[A-Za-z][A-Za-z0-9-]*(_C\d{1,3})?$/.exec(stem);
  return m === null ? stem : `${m[1]}${m[2] ?? ''}`;
}

/** The linked-technique number of an EC-Lab file name (`_02_GCPL_`), or null. */
export function techniqueNumber(path: string): number | null {
  const m = /_(\d{2})_[A-Za-z][A-Za-z0-9-]*(?:_C\d{1,3})?\.[^.]*$/.exec(basename(path));
  return m === null ? null : Number(m[1]);
}

/** A cell id travels in topics and tags: characters it cannot hold become `-`. */
export function safeCellId(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this replaces
  const id = s.replace(/[\s\u0000-\u001f\u007f/#+\\]/g, '-').slice(0, 64);
  return id.length > 0 ? id : 'cell';
}

export function cellFor(path: string, channel: string | undefined, rules: readonly MappingRule[]): string {
  const name = basename(path);
  const ch = channel === undefined ? null : Number(/^\s*(\d+)/.exec(channel)?.[1] ?? NaN);
  for (const r of rules) {
    if (r.file !== undefined && !segmentPattern(r.file).test(name)) continue;
    if (r.channel !== undefined && r.channel !== ch) continue;
    return r.cell;
  }
  return safeCellId(runName(path));
}
