import { describe, expect, it } from 'vitest';
import { DeadLetters } from '../../../src/io/mqtt/deadLetters.js';

function setUp(perTopicPerSecond = 10) {
  let now = Date.UTC(2026, 0, 1);
  const sent: Record<string, unknown>[] = [];
  let suppressed = 0;
  const d = new DeadLetters({
    publish: (body) => sent.push(JSON.parse(body) as Record<string, unknown>),
    now: () => now,
    perTopicPerSecond,
    onSuppressed: () => suppressed++,
  });
  return { d, sent, suppressed: () => suppressed, advance: (ms: number) => (now += ms) };
}

describe('DeadLetters', () => {
  it('publishes one dead letter for a batch message whatever the number of its bad rows, with the payload cut before decoding', () => {
    const { d, sent } = setUp();
    const payload = Buffer.from(JSON.stringify(Array.from({ length: 5461 }, () => ({}))));
    for (let k = 0; k < 5461; k++) d.reject('no-quantity', `batch item ${k + 1} of 5461: no quantity`, 'cells/c1/ec', payload);
    expect(sent).toHaveLength(1);
    expect(String(sent[0]!['payload'])).toHaveLength(1024);
    expect(sent[0]!['detail']).toBe('batch item 1 of 5461: no quantity');
  });

  it('holds back a flood past 10 per second per topic, counts it, and says how many in the next one', () => {
    const { d, sent, suppressed, advance } = setUp();
    for (let k = 0; k < 200; k++) {
      d.reject('malformed', 'not JSON', 'cells/c1/ec', Buffer.from(`x${k}`));
      advance(1);
    }
    expect(sent).toHaveLength(11); // 10 at once, and 1 more earned over the 0.2 s (10/s)
    expect(suppressed()).toBe(189);
    // Another topic has its own allowance.
    d.reject('malformed', 'not JSON', 'cells/c2/ec', Buffer.from('y'));
    expect(sent.at(-1)!['topic']).toBe('cells/c2/ec');
    advance(1000);
    d.reject('malformed', 'not JSON', 'cells/c1/ec', Buffer.from('z'));
    // Each dead letter says how many were held back since the topic's previous one: together, all of them.
    const told = sent.filter((x) => x['topic'] === 'cells/c1/ec').reduce((n, x) => n + Number(x['suppressedBefore'] ?? 0), 0);
    expect(told).toBe(189);
    expect(sent.at(-1)!['suppressedBefore']).toBeGreaterThan(0);
    d.reject('malformed', 'not JSON', 'cells/c1/ec', Buffer.from('w'));
    expect(sent.at(-1)!['suppressedBefore']).toBeUndefined();
  });

  it('forgets the least recently seen topic beyond its limit, so ids made up by a publisher cannot grow it', () => {
    const sent: string[] = [];
    const d = new DeadLetters({ publish: (b) => sent.push(b), now: () => 0, maxTopics: 100 });
    // The first topic uses up its allowance (the clock stands still: nothing is earned back).
    for (let k = 0; k < 11; k++) d.reject('malformed', 'x', 'cells/first/ec', Buffer.from(`${k}`));
    expect(sent).toHaveLength(10);
    // Remembered: still held back.
    d.reject('malformed', 'x', 'cells/first/ec', Buffer.from('a'));
    expect(sent).toHaveLength(10);
    // 100 other topics push it out: it is new again, with a full allowance.
    for (let k = 0; k < 100; k++) d.reject('unknown-cell', 'x', `cells/id-${k}/ec`, Buffer.from('{}'));
    expect(sent).toHaveLength(110);
    d.reject('malformed', 'x', 'cells/first/ec', Buffer.from('b'));
    expect(sent).toHaveLength(111);
  });
});
