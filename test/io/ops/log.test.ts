/** The monitor's log: rejections rate-limited per reason, control characters never written raw. */
import { describe, expect, it } from 'vitest';
import { printable, rateLimitedRejections } from '../../../src/io/ops/log.js';

describe('rateLimitedRejections', () => {
  it('logs the first of a kind at once and the rest as a count a minute later, topics with control characters escaped', () => {
    const lines: string[] = [];
    let now = 0;
    const reject = rateLimitedRejections(
      (m) => lines.push(m),
      () => now,
    );
    reject('bad-cell-id', 'topic "cells/nul\u0000x/ec"');
    reject('bad-cell-id', 'topic "cells/a\nb/ec"');
    now = 61_000;
    reject('bad-cell-id', 'topic "cells/tab\there/ec"');
    expect(lines).toEqual([
      'rejected (bad-cell-id): topic "cells/nul\\u0000x/ec"',
      'rejected (bad-cell-id): 2 more in the last 61 s, e.g. topic "cells/tab\\u0009here/ec"',
    ]);
  });

  it('printable leaves text without control characters as it is', () => {
    expect(printable('zürich-🔋 0.5 cm²')).toBe('zürich-🔋 0.5 cm²');
    expect(printable('a\u007fb\r\n')).toBe('a\\u007fb\\u000d\\u000a');
  });
});
