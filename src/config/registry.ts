/** The cell registry (SPEC §4) read from YAML; the schema and its messages are in src/config/schema.ts. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { CellConfig } from '../domain/cell.js';
import { ConfigError, formatZodError, registrySchema } from './schema.js';

export async function loadRegistry(path: string): Promise<Map<string, CellConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the cell registry (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRegistry(text, path);
}

export function parseRegistry(text: string, path = 'cells.yaml'): Map<string, CellConfig> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid YAML: ${(e as Error).message}`);
  }
  const r = registrySchema.safeParse(doc);
  if (!r.success) throw new ConfigError(`${path}: invalid cell registry\n${formatZodError(r.error, '  ')}`);
  const cells = new Map<string, CellConfig>();
  for (const c of r.data) {
    if (cells.has(c.id)) throw new ConfigError(`${path}: cell "${c.id}" is listed twice`);
    cells.set(c.id, c);
  }
  return cells;
}

export function loadRegistrySync(path: string): Map<string, CellConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the cell registry (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseRegistry(text, path);
}
