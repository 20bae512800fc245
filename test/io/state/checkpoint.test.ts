import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseState, StateStore, stringifyState } from '../../../src/io/state/checkpoint.js';
import { sample, type Sample } from '../../../src/domain/sample.js';

const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cw-state-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const samples: Sample[] = [
  sample('c1', 1767225600000, { voltage_V: 0.07123456789012345, current_mA: 2 }),
  sample('Zelle ü/№ 2', 1767225600000.5, { voltage_V: -8, current_mA: -2.5, pressure_MPa: 3.25, temperature_C: 25.1 }),
  sample('c1', 1767225601000, { pressure_MPa: 1e-300 }),
  sample('c3', 1767225602000, { temperature_C: -0.5 }),
];
const norm = (s: Sample): Sample => ({
  cell: s.cell,
  t_ms: s.t_ms,
  voltage_V: s.voltage_V,
  current_mA: s.current_mA,
  pressure_MPa: s.pressure_MPa,
  temperature_C: s.temperature_C,
});

describe('StateStore journal', () => {
  it('gives back every journalled sample exactly, numbers bit for bit, across segments and a restart', () => {
    const dir = fresh();
    const a = new StateStore(dir);
    a.append(samples[0]!);
    a.append(samples[1]!);
    expect(a.flush()).toBe(2);
    a.rotate(); // a new segment numbers its cells afresh
    a.append(samples[2]!);
    a.append(samples[3]!);
    a.close();
    const { checkpoint, journal } = new StateStore(dir).load();
    expect(checkpoint).toBeNull();
    expect(journal).toEqual(samples.map(norm));
    expect(readdirSync(dir).filter((n) => n.endsWith('.bin'))).toHaveLength(2);
  });

  it('a checkpoint covers the segments closed before it: they are removed and not replayed', () => {
    const dir = fresh();
    const a = new StateStore<{ n: number }>(dir);
    a.append(samples[0]!);
    const seq = a.rotate();
    a.append(samples[1]!);
    a.save(stringifyState({ c1: { n: NaN } }), seq, 42);
    a.close();
    const { checkpoint, journal } = new StateStore<{ n: number }>(dir).load();
    expect(checkpoint?.journalSeq).toBe(seq);
    expect(checkpoint?.eventsBytes).toBe(42);
    expect(Number.isNaN(checkpoint?.cells.c1?.n)).toBe(true);
    expect(journal).toEqual([norm(samples[1]!)]);
    expect(readdirSync(dir).filter((n) => n.startsWith('journal-'))).toHaveLength(1);
  });

  it('a restart after a checkpoint that left no segment journals where the next restart replays (SIGKILL twice)', () => {
    const dir = fresh();
    const a = new StateStore(dir);
    a.append(samples[0]!);
    a.flush();
    a.append(samples[1]!);
    const seq = a.rotate();
    a.save('{}', seq, 0); // the segment before is covered and removed; nothing arrives after it: no segment is left
    expect(readdirSync(dir).filter((f) => f.startsWith('journal-'))).toEqual([]);
    const b = new StateStore(dir); // a restart killed after journalling (and acknowledging) one sample
    expect(b.load().journal).toEqual([]);
    b.append(samples[2]!);
    b.flush();
    const c = new StateStore(dir); // the next restart must replay it
    expect(c.load().journal.map(norm)).toEqual([norm(samples[2]!)]);
  });

  it('a record cut short by a kill ends the segment; the samples before it are kept', () => {
    const dir = fresh();
    const a = new StateStore(dir);
    for (const s of samples) a.append(s);
    a.close();
    const [name] = readdirSync(dir).filter((n) => n.endsWith('.bin'));
    const path = join(dir, name!);
    const size = readFileSync(path).length;
    for (let cut = 1; cut <= 20; cut++) {
      truncateSync(path, size - cut);
      expect(new StateStore(dir).load().journal).toEqual(samples.slice(0, 3).map(norm));
    }
    // Only the sample record's own bytes were cut from the last sample: garbage after it is ignored too.
    appendFileSync(path, Buffer.from([0x7f, 1, 2, 3]));
    expect(new StateStore(dir).load().journal).toHaveLength(3);
  });

  it('still reads segments of the earlier text format, in order with binary ones', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'journal-000000001.jsonl'), '["c1",1767225600000,0.0712,2,null,null]\n["c1",17672256010');
    const a = new StateStore(dir);
    a.append(samples[1]!);
    a.close();
    expect(existsSync(join(dir, 'journal-000000002.bin'))).toBe(true);
    expect(new StateStore(dir).load().journal).toEqual([
      { cell: 'c1', t_ms: 1767225600000, voltage_V: 0.0712, current_mA: 2, pressure_MPa: undefined, temperature_C: undefined },
      norm(samples[1]!),
    ]);
  });

  it('keeps NaN and infinities through a checkpoint', () => {
    expect(parseState<{ a: number[] }>(stringifyState({ a: [NaN, Infinity, -Infinity, 1] })).a).toEqual([NaN, Infinity, -Infinity, 1]);
  });

  it('writes its buffer when full and goes on: more samples than one write holds', () => {
    const dir = fresh();
    const a = new StateStore(dir);
    const many = Array.from({ length: 40_000 }, (_, i): Sample => sample(`cell-${i % 1000}`, 1767225600000 + i, { voltage_V: i / 7, current_mA: 2 }));
    for (const s of many) a.append(s);
    a.close();
    expect(a.writes).toBeGreaterThan(1);
    expect(new StateStore(dir).load().journal).toEqual(many.map(norm));
  });

  it('on a full disk: the write fails loudly, the segment keeps only whole records, and everything is written once space returns', () => {
    // A real full disk: a 64 KiB tmpfs (root can mount one here; skipped where it cannot).
    const mnt = join(fresh(), 'tiny');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      return;
    }
    try {
      const filler = join(mnt, 'filler');
      writeFileSync(filler, Buffer.alloc(40 * 1024));
      const a = new StateStore(join(mnt, 'state'));
      const all: Sample[] = [];
      let written = 0;
      let failure: unknown = null;
      for (let k = 0; k < 100 && failure === null; k++) {
        for (let i = 0; i < 50; i++) {
          const s = sample(`c${i % 7}`, 1767225600000 + all.length, { voltage_V: all.length / 3, current_mA: 2 });
          all.push(s);
          a.append(s);
        }
        try {
          written += a.flush();
        } catch (e) {
          failure = e;
        }
      }
      expect((failure as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(new StateStore(join(mnt, 'state')).load().journal).toEqual(all.slice(0, written).map(norm));
      rmSync(filler);
      expect(a.flush()).toBe(all.length - written);
      a.close();
      expect(new StateStore(join(mnt, 'state')).load().journal).toEqual(all.map(norm));
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
