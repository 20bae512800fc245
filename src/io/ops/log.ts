/** Logging helpers of the live monitor: secrets scrubbed, repeated rejections rate-limited. */

/** Log lines with every configured secret replaced, whatever a library put in an error message. */
export function scrubbing(log: (m: string) => void, secrets: readonly string[]): (m: string) => void {
  if (secrets.length === 0) return log;
  return (m) => log(secrets.reduce((text, s) => text.split(s).join('***'), m));
}

/** Control characters (a NUL or a newline in a topic) shown as `\u0000` escapes: one log line stays one line. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** The first rejection of a kind is logged at once, later ones as a count at most once a minute. */
export function rateLimitedRejections(log: (m: string) => void, now: () => number): (reason: string, detail: string) => void {
  const seen = new Map<string, { since: number; suppressed: number }>();
  return (reason, raw) => {
    const detail = printable(raw);
    const s = seen.get(reason);
    if (s === undefined) {
      seen.set(reason, { since: now(), suppressed: 0 });
      log(`rejected (${reason}): ${detail}`);
      return;
    }
    s.suppressed++;
    if (now() - s.since >= 60_000) {
      log(`rejected (${reason}): ${s.suppressed} more in the last ${Math.round((now() - s.since) / 1000)} s, e.g. ${detail}`);
      s.since = now();
      s.suppressed = 0;
    }
  };
}
