import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeFileName } from '../../src/report/html.js';

describe('report file names', () => {
  it('keeps a figure named after a hostile cell id inside the output folder', () => {
    for (const id of ['../../x', '..', '/etc/passwd', 'a\\b', 'c1\nname', 'ok-cell_1.2']) {
      const path = join('/out', `${safeFileName(id)}.png`);
      expect(relative('/out', path)).not.toMatch(/^\.\.|\//);
    }
    expect(safeFileName('ok-cell_1.2')).toBe('ok-cell_1.2');
  });
});
