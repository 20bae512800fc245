import { test } from 'vitest';
import { localToUtc_ms, LocalClock, labTime, parseTimeZone, formatZoned } from '../../src/domain/labTime.js';
test('x', () => {
const W = (s:string)=>Date.parse(s+'Z');
const z='Europe/Berlin';
for (const s of ['2025-10-26T01:30:00','2025-10-26T02:30:00','2025-10-26T03:30:00','2025-03-30T02:30:00','2025-03-30T03:30:00','2025-07-01T12:00:00'])
  console.log(s, new Date(localToUtc_ms(z,W(s))).toISOString());
const c=new LocalClock(z);
for (const s of ['2025-10-26T02:59:00','2025-10-26T02:00:00','2025-10-26T02:30:00','2025-10-26T03:00:00']) console.log('clock',s,new Date(c.toUtc(W(s))).toISOString());
console.log(labTime(Date.parse('2023-11-09T13:03:00Z'), Date.parse('2023-11-08T12:00:00Z'), 'Europe/Berlin'));
console.log(labTime(3600e3*5, 0, 'Europe/Berlin'));
for (const z of ['Asia/Tokyo','America/New_York','+05:30','-03:00','utc','asia/tokyo','Asia/Kolkata']) console.log(z, parseTimeZone(z), formatZoned(Date.parse('2025-07-01T00:00:00Z'), parseTimeZone(z)));
try { parseTimeZone('Mars/Olympus') } catch(e) { console.log((e as Error).message) }
});
