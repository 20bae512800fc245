/**
 * Files matching folder patterns, found by walking the folders (Node 20 has no fs.glob). Patterns use `/` or `\`,
 * `*` and `?` within a name, and `**` for any depth of folders: `D:/EC-Lab/Data/**` + `/*.mpr`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const hasWildcard = (s: string): boolean => /[*?]/.test(s);

/** A glob for one path segment as a regular expression (case-insensitive: Windows file names are). */
export function segmentPattern(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/\\\\]*')
    .replace(/\?/g, '[^/\\\\]');
  return new RegExp(`^${body}$`, 'i');
}

/** The fixed folder a pattern starts from, and the segments with wildcards after it. */
export function splitPattern(pattern: string): { base: string; segments: string[] } {
  const parts = pattern.replace(/\\/g, '/').split('/');
  const first = parts.findIndex(hasWildcard);
  if (first < 0) return { base: parts.slice(0, -1).join('/') || '.', segments: parts.slice(-1) };
  const base = parts.slice(0, first).join('/');
  return { base: base === '' ? (pattern.startsWith('/') ? '/' : '.') : base, segments: parts.slice(first) };
}

/** Every file matching one of the patterns, sorted by path (linked techniques `_01_`, `_02_` in order). */
export async function matchFiles(patterns: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const p of patterns) {
    const { base, segments } = splitPattern(p);
    await walk(base, segments, found);
  }
  return [...found].sort();
}

async function walk(dir: string, segments: readonly string[], out: Set<string>): Promise<void> {
  if (segments.length === 0) return;
  const [head, ...rest] = segments as [string, ...string[]];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a folder that does not exist (yet), or is not readable: nothing there for now
  }
  if (head === '**') {
    // Zero folders deep, or one more and still under `**`.
    await walk(dir, rest, out);
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), segments, out);
    return;
  }
  const re = segmentPattern(head);
  for (const e of entries) {
    if (!re.test(e.name)) continue;
    const path = join(dir, e.name);
    if (rest.length === 0) {
      if (e.isFile()) out.add(path);
    } else if (e.isDirectory()) await walk(path, rest, out);
  }
}
