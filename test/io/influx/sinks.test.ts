import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineFileSink } from '../../../src/io/influx/sinks.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('LineFileSink', () => {
  it('files each line under the day of the time written in it, from write() and writeLine() alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-lines-'));
    dirs.push(dir);
    const sink = new LineFileSink(dir, 60_000);
    const day = Date.UTC(2026, 0, 2);
    sink.write(['a v=1 ' + (day - 1), 'a v=2 ' + day]);
    // 23:59:59.9996 is written as the next day's first millisecond, so it belongs to that day's file.
    sink.writeLine('a v=3 ' + Math.round(day + 86_400_000 - 0.4), day + 86_400_000 - 0.4);
    sink.writeLine('a v=4 ' + (day + 5), day + 5);
    sink.writeLine('a,cell=ü v=5 ' + (day - 2), day - 2);
    expect(sink.stats.queued).toBe(5);
    await sink.close();
    const lines = join(dir, 'lines');
    expect(readdirSync(lines).sort()).toEqual(['2026-01-01.lp', '2026-01-02.lp', '2026-01-03.lp']);
    expect(readFileSync(join(lines, '2026-01-01.lp'), 'utf8')).toBe(`a v=1 ${day - 1}\na,cell=ü v=5 ${day - 2}\n`);
    expect(readFileSync(join(lines, '2026-01-02.lp'), 'utf8')).toBe(`a v=2 ${day}\na v=4 ${day + 5}\n`);
    expect(readFileSync(join(lines, '2026-01-03.lp'), 'utf8')).toBe(`a v=3 ${day + 86_400_000}\n`);
    expect(sink.stats).toMatchObject({ written: 5, queued: 0, dropped: 0 });
  });
});
